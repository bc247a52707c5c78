package cpu

// Winograd convolution for 3×3, stride-1 inference convolutions.
//
// F(4,3) along columns: the three taps of each kernel column slide down
// the image, and Winograd's minimal filtering computes four output rows
// of them from six input rows with six products instead of twelve:
//
//	y = Aᵀ·[(G·g) ⊙ (Bᵀ·d)]     d: 6 input rows, g: 3 taps, y: 4 rows
//
// (Lavin & Gray's F(4,3), points 0, ±1, ±2, ∞). The transforms act on
// whole rows, so they are vector loops over columns with no gathers:
//
//   - the input transform writes, for each block of four output rows and
//     each channel c, six transformed rows V_k[c] (Bᵀ·d, k = 0..5) straight
//     from NCHW: rows above or below the image are a zero row, and each
//     transformed row is followed by gw zero columns that serve as the
//     left and right padding of the rows around it (as the direct path's
//     gaps do);
//   - the six products M_k = U_k · V_k are direct convolutions with one
//     kernel row (taps j = 0..2 are the same row shifted by j), run by the
//     indirect GEMM (gemm.SgemmIndirect) with K = 3·C: U_k[oc][c·3+j] is
//     (G·g)_k for kernel column j of (oc, c), transformed once per weight
//     tensor (winoWeightsFor);
//   - the output transform Aᵀ·M makes four rows per block and applies
//     the direct path's epilogue (scale, shift, residual, ReLU/clip) as
//     it stores them into y (winoOutAct: one pass, no row scratch), or
//     writes them to a scratch that its fused 2×2 pool (poolOut) reads.
//
// That is 6·3 = 18 products per four rows and kernel row triple instead
// of 4·9 = 36: half the multiply-adds of the direct convolution, at the
// cost of two transforms (a few adds per value) and the transformed
// products' round trip through the cache. The 2-D F(4×4,3×3)
// (conv_wino2.go) halves the multiply-adds again, for transforms along
// rows as well; winoPick chooses between the three paths per geometry.
// Every multiplier in Bᵀ and Aᵀ is a power of two (the transforms are
// written so), so the vector and Go transforms agree bit for bit, and a
// tile's outputs do not depend on how the batch is cut: results are the
// same on any number of threads.
//
// The error is larger than the direct convolution's (G has entries 1/6,
// 1/12, 1/24, and Aᵀ multiplies by up to 8): the tests bound it by the
// sum of |w|·|x| over each output's taps. QPIPE_WINOGRAD=0 turns the
// Winograd paths off for the direct convolution's numerics,
// QPIPE_WINOGRAD=1d keeps F(4,3) only.

import (
	"bytes"
	"os"
	"runtime"
	"sync"
	"unsafe"
	"weak"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// winoRows is the output rows of one block (F(4,3)); winoIns the input
// rows it reads and the products it makes.
const (
	winoRows = 4
	winoIns  = 6
)

// winoOn is false when the environment sets QPIPE_WINOGRAD=0 (read once,
// at start-up).
var winoOn = os.Getenv("QPIPE_WINOGRAD") != "0"

// wino2On is false when the environment sets QPIPE_WINOGRAD=1d: F(4,3)
// only, for its smaller rounding error (read once, at start-up).
var wino2On = os.Getenv("QPIPE_WINOGRAD") != "1d"

// winoMinC is the fewest input and output channels that take the
// Winograd path: below it the GEMMs are too thin to pay for the
// transforms (a first layer with C = 1..3 stays direct).
const winoMinC = 8

// winoOK reports whether the Winograd path applies to p's inference
// forward: a 3×3, stride-1, undilated, ungrouped convolution with padding up to 2
// and enough channels, where the direct path runs (AVX-512).
func winoOK(p ops.ConvParams) bool {
	return winoOn && directOK(p) && p.KH == 3 && p.KW == 3 &&
		p.StrideH == 1 && p.StrideW == 1 && p.DilH == 1 && p.DilW == 1 &&
		p.PadH <= 2 && p.PadW <= 2 && p.C >= winoMinC && p.OutC >= winoMinC &&
		p.OutH > 0 && p.OutW > 0
}

// winoKind is a convolution's path: direct, Winograd F(4,3) along
// columns, F(4×4,3×3) in 2-D (conv_wino2.go), or F(2×2,3×3) for a lone
// 8×8 or 16×16 image (conv_wino22.go).
type winoKind uint8

const (
	winoNone winoKind = iota
	wino1D
	wino2D
	wino22
)

// useWino reports whether p's inference forward takes a Winograd path:
// it applies (winoOK) and is expected to win (winoKindFor).
func (b *Backend) useWino(p ops.ConvParams) bool { return winoOK(p) && winoKindFor(p) != winoNone }

// winoChoice caches winoPick per geometry (it cuts every path's tiles,
// a few allocations per convolution per forward otherwise).
var winoChoice sync.Map // ops.ConvParams → winoKind

// winoKindFor is winoPick(p), computed once per geometry.
func winoKindFor(p ops.ConvParams) winoKind {
	if v, ok := winoChoice.Load(p); ok {
		return v.(winoKind)
	}
	k := winoPick(p)
	winoChoice.Store(p, k)
	return k
}

// idxMR and idxNR are the indirect GEMM kernel's register tile (gemm's
// AVX-512 9×48), the unit of winoWins' cost model.
const idxMR, idxNR = 9, 48

// winoPick returns the path expected to be fastest for p (winoNone when
// none beats the direct one). All four run the same indirect GEMM
// kernel, so each is costed as its kernel calls times their depth over
// the tiles it would cut (a call's cost barely depends on how many of its
// 9 rows and 48 columns are used): F(4,3) makes six products of depth 3·C
// where the direct path makes one of depth 9·C, over 4× fewer columns;
// F(4×4,3×3) makes 36 of depth C over 16× fewer columns (one per 4×4
// tile), so with few columns (a small image at batch 1) they save
// nothing. F(4,3)'s transforms cost it 1.1 + 4/C times its GEMMs
// (measured on resnet20's and the cnn's layers: 1.38 at C = 16, about 1.1
// at 32 and 64); F(4×4,3×3)'s cost is wino2Cost's.
// The tiles are those of one worker whatever b has, so the choice, and
// with it every output bit, is the same on any number of workers.
// F(2×2,3×3) is taken wherever it applies (wino22OK: a lone 8×8 or 16×16
// image with small weights), as measured in the model
// (BenchmarkWino22InModel).
func winoPick(p ops.ConvParams) winoKind {
	if wino22OK(p) {
		return wino22
	}
	one := &Backend{w: &workers{n: 1}} // only its worker count is read
	g, g2, dg := newWinoGeom(p), newWino2Geom(p), directGeomFor(p)
	var wino, wino2, direct float64
	for _, t := range one.winoTiles(g) {
		wino += float64(winoIns * idxCalls(t.oc1-t.oc0, g.cols(t)) * 3 * p.C)
	}
	for _, t := range one.wino2Tiles(g2) {
		wino2 += float64(wino2Prods * idxCalls(t.oc1-t.oc0, g2.cols(t)) * (p.C + wino2CallDepth))
	}
	for _, t := range one.directTiles(dg) {
		direct += float64(dg.gemmCalls(t) * 9 * p.C)
	}
	wino *= 1.1 + 4/float64(p.C)
	wino2 = wino2Cost(p, wino2)
	switch {
	case wino2On && wino2 < min(wino, direct) && p.OutH >= wino2MinSide && p.OutW >= wino2MinSide:
		return wino2D
	case wino < direct:
		return wino1D
	}
	return winoNone
}

// wino2MinSide is the smallest output side F(4×4,3×3) is picked for.
// Below it an image makes at most 2×2 tiles, and the 2-D path stops
// gaining from a second worker: resnet20's 64-channel 8×8 layer at batch
// 64 (BenchmarkWinoConv, five alternations, load 1.6) took 0.80 ms
// against F(4,3)'s 1.04 on one worker but 0.71 against 0.64 on two, and
// the whole resnet20 b64 forward on two threads 15.8 against 14.4 ms
// (ConvNetInfer, four alternations of QPIPE_WINOGRAD=1d). The choice has
// to be the same on any worker count (the bits depend on it), so it
// follows the multi-worker figure.
const wino2MinSide = 12

// idxCalls is the indirect GEMM kernel calls of an m×n product.
func idxCalls(m, n int) int { return ((m + idxMR - 1) / idxMR) * ((n + idxNR - 1) / idxNR) }

// wino2CallDepth is what one call of the GEMM kernel costs over its
// depth, in multiply-add steps (loading and storing its 9×48 tile): it
// weighs on F(4×4,3×3), whose GEMMs are only C deep.
const wino2CallDepth = 9

// wino2Cost is F(4×4,3×3)'s cost in winoPick's units from its GEMMs'
// calls × (depth + wino2CallDepth): 0.69 of them (its short GEMMs stream
// their operands well) plus a fifth of a unit per input and output
// value for the transforms, fitted to BenchmarkWinoConv on one worker
// (resnet20's, resnet18's and the cnn's 3×3 layers at batch 1 and 64;
// within 20% of the measured times except resnet20's 8×8 at batch 64 and
// resnet18's 7×7 at batch 1) with a quarter, then lowered to a fifth
// for the whole-model ratios of BenchmarkWino2InModel (resnet20's 16×16
// stage at batch 64 ran in 0.86-0.90× of F(4,3)'s time in the model,
// where a quarter predicted 1.07×; the model overestimates the 2-D
// path on resnet20's other layers too, which stay F(4,3) either way),
// plus wino2WeightCost per transformed
// weight it reads beyond F(4,3)'s (36·C·OutC against 18·C·OutC): in a
// whole model the weights come from memory on every forward, which a
// layer timed alone does not show.
func wino2Cost(p ops.ConvParams, gemms float64) float64 {
	data := float64(p.N * (p.C*p.H*p.W + p.OutC*p.OutH*p.OutW))
	return 0.69*(gemms+0.2*data) + wino2WeightCost*float64((wino2Prods-3*winoIns)*p.C*p.OutC)
}

// wino2WeightCost is winoPick's units per float read from memory (about
// 0.37 ns, 11 GB/s, at 0.0037 µs per unit: what a one-worker unit of the
// direct path's kernel calls × depth measured).
const wino2WeightCost = 0.1

// winoGeom is the layout of one convolution's Winograd tiles.
type winoGeom struct {
	p      ops.ConvParams
	blocks int // blocks of winoRows output rows per image
	gw     int // zero columns before the first row and after each row
	wp     int // row stride of the transformed input and products: W + gw
}

// newWinoGeom lays out p. A tap reads columns PadW to the left and right
// of a row, and an output row's OutW = W + 2·PadW - 2 columns must fit in
// the row stride, hence the gap.
func newWinoGeom(p ops.ConvParams) *winoGeom {
	gw := max(p.PadW, 2*p.PadW-2)
	return &winoGeom{p: p, blocks: (p.OutH + winoRows - 1) / winoRows, gw: gw, wp: p.W + gw}
}

// winoTile is one tile: images n0..n0+cnt, row blocks b0..b1 of each,
// output channels oc0..oc1.
type winoTile struct{ n0, cnt, b0, b1, oc0, oc1 int }

// rows is the transformed rows of one channel (and products of one output
// channel) in the tile.
func (t winoTile) rows() int { return t.cnt * (t.b1 - t.b0) }

// plane is the floats of one transformed channel of the tile.
func (g *winoGeom) plane(t winoTile) int { return g.gw + t.rows()*g.wp }

// cols is the GEMM's column count: output (row r, column ow) of the tile
// is column r·wp + ow.
func (g *winoGeom) cols(t winoTile) int { return (t.rows()-1)*g.wp + g.p.OutW }

// winoTiles cuts p's batch into tiles of about tileBudget floats of
// transformed input and of products each (they stay in the core's L2):
// runs of whole images or bands of row blocks of one image (at batch 1 a
// multiple of the workers' count of them). With fewer images than workers, where the work
// pays for the hand-off, each image is split into one part per worker:
// bands where a band still fills two kernel tiles, else ranges of output
// channels (each part then transforms the whole, small, input).
func (b *Backend) winoTiles(g *winoGeom) []winoTile { return b.winoTilesAs(g, b.winoSplits(g.p)) }

// winoTilesAs is winoTiles with splitsImage's answer for p given (split).
func (b *Backend) winoTilesAs(g *winoGeom, split bool) []winoTile {
	p := g.p
	return b.cutWino(p, g.blocks, winoIns*max(p.C, p.OutC)*g.wp, g.wp, tileBudget, split)
}

// winoSplits is splitsImage for one image of p's Winograd convolution.
func (b *Backend) winoSplits(p ops.ConvParams) bool {
	return b.splitsImage(p.OutC * p.OutH * p.OutW * p.C * 9)
}

// cutWino is winoTiles for a path with blocks row blocks per image, of
// perBlock floats of transformed input or products and blockCols GEMM
// columns each, in tiles of about most floats; split is whether a lone
// image is cut in a part per worker (winoSplits).
func (b *Backend) cutWino(p ops.ConvParams, blocks, perBlock, blockCols, most int, split bool) []winoTile {
	budget := max(1, most/perBlock) // row blocks per tile
	switch {
	case blocks > budget: // bands, as many as the workers share evenly
		nb := b.evenBands(p, budget*winoRows, winoRows)
		return winoBands(p, blocks, (blocks+nb-1)/nb)
	case p.N >= b.w.n:
		var ts []winoTile
		for _, r := range imageRuns(p.N, budget/blocks, b.w.n) {
			ts = append(ts, winoTile{n0: r.n0, cnt: r.cnt, b1: blocks, oc1: p.OutC})
		}
		return ts
	}
	parts := b.w.n
	per := (blocks + parts - 1) / parts
	switch {
	case !split:
		return winoBands(p, blocks, blocks)
	case per*blockCols >= 2*48:
		return winoBands(p, blocks, per)
	}
	var ts []winoTile
	for img := range p.N {
		for k := range parts {
			ts = append(ts, winoTile{n0: img, cnt: 1, b1: blocks, oc0: p.OutC * k / parts, oc1: p.OutC * (k + 1) / parts})
		}
	}
	return ts
}

// winoBands cuts every image of p (blocks row blocks each) into bands of
// per row blocks.
func winoBands(p ops.ConvParams, blocks, per int) []winoTile {
	var ts []winoTile
	for img := range p.N {
		for b0 := 0; b0 < blocks; b0 += per {
			ts = append(ts, winoTile{n0: img, cnt: 1, b0: b0, b1: min(b0+per, blocks), oc1: p.OutC})
		}
	}
	return ts
}

// winoOutFunc writes the outputs of image img (of the tile), channel oc,
// from its products m: product k of row block t.b0 + b at m[k·ms + b·wp:],
// OutW columns. It runs the output transform (winoOut, or winoOutAct
// with the epilogue), with rows (winoRows·wp floats per block) as scratch.
type winoOutFunc func(m []float32, ms int, rows []float32, t winoTile, img, oc int)

// winoForward runs the tiles ts of p's convolution of x with the
// transformed weights u (winoWeightsFor), handing each output plane of a
// tile to out. Scheduling is directForward's: whole tiles per worker from
// a shared counter, or one tile each on the GEMM's spinning workers when
// there are no more tiles than workers.
func (b *Backend) winoForward(g *winoGeom, ts []winoTile, x, u []float32, out winoOutFunc) {
	p := g.p
	j := winoJobs.Get().(*winoJob)
	j.b, j.g, j.ts, j.x, j.u, j.out = b, g, ts, x, u, out
	j.maxIn, j.maxOut, j.maxRows = 0, 0, 0
	for _, t := range ts {
		j.maxIn = max(j.maxIn, winoIns*p.C*g.plane(t))
		j.maxOut = max(j.maxOut, winoIns*(t.oc1-t.oc0)*g.cols(t))
		j.maxRows = max(j.maxRows, winoRows*(t.b1-t.b0)*g.wp)
	}
	b.tilesPut(len(ts), j.fn)
	*j = winoJob{fn: j.fn}
	winoJobs.Put(j)
}

// winoJob is one winoForward call, pooled with its tile function bound
// once (fn, j.tile) like directJob.
type winoJob struct {
	b                      *Backend
	g                      *winoGeom
	ts                     []winoTile
	x, u                   []float32
	out                    winoOutFunc
	maxIn, maxOut, maxRows int
	fn                     func(ti int, st *tileState)
}

var winoJobs = sync.Pool{New: func() any {
	j := &winoJob{}
	j.fn = j.tile
	return j
}}

// tile runs tile ti (winoTile), taking the thread's buffers on its first.
func (j *winoJob) tile(ti int, st *tileState) {
	b := j.b
	if st.col == nil {
		st.col, st.t, st.dcol, st.off = b.tmp.get(st.slot, j.maxIn), b.tmp.get(st.slot, j.maxOut), b.tmp.get(st.slot, j.maxRows), b.tmp.getInts(st.slot, 3*j.g.p.C)
	}
	b.winoTile(j.g, j.ts[ti], j.x, j.u, st, j.out)
}

// winoTile runs one tile: the input transform, the six products and the
// output transform, plane by plane into out.
func (b *Backend) winoTile(g *winoGeom, t winoTile, x, u []float32, st *tileState, out winoOutFunc) {
	p := g.p
	plane, n, K, oc := g.plane(t), g.cols(t), 3*p.C, t.oc1-t.oc0
	v, m := st.col[:winoIns*p.C*plane], st.t[:winoIns*oc*n]
	g.transformIn(t, x, v)
	off := st.off[:K]
	for c := range p.C {
		for j := range 3 {
			off[c*3+j] = c*plane + g.gw + j - p.PadW
		}
	}
	for k := range winoIns {
		gemm.SgemmIndirect(oc, n, K, u[(k*p.OutC+t.oc0)*K:][:oc*K], K, v[k*p.C*plane:][:p.C*plane], off, m[k*oc*n:][:oc*n], n)
	}
	nb := t.b1 - t.b0
	rows := st.dcol[:winoRows*nb*g.wp]
	for img := range t.cnt {
		for o := range oc {
			out(m[o*n+img*nb*g.wp:], oc*n, rows, t, img, t.oc0+o)
		}
	}
}

// transformIn writes the tile's transformed input into v: row r of the
// tile (image r / nb, block b0 + r % nb) of channel c, k-th transform, at
// v[(k·C + c)·plane + gw + r·wp:][:W], with zeros in the gaps. Blocks
// whose six rows lie inside the image are transformed where they lie, in
// one run; a block that reaches above or below the image is transformed
// from its rows one by one, zeros for those outside.
func (g *winoGeom) transformIn(t winoTile, x, v []float32) {
	p := g.p
	plane, hw, nb := g.plane(t), p.H*p.W, t.b1-t.b0
	ks := p.C * plane // stride between the transforms of one channel
	// interior blocks: 4·b - PadH ≥ 0 and 4·b - PadH + 5 < H
	lo := min(max(t.b0, (p.PadH+winoRows-1)/winoRows), t.b1)
	hi := max(min(t.b1, floorDiv(p.H-winoIns+p.PadH, winoRows)+1), lo)
	for c := range p.C {
		for k := range winoIns {
			clear(v[k*ks+c*plane:][:g.gw])
		}
		if hi <= lo {
			continue
		}
		for img := range t.cnt {
			src := x[((t.n0+img)*p.C+c)*hw:][:hw]
			dst := v[c*plane+g.gw+img*nb*g.wp:]
			winoIn(dst[(lo-t.b0)*g.wp:], ks, src[(lo*winoRows-p.PadH)*p.W:], p.W, p.W, g.gw, hi-lo, winoRows*p.W, g.wp)
		}
	}
	for img := range t.cnt { // border blocks: one call per block for all channels
		src := x[(t.n0+img)*p.C*hw:][:p.C*hw]
		dst := v[g.gw+img*nb*g.wp:]
		for bi := t.b0; bi < t.b1; bi++ {
			if bi >= lo && bi < hi {
				continue
			}
			var rows [winoIns][]float32
			for i := range rows {
				if r := bi*winoRows - p.PadH + i; r >= 0 && r < p.H {
					rows[i] = src[r*p.W:]
				}
			}
			winoInRows(dst[(bi-t.b0)*g.wp:], ks, &rows, p.W, g.gw, p.C, hw, plane)
		}
	}
}

// winoInRowsGo is winoInRows in Go.
func winoInRowsGo(dst []float32, dstStride int, src *[6][]float32, n, gw, count, srcStep, dstStep int) {
	buf := make([]float32, winoIns*n)
	for ch := range count {
		for i, r := range src {
			if r != nil {
				copy(buf[i*n:][:n], r[ch*srcStep:][:n])
			}
		}
		winoInGo(dst[ch*dstStep:], dstStride, buf, n, n, gw, 1, 0, 0)
	}
}

// winoInGo is winoIn in Go: the same float32 operations in the same order
// as the vector kernel (every product is by a power of two, so exact).
func winoInGo(dst []float32, dstStride int, src []float32, srcStride, n, gw, blocks, srcStep, dstStep int) {
	for b := range blocks {
		s, d := src[b*srcStep:], dst[b*dstStep:]
		d0, d1, d2 := s[:n], s[srcStride:][:n], s[2*srcStride:][:n]
		d3, d4, d5 := s[3*srcStride:][:n], s[4*srcStride:][:n], s[5*srcStride:][:n]
		for i := range n {
			v := winoIn1(d0[i], d1[i], d2[i], d3[i], d4[i], d5[i])
			for k, x := range v {
				d[k*dstStride+i] = x
			}
		}
		for k := range winoIns {
			clear(d[k*dstStride+n:][:gw])
		}
	}
}

// winoOutGo is winoOut in Go, the vector kernel's operations in order.
func winoOutGo(dst []float32, dstStride int, src []float32, srcStride, n, blocks, srcStep, dstStep int) {
	for b := range blocks {
		s, d := src[b*srcStep:], dst[b*dstStep:]
		for i := range n {
			y := winoOut1(s[i], s[srcStride+i], s[2*srcStride+i], s[3*srcStride+i], s[4*srcStride+i], s[5*srcStride+i])
			for r, x := range y {
				d[r*dstStride+i] = x
			}
		}
	}
}

// winoIn1 is Bᵀ·d for one column of six values, the vector kernels'
// operations in order (every product is by a power of two, so exact).
func winoIn1(d0, d1, d2, d3, d4, d5 float32) [winoIns]float32 {
	e := d4 - d2
	t0 := d4 - float32(4*d2)
	t1 := d3 - float32(4*d1)
	t3 := d3 - d1
	t3 += t3
	return [winoIns]float32{float32(4*(d0-d2)) + e, t0 + t1, t0 - t1, e + t3, e - t3, float32(4*(d1-d3)) + (d5 - d3)}
}

// winoOut1 is Aᵀ·m for one column of six products, the vector kernels'
// operations in order.
func winoOut1(m0, m1, m2, m3, m4, m5 float32) [winoRows]float32 {
	a, b, c, e := m1+m2, m1-m2, m3+m4, m3-m4
	return [winoRows]float32{(m0 + a) + c, b + float32(2*e), a + float32(4*c), (b + float32(8*e)) + m5}
}

// winoWeights transforms w (OutC, C, 3, 3) into the six products'
// matrices: u[(k·OutC + oc)·3C + c·3 + j] = (G·g)_k for kernel column j
// of (oc, c), g = w[oc, c, 0..2, j], computed in float64.
func winoWeights(p ops.ConvParams, w []float32) []float32 {
	K := 3 * p.C
	u := make([]float32, winoIns*p.OutC*K)
	for oc := range p.OutC {
		for c := range p.C {
			for j := range 3 {
				at := (oc*p.C+c)*9 + j
				gk := winoG(float64(w[at]), float64(w[at+3]), float64(w[at+6]))
				for k, v := range gk {
					u[(k*p.OutC+oc)*K+c*3+j] = float32(v)
				}
			}
		}
	}
	return u
}

// winoG is G·g for three taps g0..g2, in float64.
func winoG(g0, g1, g2 float64) [winoIns]float64 {
	const sixth, twelfth, twentyFourth = 1.0 / 6, 1.0 / 12, 1.0 / 24
	return [winoIns]float64{g0 / 4, -(g0 + g1 + g2) * sixth, -(g0 - g1 + g2) * sixth,
		g0*twentyFourth + g1*twelfth + g2*sixth, g0*twentyFourth - g1*twelfth + g2*sixth, g2}
}

// winoEntry is a weight tensor's transform and the weights it was made
// from (nil for a frozen tensor's: they cannot change).
type winoEntry struct {
	src []byte // the weights' bits
	u   []float32
}

// winoCache holds each weight tensor's transforms, keyed by the tensor
// (weakly: an entry goes when its tensor is collected) and the path. An
// entry is used only while the tensor holds the same bits it was made
// from, so weights changed in place (training, SetParam) are transformed
// again; a frozen model's weights (ops.Tensor.Frozen) never change, and
// their entries are used without that comparison.
var winoCache sync.Map // winoKey → *winoEntry

// winoKey is a weight tensor and the path its transform is for.
type winoKey struct {
	w    weak.Pointer[ops.Tensor]
	kind winoKind
}

// floatBytes is the bytes of s.
func floatBytes(s []float32) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 4*len(s))
}

// winoWeightsFor returns w's transform for the path kind (winoWeights,
// winoWeights2) from the cache: for a frozen tensor whenever there is
// one, for any other while w still holds the weights it was made from
// (compared on the workers: sameBytes).
func (b *Backend) winoWeightsFor(p ops.ConvParams, w *ops.Tensor, kind winoKind) []float32 {
	key := winoKey{weak.Make(w), kind}
	raw := floatBytes(w.Data[:p.OutC*p.C*9])
	if v, ok := winoCache.Load(key); ok {
		if e := v.(*winoEntry); w.Frozen() || b.sameBytes(e.src, raw) {
			return e.u
		}
	}
	transform := winoWeights
	switch kind {
	case wino2D:
		transform = winoWeights2
	case wino22:
		transform = winoWeights22
	}
	e := &winoEntry{u: transform(p, w.Data)}
	if !w.Frozen() {
		e.src = bytes.Clone(raw)
	}
	if _, loaded := winoCache.Swap(key, e); !loaded {
		runtime.AddCleanup(w, func(k winoKey) { winoCache.Delete(k) }, key)
	}
	return e.u
}

// winoRun runs p's convolution of x with w on the Winograd path kind
// (wino2D, else F(4,3)), each tile's output planes going to out through
// the output geometry it is given first.
func (b *Backend) winoRun(kind winoKind, p ops.ConvParams, x, w *ops.Tensor, out func(g *winoGeom) winoOutFunc) {
	l := b.winoLayoutFor(kind, p)
	if kind == wino2D {
		b.wino2Forward(l.g2, l.ts, x.Data, b.winoWeightsFor(p, w, wino2D), out(l.g2.row))
		return
	}
	b.winoForward(l.g, l.ts, x.Data, b.winoWeightsFor(p, w, wino1D), out(l.g))
}

// winoLayout is a convolution's Winograd geometry (g for F(4,3), g2 for
// F(4×4,3×3)) and its tiles on a worker count. The cut depends on nothing
// else but whether a lone image is split (winoSplits, which follows the
// workers' state), so it is made once per geometry, path, worker count
// and that answer, and shared, read only, by every call (winoLayouts):
// resnet20's batch-1 forward made a geometry and a tile list for each of
// its eleven Winograd layers on every forward.
type winoLayout struct {
	g  *winoGeom
	g2 *wino2Geom
	ts []winoTile
}

// winoLayoutKey is a winoLayout's geometry, path, worker count and
// whether a lone image is split.
type winoLayoutKey struct {
	p       ops.ConvParams
	kind    winoKind
	workers int
	split   bool
}

// winoLayouts holds the layouts made so far (winoLayoutKey → *winoLayout),
// one per geometry, batch size and worker count a process runs, like
// winoChoice.
var winoLayouts sync.Map

// winoLayoutFor returns the layout of p's convolution on path kind (wino2D,
// else F(4,3)) on b's workers.
func (b *Backend) winoLayoutFor(kind winoKind, p ops.ConvParams) *winoLayout {
	if kind != wino2D {
		kind = wino1D
	}
	split := b.winoSplits(p)
	key := winoLayoutKey{p: p, kind: kind, workers: b.w.n, split: split}
	if v, ok := winoLayouts.Load(key); ok {
		return v.(*winoLayout)
	}
	l := &winoLayout{}
	if kind == wino2D {
		l.g2 = newWino2Geom(p)
		l.ts = b.wino2TilesAs(l.g2, split)
	} else {
		l.g = newWinoGeom(p)
		l.ts = b.winoTilesAs(l.g, split)
	}
	v, _ := winoLayouts.LoadOrStore(key, l)
	return v.(*winoLayout)
}

// winoKindOf is the path Conv2dFused and Conv2dReLUMaxPool2 take for p
// once useWino(p): the cost model's, F(4,3) where it picked none (the
// tests and benchmarks run the Winograd path on any winoOK geometry).
func winoKindOf(p ops.ConvParams) winoKind {
	if k := winoKindFor(p); k != winoNone {
		return k
	}
	return wino1D
}

// winoFused is Conv2dFused on the Winograd path (winoOK(p)): the output
// transform applies Conv2dFused's output pass (fusedOut's scale, shift,
// residual and activation) as it stores.
func (b *Backend) winoFused(p ops.ConvParams, x, w, y *ops.Tensor, f ops.ConvFusion) {
	b.winoFusedAs(winoKindOf(p), p, x, w, y, f)
}

// winoFusedAs is winoFused on the Winograd path kind.
func (b *Backend) winoFusedAs(kind winoKind, p ops.ConvParams, x, w, y *ops.Tensor, f ops.ConvFusion) {
	if kind == wino22 {
		b.wino22Fused(p, x, w, y, f)
		return
	}
	fc := getFusedCall(p, y.Data, f)
	b.winoRun(kind, p, x, w, func(g *winoGeom) winoOutFunc {
		fc.wg = g
		return fc.winoFn
	})
	fc.put()
}

// winoOut is winoFusedAs's winoOutFunc on fc.wg.
func (fc *fusedCall) winoOut(m []float32, ms int, rows []float32, t winoTile, img, oc int) {
	p := fc.p
	L := p.OutH * p.OutW
	oh0 := t.b0 * winoRows
	n := min(t.b1*winoRows, p.OutH) - oh0
	at := ((t.n0+img)*p.OutC+oc)*L + oh0*p.OutW
	var res []float32
	if fc.res != nil {
		res = fc.res[at:][:n*p.OutW]
	}
	winoOutFused(fc.wg, m, ms, rows, fc.y[at:][:n*p.OutW], res, n, fc.scale(oc), fc.f.Shift[oc], fc.act)
}

// winoOutFused writes n output rows of one plane into dst from its
// products m (winoOutFunc's layout) with the epilogue act(·scale + shift
// + res): whole blocks of four rows in one pass (winoOutAct), a last
// block cut by the image's bottom edge through rows and directOut.
func winoOutFused(g *winoGeom, m []float32, ms int, rows, dst, res []float32, n int, scale, shift float32, act outAct) {
	ow, full := g.p.OutW, n/winoRows
	if full > 0 {
		var r []float32
		if res != nil {
			r = res[:full*winoRows*ow]
		}
		winoOutAct(dst, ow, m, ms, ow, full, g.wp, winoRows*ow, r, scale, shift, act)
	}
	if left := n - full*winoRows; left > 0 {
		at := full * winoRows * ow
		var r []float32
		if res != nil {
			r = res[at:]
		}
		winoOut(rows, g.wp, m[full*g.wp:], ms, ow, 1, g.wp, winoRows*g.wp)
		directOut(rows, g.wp, dst[at:][:left*ow], r, left, ow, scale, shift, act)
	}
}

// winoOutActGo is winoOutAct in Go: winoOutGo, then directOutGo on each
// row in place (the vector kernel's operations in order).
func winoOutActGo(dst []float32, dstStride int, src []float32, srcStride, n, blocks, srcStep, dstStep int, res []float32, scale, shift float32, act outAct) {
	winoOutGo(dst, dstStride, src, srcStride, n, blocks, srcStep, dstStep)
	for b := range blocks {
		for r := range winoRows {
			at := b*dstStep + r*dstStride
			var rr []float32
			if res != nil {
				rr = res[at:][:n]
			}
			directOutGo(dst[at:], 0, dst[at:][:n], rr, 1, n, scale, shift, act)
		}
	}
}

// winoReLUMaxPool2 is Conv2dReLUMaxPool2 on the Winograd path: each
// block's four rows are pooled straight into y (blocks start on even
// rows).
func (b *Backend) winoReLUMaxPool2(p ops.ConvParams, x, w, bias, y *ops.Tensor) {
	b.winoReLUMaxPool2As(winoKindOf(p), p, x, w, bias, y)
}

// winoReLUMaxPool2As is winoReLUMaxPool2 on the Winograd path kind
// (F(4,3) for F(2×2,3×3), which has no fused pool).
func (b *Backend) winoReLUMaxPool2As(kind winoKind, p ops.ConvParams, x, w, bias, y *ops.Tensor) {
	if kind == wino22 {
		kind = wino1D
	}
	ph, pw := p.OutH/2, p.OutW/2
	b.winoRun(kind, p, x, w, func(g *winoGeom) winoOutFunc {
		return func(m []float32, ms int, rows []float32, t winoTile, img, oc int) {
			r0 := t.b0 * winoRows / 2
			n := min(t.b1*winoRows, 2*ph)/2 - r0 // pooled rows of the band
			if n <= 0 {
				return
			}
			winoOut(rows, g.wp, m, ms, p.OutW, t.b1-t.b0, g.wp, winoRows*g.wp)
			poolOut(rows, g.wp, y.Data[((t.n0+img)*p.OutC+oc)*ph*pw+r0*pw:][:n*pw], n, pw, biasAt(bias, oc))
		}
	})
}
