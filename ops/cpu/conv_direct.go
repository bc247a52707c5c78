package cpu

// Direct (implicit-GEMM) convolution forward for inference.
//
// im2col writes C·KH·KW copies of the input that the GEMM then packs a
// second time; with few output channels (16..64) those copies cost as much
// as the multiply-adds. Here the input of a tile is copied once into a
// layout where every kernel tap is the same picture shifted by a constant,
// and gemm.SgemmIndirect reads B's row (c, i, j) straight from it at that
// offset:
//
//   - each input row is followed by gw zero columns and each image by gh
//     zero rows (gw, gh ≥ the padding), so a tap that falls off the left
//     edge of a row reads the previous row's gap, one off the top reads the
//     gap rows above: the padding is shared by neighbouring rows and images;
//   - a stride s is split into s·s phase planes (rows ≡ a, columns ≡ b mod
//     s), so a strided tap is again a shift inside one phase plane.
//
// Output (img, oh, ow) is column img·rowsPer·wp + (oh-oh0)·wp + ow of the
// GEMM; the columns ow ≥ OW (gap positions) are computed and dropped. A
// tile is a run of whole images, a band of output rows of one image (the
// rows its taps reach above and below are copied with it) or, for a small
// lone image, a range of output channels; batch 1 spreads over the workers
// with one hand-off per convolution. A 1×1 stride-1 unpadded convolution
// needs no gaps and reads one image's channels where they lie.

import (
	"math"
	"sync"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// directGeom is the layout of one convolution's direct tiles.
type directGeom struct {
	p        ops.ConvParams
	hq, wq   int   // phase plane rows and columns per image: ceil(H/sH), ceil(W/sW)
	gh, gw   int   // zero rows after each image, zero columns after each row
	top, bot int   // rows a tap reaches above and below its output row
	wp       int   // row stride: wq + gw
	phases   int   // sH·sW phases per channel (sH row phases with taps)
	slot     []int // phase a·sW+b → its plane among a channel's used ones, -1 unused (with taps: row phase a → its rank)
	taps     bool  // the gapless layout: a plane per row phase and kernel column (conv_direct_taps.go)
	used     int   // phase planes per channel that some tap reads
	offBase  []int // tap k's offset inside its plane (tile-independent)
	planeIdx []int // tap k's plane: channel·used + its phase's slot
}

// floorDiv is ⌊a/b⌋ for b > 0 and any a.
func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// gapFor returns the zero gap one dimension needs (size x, padding pad,
// kernel k, dilation d, stride s, output o): a tap of output oh reads
// phase row (or column) oh+δ, δ from -before to after, so the gap covers
// the reads before the data and past its end (and the outputs fit a row).
func gapFor(x, pad, k, d, s, o int) (phaseLen, gap, before, after int) {
	phaseLen = (x + s - 1) / s
	before = max(0, -floorDiv(-pad, s))
	after = max(0, floorDiv((k-1)*d-pad, s))
	below := max(0, o-1+after-(phaseLen-1))
	gap = max(before, below, o-phaseLen)
	return phaseLen, gap, before, after
}

// geomCache holds each geometry's layout (a few hundred bytes of tap
// offsets) by its parameters without the batch size, so a batch-1 forward
// does not rebuild it, and under the full parameters the geometry of each
// batch size seen: a copy of the first that shares its offset tables
// (about a hundred bytes), so a forward takes its geometries without
// allocating.
var geomCache sync.Map // ops.ConvParams → *directGeom

// directGeomFor returns p's layout, from the cache when it has been built
// before (geometries and their shared offset tables are never modified
// after that).
func directGeomFor(p ops.ConvParams) *directGeom {
	if v, ok := geomCache.Load(p); ok {
		return v.(*directGeom)
	}
	key := p
	if p.N > 1 { // one layout for every batch; a lone image's may differ (tapsPay: its dot columns)
		key.N = 0
	}
	v, ok := geomCache.Load(key)
	if !ok {
		v, _ = geomCache.LoadOrStore(key, newDirectGeom(key))
	}
	g := *v.(*directGeom)
	g.p = p
	v, _ = geomCache.LoadOrStore(p, &g)
	return v.(*directGeom)
}

// newDirectGeom lays out p's direct convolution: in column phases, or, for
// a column stride of 2 or more, without gap columns (newTapGeom).
func newDirectGeom(p ops.ConvParams) *directGeom {
	if p.StrideW >= 2 {
		return newTapGeom(p)
	}
	if g := newPhaseGeom(p); !tapsPay(g) {
		return g
	}
	return newTapGeom(p)
}

// newPhaseGeom lays out p's direct convolution in phase planes with gaps.
func newPhaseGeom(p ops.ConvParams) *directGeom {
	g := &directGeom{p: p, phases: p.StrideH * p.StrideW}
	g.hq, g.gh, g.top, g.bot = gapFor(p.H, p.PadH, p.KH, p.DilH, p.StrideH, p.OutH)
	g.wq, g.gw, _, _ = gapFor(p.W, p.PadW, p.KW, p.DilW, p.StrideW, p.OutW)
	g.wp = g.wq + g.gw
	taps := p.KH * p.KW
	g.offBase, g.planeIdx = make([]int, p.C*taps), make([]int, p.C*taps)
	for c := range p.C {
		for i := range p.KH {
			ri := i*p.DilH - p.PadH
			a, di := ri-floorDiv(ri, p.StrideH)*p.StrideH, floorDiv(ri, p.StrideH)
			for j := range p.KW {
				cj := j*p.DilW - p.PadW
				b, dj := cj-floorDiv(cj, p.StrideW)*p.StrideW, floorDiv(cj, p.StrideW)
				k := (c*p.KH+i)*p.KW + j
				g.planeIdx[k] = a*p.StrideW + b // a phase for now
				g.offBase[k] = (g.top+di)*g.wp + g.gw + dj
			}
		}
	}
	g.slot = make([]int, g.phases)
	for i := range g.slot {
		g.slot[i] = -1
	}
	for _, ph := range g.planeIdx[:taps] {
		if g.slot[ph] < 0 {
			g.slot[ph] = 0
		}
	}
	for i, s := range g.slot {
		if s == 0 {
			g.slot[i] = g.used
			g.used++
		}
	}
	for k, ph := range g.planeIdx {
		g.planeIdx[k] = (k/taps)*g.used + g.slot[ph]
	}
	return g
}

// inPlace reports whether tile t reads its image where it lies: a 1×1
// stride-1 unpadded convolution of one image needs no gaps, so channel c
// of the image is B's row c as it is.
func (g *directGeom) inPlace(t directTile) bool { return t.cnt == 1 && g.pointwise() }

// pointwise reports whether the convolution is 1×1, stride 1, unpadded.
func (g *directGeom) pointwise() bool {
	p := g.p
	return p.KH == 1 && p.KW == 1 && p.StrideH == 1 && p.StrideW == 1 && p.PadH == 0 && p.PadW == 0
}

// directTile is one tile: images n0..n0+cnt, output rows oh0..oh1,
// output channels oc0..oc1.
type directTile struct{ n0, cnt, oh0, oh1, oc0, oc1 int }

// full reports whether the tile covers whole images.
func (t directTile) full(p ops.ConvParams) bool { return t.oh0 == 0 && t.oh1 == p.OutH }

// rows returns the plane rows per image of a tile and the zero rows after
// its last image. Whole images hold their hq rows and gh gap rows each
// (phase row u of an image at u+top: the gap rows serve the image below
// and above); a band holds its output rows and the rows its taps reach.
func (g *directGeom) rows(t directTile) (rowsPer, extra int) {
	if t.full(g.p) && t.cnt > 1 {
		return g.hq + g.gh, g.top
	}
	return t.oh1 - t.oh0 + g.top + g.bot, 0
}

// planeLen is the floats of one phase plane of the tile.
func (g *directGeom) planeLen(t directTile) int {
	rowsPer, extra := g.rows(t)
	return 2*g.gw + (t.cnt*rowsPer+extra)*g.wp
}

// cols is the GEMM's column count for the tile.
func (g *directGeom) cols(t directTile) int {
	rowsPer, _ := g.rows(t)
	return (t.cnt-1)*rowsPer*g.wp + (t.oh1-t.oh0-1)*g.wp + g.p.OutW
}

// fill copies the tile's input into buf (planeLen floats per phase plane
// in use) and writes the tap offsets into it to off (C·KH·KW entries).
func (g *directGeom) fill(t directTile, x, buf []float32, off []int) {
	if g.taps {
		g.fillTaps(t, x, buf)
	} else {
		g.fillPhases(t, x, buf)
	}
	plane := g.planeLen(t)
	for k, b := range g.offBase {
		off[k] = g.planeIdx[k]*plane + b
	}
}

// fillPhases is fill for the column phases. A stride-2 row's two column
// phases, when both are in use, are written from one read of its rows
// (fillRowsPair).
func (g *directGeom) fillPhases(t directTile, x, buf []float32) {
	p := g.p
	plane := g.planeLen(t)
	for c := range p.C {
		for ph, slot := range g.slot {
			if slot < 0 {
				continue
			}
			a, bb := ph/p.StrideW, ph%p.StrideW
			dst := buf[(c*g.used+slot)*plane:][:plane]
			if p.StrideW == 2 && bb == 0 && g.slot[ph+1] >= 0 {
				g.fillPlanes(t, x, c, a, 0, dst, buf[(c*g.used+g.slot[ph+1])*plane:][:plane])
			} else if p.StrideW != 2 || bb == 0 || g.slot[ph-1] < 0 {
				g.fillPlanes(t, x, c, a, bb, dst, nil) // an odd phase whose even one is in use was written with it
			}
		}
	}
}

// fillPlanes writes channel c's phase plane of row phase a and column
// phase bb into dst and, when dst1 is not nil (stride 2, bb 0), the plane
// of column phase 1 of the same rows into dst1: the tile's images end to
// end, rows outside the image and the gaps zero.
func (g *directGeom) fillPlanes(t directTile, x []float32, c, a, bb int, dst, dst1 []float32) {
	p := g.p
	rowsPer, extra := g.rows(t)
	uLo := t.oh0 - g.top
	hqa := (p.H - a + p.StrideH - 1) / p.StrideH // phase rows with data
	// edges zeroes the gaps around the images in plane d and returns its rows
	edges := func(d []float32) []float32 {
		clear(d[:g.gw])
		clear(d[len(d)-g.gw:])
		r := d[g.gw:]
		clear(r[t.cnt*rowsPer*g.wp:][:extra*g.wp])
		return r
	}
	rows, rows1 := edges(dst), []float32(nil)
	if dst1 != nil {
		rows1 = edges(dst1)
	}
	for img := range t.cnt {
		r0 := img * rowsPer
		u0, u1 := max(uLo, 0), min(uLo+rowsPer, hqa)
		if u1 <= u0 {
			clear(rows[r0*g.wp : (r0+rowsPer)*g.wp])
			if rows1 != nil {
				clear(rows1[r0*g.wp : (r0+rowsPer)*g.wp])
			}
			continue
		}
		d0, d1 := r0+u0-uLo, r0+u1-uLo // plane rows holding data
		src := x[(((t.n0+img)*p.C+c)*p.H+u0*p.StrideH+a)*p.W:]
		lds := p.StrideH * p.W
		clear(rows[r0*g.wp : d0*g.wp])
		clear(rows[d1*g.wp : (r0+rowsPer)*g.wp])
		if rows1 == nil {
			if wr := p.W - bb; wr > 0 {
				fillRows(src[bb:], lds, rows[d0*g.wp:d1*g.wp], g.wp, d1-d0, wr, p.StrideW)
			} else {
				clear(rows[d0*g.wp : d1*g.wp])
			}
			continue
		}
		clear(rows1[r0*g.wp : d0*g.wp])
		clear(rows1[d1*g.wp : (r0+rowsPer)*g.wp])
		fillRowsPair(src, lds, rows[d0*g.wp:d1*g.wp], rows1[d0*g.wp:d1*g.wp], g.wp, d1-d0, p.W)
	}
}

// fillRowsPairGo is fillRowsPair in Go: fillRowsGo on each column phase.
func fillRowsPairGo(src []float32, lds int, dst0, dst1 []float32, wp, rows, wr int) {
	fillRowsGo(src, lds, dst0, wp, rows, wr, 2)
	if wr > 1 {
		fillRowsGo(src[1:], lds, dst1, wp, rows, wr-1, 2)
	} else {
		fillRowsGo(src, lds, dst1, wp, rows, 0, 2)
	}
}

// fillRowsGo is fillRows in Go.
func fillRowsGo(src []float32, lds int, dst []float32, wp, rows, wr, s int) {
	for r := range rows {
		row := dst[r*wp:][:wp]
		v := 0
		if wr > 0 {
			in := src[r*lds:]
			for ; v < wp && v*s < wr; v++ {
				row[v] = in[v*s]
			}
		}
		clear(row[v:])
	}
}

// directOK reports whether p's forward takes the direct path: ungrouped
// (grouped and depthwise convolutions have kernels of their own) on a CPU
// with the indirect GEMM kernel.
func directOK(p ops.ConvParams) bool {
	return p.Groups == 1 && gemm.IndirectNative()
}

// directTiles cuts p's batch into tiles of about tileBudget/2 floats of
// input and output each (so a tile's copy and GEMM result stay in the
// core's cache): runs of whole images, or even bands of output rows of an
// image larger than that, as many as the workers share evenly. With fewer
// images than workers a small image is split into one part per worker
// where the work pays for the hand-off: bands of rows where a band still
// fills two kernel tiles, else ranges of output channels (each part then
// copies the whole, small, input).
func (b *Backend) directTiles(g *directGeom) []directTile { return b.directTilesAligned(g, 1) }

// bandBudget is the most output rows of one image a tile holds: images
// with more rows (and their gaps) are cut into bands.
func (b *Backend) bandBudget(g *directGeom) int {
	perRow := max(g.p.C*g.used, g.p.OutC) * g.wp // floats per output row, in or out
	return (tileBudget / 2) / max(perRow, 1)
}

// directTilesAligned is directTiles with bands starting at multiples of
// align rows (2 for a fused 2×2 pool). For fewer images than workers it
// takes ranges of output channels instead of bands where they cost the
// kernel less (kernelCost): a 14×14 image in two bands of 7 rows makes
// two 98-column products, three 48-column blocks each of which the last
// is nearly empty, where two halves of the channels make 196 columns in
// five blocks (resnet18's 14×14 3×3 convolutions and mobilenet_v2's
// 14×14 and 28×28 pointwise ones: 20% less work in all).
func (b *Backend) directTilesAligned(g *directGeom, align int) []directTile {
	ts := b.directCut(g, align)
	if g.p.N < b.w.n {
		if oc := g.channelParts(b.w.n); oc != nil && g.kernelCost(oc) < g.kernelCost(ts) {
			return oc
		}
	}
	return ts
}

// fillWeight is what copying one input float into a tile's layout costs,
// in multiply-adds of the kernel.
const fillWeight = 2

// kernelCost estimates the work of tiles ts in units of one kernel block
// (48 columns, one output row, the full depth K): the blocks each tile's
// columns make, partial ones counted whole, times its output channels,
// plus the copy of its input.
func (g *directGeom) kernelCost(ts []directTile) int {
	p := g.p
	_, nr := gemm.IndirectTile()
	K := p.C * p.KH * p.KW
	cost := 0
	for _, t := range ts {
		cost += (g.cols(t) + nr - 1) / nr * (t.oc1 - t.oc0) * nr * K
		if !g.inPlace(t) {
			cost += p.C * g.used * g.planeLen(t) * fillWeight
		}
	}
	return cost / max(nr*K, 1)
}

// channelParts cuts each image into parts ranges of output channels,
// or returns nil where a part would be too thin for the kernel's row
// tiles (under one and a half) or its input copy or GEMM result larger
// than a tile's budget (the cache a band keeps to).
func (g *directGeom) channelParts(parts int) []directTile {
	p := g.p
	mr, _ := gemm.IndirectTile()
	whole := directTile{cnt: 1, oh1: p.OutH, oc1: p.OutC}
	in := p.C * g.used * g.planeLen(whole)
	if g.inPlace(whole) {
		in = 0
	}
	if p.OutC/parts < mr+mr/2 || p.OutC/parts*g.cols(whole) > tileBudget || in > tileBudget {
		return nil
	}
	return ocParts(p, parts)
}

// ocParts cuts every image of p into parts ranges of output channels.
func ocParts(p ops.ConvParams, parts int) []directTile {
	ts := make([]directTile, 0, p.N*parts)
	for img := range p.N {
		for k := range parts {
			ts = append(ts, directTile{n0: img, cnt: 1, oh1: p.OutH, oc0: p.OutC * k / parts, oc1: p.OutC * (k + 1) / parts})
		}
	}
	return ts
}

// directCut is directTilesAligned's bands, image runs or parts, before
// the comparison with ranges of channels; an image whose tiles take the
// dot columns is never banded (dotTailCut).
func (b *Backend) directCut(g *directGeom, align int) []directTile {
	p := g.p
	if dotTailImage(g) {
		return b.dotTailCut(g)
	}
	perRow := max(p.C*g.used, p.OutC) * g.wp // floats per output row, in or out
	if budget := b.bandBudget(g); g.hq+g.gh > budget {
		rows := max(budget, (2*48+g.wp-1)/g.wp) // two kernel tiles at least
		return cutBands(p, b.evenBands(p, rows, align), align)
	}
	if p.N >= b.w.n && g.pointwise() && p.OutH*p.OutW >= 2*48 {
		return bands(p, p.OutH) // one image per tile, read in place (inPlace)
	}
	if p.N >= b.w.n {
		var ts []directTile
		for _, r := range imageRuns(p.N, (tileBudget/2)/max(perRow*(g.hq+g.gh), 1), b.w.n) {
			ts = append(ts, directTile{n0: r.n0, cnt: r.cnt, oh1: p.OutH, oc1: p.OutC})
		}
		return ts
	}
	parts := b.w.n
	switch {
	case !b.splitsImage(p.OutC * p.OutH * p.OutW * p.C * p.KH * p.KW):
		return bands(p, p.OutH)
	case p.OutH/parts/align*align*g.wp >= 64:
		return cutBands(p, parts, align)
	}
	return ocParts(p, parts)
}

// imageRun is a run of cnt images from n0.
type imageRun struct{ n0, cnt int }

// imageRuns cuts n images into the fewest runs of at most most images
// (at least one each) whose count is a multiple of workers where n allows
// it, all of nearly the same length (64 images at most 24: 21, 21 and 22
// rather than 24, 24 and 16). The workers take equal shares of the runs
// (workers.spread), so an even count gives each the same images: at most
// 5 on 2 workers, 14 runs of 4 or 5 (32 images each) where 13 gave one
// worker 7 runs against the other's 6, and it waited for the last.
func imageRuns(n, most, workers int) []imageRun {
	nt := (n + max(1, most) - 1) / max(1, most)
	for even := nt; even <= n; even++ {
		if even%max(1, workers) == 0 {
			nt = even
			break
		}
	}
	runs := make([]imageRun, 0, nt)
	for i := range nt {
		n0 := n * i / nt
		runs = append(runs, imageRun{n0, n*(i+1)/nt - n0})
	}
	return runs
}

// evenBands returns how many bands each image is cut into so that no
// band has more than rows rows and the workers share the bands evenly:
// the fewest whose total over the batch is a multiple of the workers (112
// rows in bands of at most 17: 8 bands of 14 on 2 workers, where bands of
// 17 rows made 7, 4 on one worker against 3 on the other).
func (b *Backend) evenBands(p ops.ConvParams, rows, align int) int {
	units := (p.OutH + align - 1) / align // bands are whole units of align rows
	most := max(1, rows/align)
	least := (units + most - 1) / most
	for nb := least; nb <= units; nb++ {
		if p.N*nb%b.w.n == 0 {
			return nb
		}
	}
	return least
}

// cutBands cuts every image of p into nb bands of output rows as even as
// align allows (heights differ by at most align rows, the last band
// shorter where align does not divide OutH).
func cutBands(p ops.ConvParams, nb, align int) []directTile {
	units := (p.OutH + align - 1) / align
	nb = max(1, min(nb, units))
	ts := make([]directTile, 0, p.N*nb)
	for img := range p.N {
		for i := range nb {
			oh0, oh1 := units*i/nb*align, min(units*(i+1)/nb*align, p.OutH)
			ts = append(ts, directTile{n0: img, cnt: 1, oh0: oh0, oh1: oh1, oc1: p.OutC})
		}
	}
	return ts
}

// bands cuts every image of p into bands of rows output rows (the last
// one shorter).
func bands(p ops.ConvParams, rows int) []directTile {
	var ts []directTile
	for img := range p.N {
		for oh := 0; oh < p.OutH; oh += rows {
			ts = append(ts, directTile{n0: img, cnt: 1, oh0: oh, oh1: min(oh+rows, p.OutH), oc1: p.OutC})
		}
	}
	return ts
}

// partWork is the multiply-adds of one image's convolution above which it
// is split over the workers. resnet20's stem (3 → 16 channels, 32×32,
// 442K) took two workers 1.39× (median) the time of one when split in
// two bands (BenchmarkResNet20LayersThreads, load 1.3): a part of a few
// microseconds does not pay for handing it over and for the rows the
// other core then reads.
const partWork = 1 << 19

// contendedWork is the multiply-adds below which a lone image's
// convolution stays whole while the pool workers are not getting a core
// (workers.contended): resnet20's and the cnn's batch-1 3×3 layers (2.4M
// and 3.6M), 10-40 µs on one thread. While another engineer's work held
// a core (load 2-2.5), resnet20's batch-1 forward on two threads took a
// median 0.655× main's time with such layers whole (docs/performance.md,
// s9-r20): split, the caller ran both parts itself most of the time.
const contendedWork = 1 << 22

// splitsImage reports whether one image's convolution of macs
// multiply-adds is cut into a part per worker: with more than one worker,
// enough work to pay for the hand-off (partWork), and, for a small one,
// workers that have been taking their parts (contended).
func (b *Backend) splitsImage(macs int) bool {
	return b.w.n > 1 && macs >= partWork && (macs >= contendedWork || !b.w.contended())
}

// directForward runs the forward of tiles ts: each worker takes whole
// tiles (copy, GEMM, out), its own share first (tiles). out writes the
// tile's outputs from its GEMM result t (output channel oc0+r in row r of
// ldc floats; output (img, oh, ow) at column img·stride + (oh-oh0)·wp +
// ow). Where into is not nil and the layout has no gap columns (gapless:
// each image's outputs are contiguous rows of y), the GEMM writes y
// itself instead, image by image, applying the output pass in its
// epilogue (gemmInto).
func (b *Backend) directForward(g *directGeom, ts []directTile, x, w []float32, out func(t []float32, ldc, stride int, tl directTile), into directInto) {
	p := g.p
	j := directJobs.Get().(*directJob)
	j.b, j.g, j.ts, j.x, j.w, j.out, j.into = b, g, ts, x, w, out, into
	j.K, j.maxIn, j.maxOut = p.C*p.KH*p.KW, 1, 0
	for _, t := range ts {
		if !g.inPlace(t) {
			j.maxIn = max(j.maxIn, p.C*g.used*g.planeLen(t))
		}
		j.maxOut = max(j.maxOut, (t.oc1-t.oc0)*g.cols(t))
	}
	b.tilesPut(len(ts), j.fn)
	*j = directJob{fn: j.fn}
	directJobs.Put(j)
}

// directJob is one directForward call: its arguments and buffer sizes,
// with its tile function bound once (fn, j.tile). It is pooled
// (directJobs), so that a call allocates no closure.
type directJob struct {
	b                *Backend
	g                *directGeom
	ts               []directTile
	x, w             []float32
	out              func(t []float32, ldc, stride int, tl directTile)
	into             directInto
	K, maxIn, maxOut int
	fn               func(ti int, st *tileState)
}

var directJobs = sync.Pool{New: func() any {
	j := &directJob{}
	j.fn = j.tile
	return j
}}

// tile runs tile ti: the copy (or B read in place), the GEMM and out, or
// the GEMM into y.
func (j *directJob) tile(ti int, st *tileState) {
	b, g, p, K := j.b, j.g, j.g.p, j.K
	if st.col == nil {
		st.col, st.t, st.off = b.tmp.get(st.slot, j.maxIn), b.tmp.get(st.slot, j.maxOut), b.tmp.getInts(st.slot, K)
	}
	t := j.ts[ti]
	n, m := g.cols(t), t.oc1-t.oc0
	in := st.col[:min(j.maxIn, p.C*g.used*g.planeLen(t))]
	if g.inPlace(t) { // B's row c is channel c of the image, from row oh0
		hw := p.H * p.W
		for c := range p.C {
			st.off[c] = c * hw
		}
		in = j.x[t.n0*p.C*hw+t.oh0*p.W : (t.n0+1)*p.C*hw]
	} else {
		g.fill(t, j.x, in, st.off)
	}
	if j.into != nil && g.gapless() {
		g.gemmInto(t, m, K, j.w[t.oc0*K:], in, st.off, j.into)
		return
	}
	directGemm(g, t, m, n, K, j.w[t.oc0*K:], in, st.off, st.t[:m*n])
	rowsPer, _ := g.rows(t)
	j.out(st.t[:m*n], n, rowsPer*g.wp, t)
}

// gapless reports whether every GEMM column is an output (no gap
// columns: the gapless layout of strided convolutions, 1×1 stride-2
// ones, pointwise ones), so that the GEMM can write y itself.
func (g *directGeom) gapless() bool { return g.wp == g.p.OutW }

// gemmInto is a gapless tile's GEMM writing y through into's epilogue,
// image by image: image i of the tile is the n = (oh1−oh0)·OutW columns
// from i·rowsPer·wp, contiguous in each output channel's plane of y.
func (g *directGeom) gemmInto(t directTile, m, k int, w, in []float32, off []int, into directInto) {
	rowsPer, _ := g.rows(t)
	n := (t.oh1 - t.oh0) * g.p.OutW
	for i := range t.cnt {
		ti := t
		ti.n0, ti.cnt = t.n0+i, 1
		c, ldc, ep := into(ti)
		pointwiseInto(g, ti, m, n, k, w, in[i*rowsPer*g.wp:], off, c, ldc, ep)
	}
}

// directInto returns where the GEMM of a gapless tile of one image writes its
// outputs (row r, output channel oc0+r, at c[r·ldc:]) and the epilogue
// that makes them final.
type directInto func(tl directTile) (c []float32, ldc int, ep gemm.RowEpilogue)

// directRows writes a tile's outputs row by row through row (bias and
// activation), as conv2dRows' im2col path does.
func (g *directGeom) directRows(y []float32, bias *ops.Tensor, row rowFunc) func(t []float32, ldc, stride int, tl directTile) {
	p := g.p
	L := p.OutH * p.OutW
	return func(t []float32, ldc, stride int, tl directTile) {
		for img := range tl.cnt {
			for oc := tl.oc0; oc < tl.oc1; oc++ {
				v := biasAt(bias, oc)
				src := t[(oc-tl.oc0)*ldc+img*stride:]
				dst := y[((tl.n0+img)*p.OutC+oc)*L:][:L]
				for oh := tl.oh0; oh < tl.oh1; oh++ {
					row(src[(oh-tl.oh0)*g.wp:][:p.OutW], dst[oh*p.OutW:][:p.OutW], v)
				}
			}
		}
	}
}

// biasShift is a convolution's bias as Conv2dFused's per-channel shift
// (zeros without a bias).
func biasShift(p ops.ConvParams, bias *ops.Tensor) []float32 {
	shift := make([]float32, p.OutC)
	if bias != nil {
		copy(shift, bias.Data)
	}
	return shift
}

// outAct is the activation of directOut's output pass: a floor lo (ReLU:
// 0) where hasLo, then a ceiling hi where hasHi.
type outAct struct {
	lo, hi       float32
	hasLo, hasHi bool
}

// fusionAct is the output activation of f: its ReLU, then its clip.
func fusionAct(f ops.ConvFusion) outAct {
	a := outAct{hasLo: f.ReLU || f.Clip, hasHi: f.Clip}
	if f.Clip {
		a.lo, a.hi = f.Lo, f.Hi
		if f.ReLU {
			a.lo = max(f.Lo, 0)
		}
	}
	return a
}

// bits is the activation as directOut16's flags: 1 floor, 2 ceiling.
func (a outAct) bits() uint8 {
	var b uint8
	if a.hasLo {
		b |= 1
	}
	if a.hasHi {
		b |= 2
	}
	return b
}

// apply is the activation on one value, as the vector kernel computes it
// (VMAXPS/VMINPS give the bound when o is NaN).
func (a outAct) apply(o float32) float32 {
	if a.hasLo && !(o > a.lo) {
		o = a.lo
	}
	if a.hasHi && !(o < a.hi) {
		o = a.hi
	}
	return o
}

// directOutGo is directOut in Go, with the same fused multiply-add.
func directOutGo(src []float32, lds int, dst, res []float32, rows, cols int, scale, shift float32, act outAct) {
	for r := range rows {
		s, d := src[r*lds:][:cols], dst[r*cols:][:cols]
		for i, v := range s {
			o := float32(math.FMA(float64(v), float64(scale), float64(shift)))
			if res != nil {
				o += res[r*cols+i]
			}
			d[i] = act.apply(o)
		}
	}
}

// Conv2dFused computes y = act(conv(x, w)·scale + shift + res) (see
// ops.ConvFusion) for inference: the direct convolution's output pass
// applies it, or, where the direct path does not run, a pass over the
// output of Conv2dAct's forward for p.
func (b *Backend) Conv2dFused(p ops.ConvParams, x, w, y *ops.Tensor, f ops.ConvFusion) error {
	if b.useWino(p) { // 3×3 stride 1 where it wins: Winograd (conv_wino.go)
		b.winoFused(p, x, w, y, f)
		return nil
	}
	if directOK(p) {
		fc := getFusedCall(p, y.Data, f)
		fc.g = directGeomFor(p)
		b.directForward(fc.g, b.directTiles(fc.g), x.Data, w.Data, fc.outFn, fc.intoFn)
		fc.put()
		return nil
	}
	fo := newFusedOut(p, y.Data, f)
	if _, err := b.Conv2dAct(p, x, w, nil, y, false, false); err != nil { // whichever forward suits p
		return err
	}
	L := p.OutH * p.OutW
	b.parFor(p.N*p.OutC, L, func(q int) {
		oc, plane := q%p.OutC, y.Data[q*L:][:L]
		var r []float32
		if fo.res != nil {
			r = fo.res[q*L:][:L]
		}
		directOut(plane, L, plane, r, 1, L, fo.scale(oc), f.Shift[oc], fo.act)
	})
	return nil
}

// fusedOut is Conv2dFused's output pass into y.
type fusedOut struct {
	p   ops.ConvParams
	y   []float32
	f   ops.ConvFusion
	res []float32 // f.Res's data, nil without one
	act outAct
}

func newFusedOut(p ops.ConvParams, y []float32, f ops.ConvFusion) *fusedOut {
	fo := &fusedOut{p: p, y: y, f: f, act: fusionAct(f)}
	if f.Res != nil {
		fo.res = f.Res.Data
	}
	return fo
}

// scale is output channel oc's scale (1 without a batch norm).
func (fo *fusedOut) scale(oc int) float32 {
	if fo.f.Scale == nil {
		return 1
	}
	return fo.f.Scale[oc]
}

// out is the pass over a tile's GEMM result (directForward's out). Where
// the result's rows have no gap columns (wp = OutW: a 1×1 stride-2
// downsample) each image's rows are one run of columns, passed as one
// row: whole vectors instead of rows of OutW (8 floats at 8×8).
func (fo *fusedOut) out(g *directGeom) func(t []float32, ldc, stride int, tl directTile) {
	return func(t []float32, ldc, stride int, tl directTile) { fo.outTile(g, t, ldc, stride, tl) }
}

// outTile is out(g)'s pass over one tile.
func (fo *fusedOut) outTile(g *directGeom, t []float32, ldc, stride int, tl directTile) {
	p := fo.p
	L := p.OutH * p.OutW
	rows, lds, cols := tl.oh1-tl.oh0, g.wp, p.OutW
	if g.wp == p.OutW {
		rows, lds, cols = 1, rows*p.OutW, rows*p.OutW
	}
	for img := range tl.cnt {
		for oc := tl.oc0; oc < tl.oc1; oc++ {
			at := ((tl.n0+img)*p.OutC+oc)*L + tl.oh0*p.OutW
			var r []float32
			if fo.res != nil {
				r = fo.res[at:][:rows*cols]
			}
			directOut(t[(oc-tl.oc0)*ldc+img*stride:], lds, fo.y[at:][:rows*cols], r, rows, cols, fo.scale(oc), fo.f.Shift[oc], fo.act)
		}
	}
}

// fusedCall is a layer call's fusedOut with its passes bound once: the
// direct path's out (outTile on g) and into, the Winograd path's
// winoOutFunc (winoOut on wg). It is pooled (fusedCalls), so that a
// fused layer allocates none of them (resnet20's batch-1 forward made
// about fifty such objects: the fusedOut, its closures and method values).
type fusedCall struct {
	fusedOut
	g      *directGeom
	wg     *winoGeom
	outFn  func(t []float32, ldc, stride int, tl directTile) // outTile on g
	intoFn directInto                                        // fusedOut.into
	winoFn winoOutFunc                                       // winoOut on wg
}

var fusedCalls = sync.Pool{New: func() any {
	fc := &fusedCall{}
	fc.outFn = func(t []float32, ldc, stride int, tl directTile) { fc.outTile(fc.g, t, ldc, stride, tl) }
	fc.intoFn = fc.into
	fc.winoFn = fc.winoOut
	return fc
}}

// getFusedCall returns a pooled fusedCall for y's output pass f of p.
func getFusedCall(p ops.ConvParams, y []float32, f ops.ConvFusion) *fusedCall {
	fc := fusedCalls.Get().(*fusedCall)
	fc.fusedOut = fusedOut{p: p, y: y, f: f, act: fusionAct(f)}
	if f.Res != nil {
		fc.res = f.Res.Data
	}
	return fc
}

// put returns fc to the pool, holding no tensor.
func (fc *fusedCall) put() {
	fc.fusedOut, fc.g, fc.wg = fusedOut{}, nil, nil
	fusedCalls.Put(fc)
}

// into is the same pass as the GEMM's epilogue for a pointwise tile read
// in place (directForward's into): its rows oh0..oh1 of one image are
// contiguous in every output channel's plane, so the GEMM's row r is
// y's channel oc0+r from row oh0 on, L floats apart.
func (fo *fusedOut) into(tl directTile) ([]float32, int, gemm.RowEpilogue) {
	p := fo.p
	L := p.OutH * p.OutW
	at := (tl.n0*p.OutC+tl.oc0)*L + tl.oh0*p.OutW
	ep := rowEpilogue(fo.f, tl.oc0, tl.oc1)
	if fo.res != nil {
		ep.Res = fo.res[at:]
	}
	return fo.y[at:], L, ep
}

// rowEpilogue is the output pass f (without its residual) as the GEMM
// epilogue of output channels oc0..oc1-1.
func rowEpilogue(f ops.ConvFusion, oc0, oc1 int) gemm.RowEpilogue {
	a := fusionAct(f)
	ep := gemm.RowEpilogue{Shift: f.Shift[oc0:oc1], Lo: a.lo, Hi: a.hi, Floor: a.hasLo, Ceil: a.hasHi}
	if f.Scale != nil {
		ep.Scale = f.Scale[oc0:oc1]
	}
	return ep
}

// conv2dReLUMaxPool2Direct is Conv2dReLUMaxPool2 on the direct path: each
// tile's GEMM result is pooled straight into y (bands start on even rows).
func (b *Backend) conv2dReLUMaxPool2Direct(p ops.ConvParams, x, w, bias, y *ops.Tensor) {
	g := directGeomFor(p)
	pw, ph := p.OutW/2, p.OutH/2
	b.directForward(g, b.directTilesAligned(g, 2), x.Data, w.Data, func(t []float32, ldc, stride int, tl directTile) {
		rows := min(tl.oh1, 2*ph)/2 - tl.oh0/2 // pooled rows of the band
		if rows <= 0 {
			return
		}
		for img := range tl.cnt {
			for oc := tl.oc0; oc < tl.oc1; oc++ {
				dst := y.Data[((tl.n0+img)*p.OutC+oc)*ph*pw+tl.oh0/2*pw:][:rows*pw]
				poolOut(t[(oc-tl.oc0)*ldc+img*stride:], g.wp, dst, rows, pw, biasAt(bias, oc))
			}
		}
	}, nil)
}

// poolOutGo is poolOut in Go.
func poolOutGo(src []float32, lds int, dst []float32, rows, cols int, bias float32) {
	for r := range rows {
		r0, r1 := src[2*r*lds:], src[(2*r+1)*lds:]
		for c := range cols {
			m := max(r0[2*c], r0[2*c+1], r1[2*c], r1[2*c+1])
			dst[r*cols+c] = max(m+bias, 0)
		}
	}
}
