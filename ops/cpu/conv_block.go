package cpu

import (
	"sync"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// An inverted residual block (ops.ConvBlock: 1×1 expansion and its clip,
// 3×3 depthwise and its clip, 1×1 projection [+ residual]) runs band of
// output rows by band: for rows r0..r1 of the block's output, the
// expansion computes the input rows the depthwise taps reach (one or two
// more at each inner band edge, computed by both neighbours) into a
// buffer, the depthwise kernel (conv_dw3.go) reads that buffer into a
// second one, and the projection writes y's rows r0..r1 from it. The
// two buffers stay in the core's cache: the expanded activations, six
// times the block's channels, never go to memory. Each band is one
// worker's from start to end. Every output is computed by the same
// kernels with the same operands in the same order as the three
// convolutions one after the other, so the bits are the same. A block of
// one image with few rows runs in parts of its channels instead
// (conv_block_parts.go).
//
// The expansion may also be a clipped convolution the direct path takes
// (MobileNetV2's 3×3 stride-2 stem before its first depthwise one): each
// band then copies the input rows its expansion rows' taps reach into a
// direct tile (conv_direct.go), multiplies it into a tile result and
// writes the clipped rows into the buffer with the layer's output pass,
// so the stem's output (32×112×112 floats) never goes to memory either.

var _ ops.ConvBlockBackend = (*Backend)(nil)

// blockBudget is the floats a band's two buffers may hold together.
const blockBudget = 2 * tileBudget

// blockMinRows is the fewest output rows of a band that a one-image block
// is cut into for more than one worker: such a block is cut into bands of
// about OutH/(piecesPerThread·workers) rows, not the fewest the cache
// budget allows (MobileNetV2's 112×112 block: 8 bands of 14 rows on two
// workers instead of 4 of 28; its 28×28 ones 4 of 7 instead of 2 of 14).
// A pool worker starts a block's loop tens of microseconds after the
// caller, later still when the machine is busy; with one or two bands per
// worker the caller then waits for the worker's last band, with several
// it takes the bands the worker has not reached (workers.spread). Each band
// computes one or two expansion rows more at its edges, so the bands stay
// at least this tall. The outputs are the same bits for any bands.
const blockMinRows = 7

// blockPlan is a ConvBlock cut into bands.
type blockPlan struct {
	blk        ops.ConvBlock
	e, d, pr   ops.ConvParams // expansion, depthwise, projection
	dw         *dw3Plan
	g          *directGeom // a direct (not 1×1) expansion's layout; nil for a 1×1 one
	maxIn      int         // the largest band's direct tile: its input copy
	maxT       int         // and its GEMM result
	lo, hi     float32     // the depthwise clamp
	nb         int         // bands per image
	maxE, maxD int         // the largest band's expansion and depthwise floats
	parts      int         // >0: ranges of expanded channels instead of bands (blockParts)
	// the expansion's output pass and the projection's bias, made once
	// per block rather than per band or part (each was an allocation)
	ef     ops.ConvFusion
	pshift []float32
}

// pointwiseConv reports whether p is a 1×1, stride 1, unpadded, ungrouped
// convolution.
func pointwiseConv(p ops.ConvParams) bool {
	return p.KH == 1 && p.KW == 1 && p.StrideH == 1 && p.StrideW == 1 && p.PadH == 0 && p.PadW == 0 && p.Groups <= 1
}

// fusionOf is the output pass the convolution p with bias and act gets
// on its own (Conv2dEpilogue's), and whether the GEMM epilogue has it.
func fusionOf(p ops.ConvParams, bias *ops.Tensor, act ops.Epilogue) (ops.ConvFusion, bool) {
	f := ops.ConvFusion{Shift: blockShift(p, bias)}
	if act.Kind == ops.EpilogueClip {
		f.Clip, f.Lo, f.Hi = true, act.Lo, act.Hi
	}
	return f, fusible(act)
}

// blockShift is biasShift(p, bias) without its copy, where one is not
// needed: the bias's own floats, or the zero row dw3Zeros where there is
// no bias (the block's epilogues only read a shift). A block's plan is
// made per call, and the copy was an allocation of up to 960 floats for
// each of MobileNetV2's 17 blocks, twice, per forward.
func blockShift(p ops.ConvParams, bias *ops.Tensor) []float32 {
	switch {
	case bias != nil && len(bias.Data) >= p.OutC:
		return bias.Data[:p.OutC:p.OutC]
	case bias == nil && p.OutC <= len(dw3Zeros):
		return dw3Zeros[:p.OutC:p.OutC]
	}
	return biasShift(p, bias)
}

// fusible reports whether the GEMM epilogue has the activation act.
func fusible(act ops.Epilogue) bool {
	return act.Kind == ops.EpilogueNone || act.Kind == ops.EpilogueClip
}

// newBlockPlan returns the band plan of blk, or nil where the block is
// not banded: convolutions other than 1×1 → depthwise 3×3 (stride 1 or 2,
// one output channel per input channel) → 1×1, activations other than
// clips, no indirect GEMM kernel, or fewer bands than workers where the
// expanded activations fit in the cache anyway (the layers one after the
// other spread better over the workers).
func (b *Backend) newBlockPlan(blk ops.ConvBlock) *blockPlan {
	e, d, pr := blk.Expand.P, blk.Depthwise.P, blk.Project.P
	lo, hi, own := clampOf(blk.Depthwise.Act)
	ok := fusible(blk.Expand.Act)
	if blk.Expand.W == nil { // no expansion: the depthwise reads x in place
		e, ok = d, true
	}
	direct := blk.Expand.W != nil && !pointwiseConv(e)
	if !ok || own || !gemm.IndirectNative() || direct && !b.directStem(blk.Expand) || !pointwiseConv(pr) ||
		!depthwise(d) || d.OutC != d.C {
		return nil
	}
	dw := cachedDW3Plan(d)
	if dw == nil {
		return nil
	}
	pl := getBlockPlan()
	*pl = blockPlan{blk: blk, e: e, d: d, pr: pr, dw: dw, lo: lo, hi: hi}
	if direct {
		pl.g = directGeomFor(e)
	}
	s := d.StrideH
	perRow := d.C * (s*d.W + d.OutW) // floats per output row in the two buffers
	most := max(4, (blockBudget-2*d.C*d.W)/max(perRow, 1))
	if d.N == 1 && b.w.n > 1 {
		most = min(most, max(blockMinRows, d.OutH/(piecesPerThread*b.w.n)))
	}
	pl.nb = b.blockBands(d.N, d.OutH, most)
	pl.pshift = blockShift(pr, blk.Project.B)
	if blk.Expand.W != nil {
		pl.ef, _ = fusionOf(e, blk.Expand.B, blk.Expand.Act)
	}
	if d.N == 1 && d.OutH < blockPartRows && blk.Expand.W != nil && !direct { // channel parts instead of short bands
		pl.parts = blockParts
		return pl
	}
	if d.N*pl.nb < b.w.n && e.N*e.OutC*e.OutH*e.OutW <= tileBudget {
		return nil // the layers spread over the workers, and the cache holds their outputs
	}
	if d.N == 1 && d.OutH*d.OutW < dotTailCols {
		return nil // the layers compute their last columns as dot products (dotTail), the bands would not
	}
	for i := range pl.nb {
		r0, r1 := pl.band(i)
		e0, e1 := pl.inRows(r0, r1)
		pl.maxE, pl.maxD = max(pl.maxE, d.C*(e1-e0)*d.W), max(pl.maxD, d.C*(r1-r0)*d.OutW)
		if direct {
			t := pl.expandTile(0, e0, e1)
			pl.maxIn, pl.maxT = max(pl.maxIn, e.C*pl.g.used*pl.g.planeLen(t)), max(pl.maxT, e.OutC*pl.g.cols(t))
		}
	}
	if blk.Expand.W == nil {
		pl.maxE = 0
	}
	return pl
}

// directStem reports whether the expansion stage st, not a 1×1
// convolution, runs in the bands: a clipped convolution that Conv2dEpilogue
// computes on the direct path (ungrouped, not Winograd), whose output pass
// the bands then repeat bit for bit.
func (b *Backend) directStem(st ops.ConvStage) bool {
	return st.Act.Kind == ops.EpilogueClip && directOK(st.P) && !b.useWino(st.P)
}

// blockBands returns how many bands of at least four and at most most
// output rows (of outH) each of n images is cut into: the fewest whose
// total is a multiple of the workers, where one is.
func (b *Backend) blockBands(n, outH, most int) int {
	least, top := (outH+most-1)/most, max(1, outH/4)
	for nb := least; nb <= top; nb++ {
		if n*nb%b.w.n == 0 {
			return nb
		}
	}
	return min(least, top)
}

// band returns band i's output rows r0..r1-1.
func (pl *blockPlan) band(i int) (r0, r1 int) {
	return pl.d.OutH * i / pl.nb, pl.d.OutH * (i + 1) / pl.nb
}

// inRows returns the depthwise input rows e0..e1-1 (inside the plane)
// that output rows r0..r1-1 read.
func (pl *blockPlan) inRows(r0, r1 int) (e0, e1 int) {
	d := pl.d
	return max(0, d.StrideH*r0-d.PadH), min(d.H, d.StrideH*(r1-1)-d.PadH+3)
}

// blockPlans keeps the plans ConvBlock is done with: a plan is made per
// call (the block's tensors change between calls), and a fresh one was an
// allocation of about a kilobyte per block of every forward.
var blockPlans = sync.Pool{New: func() any { return new(blockPlan) }}

// getBlockPlan returns a plan to fill, from blockPlans.
func getBlockPlan() *blockPlan {
	return blockPlans.Get().(*blockPlan)
}

// putBlockPlan clears pl (it holds the block's tensors) and keeps it.
func putBlockPlan(pl *blockPlan) {
	*pl = blockPlan{}
	blockPlans.Put(pl)
}

// ConvBlock computes blk band by band (see blockPlan), or reports false
// where it does not band blk.
func (b *Backend) ConvBlock(blk ops.ConvBlock) (bool, error) {
	pl := b.newBlockPlan(blk)
	if pl == nil {
		return false, nil
	}
	defer putBlockPlan(pl)
	if pl.parts > 0 {
		b.blockInParts(pl)
		return true, nil
	}
	b.w.ForSlots(pl.d.N*pl.nb, 1, func(u0, u1, slot int) {
		var ebuf []float32
		if pl.maxE > 0 {
			ebuf = b.tmp.get(slot, pl.maxE)
		}
		dbuf := b.tmp.get(slot, pl.maxD)
		var tb directBufs
		if pl.g != nil {
			tb = directBufs{in: b.tmp.get(slot, pl.maxIn), t: b.tmp.get(slot, pl.maxT)}
		}
		defer b.putBufs(slot, ebuf, dbuf, tb.in, tb.t)
		off := b.offs(slot, max(pl.e.C*pl.e.KH*pl.e.KW, pl.d.C))
		defer b.tmp.putInts(slot, off)
		for u := u0; u < u1; u++ {
			pl.run(u/pl.nb, u%pl.nb, ebuf, dbuf, tb, off)
		}
	})
	return true, nil
}

// offs is n ints of slot's scratch for a band's or a part's GEMM row
// offsets (a fresh slice per call was an allocation of up to 480 ints per
// worker for each block of a forward); put it back with putInts.
func (b *Backend) offs(slot, n int) []int {
	return b.tmp.getInts(slot, n)
}

// run computes band i of image img: expansion into ebuf (without one the
// depthwise reads x), depthwise into dbuf, projection into y.
func (pl *blockPlan) run(img, i int, ebuf, dbuf []float32, tb directBufs, off []int) {
	blk, e, d, pr := pl.blk, pl.e, pl.d, pl.pr
	r0, r1 := pl.band(i)
	e0, e1 := pl.inRows(r0, r1)
	hw, ne, nd := e.H*e.W, (e1-e0)*d.W, (r1-r0)*d.OutW                               // d.W: the expansion's output width
	in := func(ch int) []float32 { return blk.X.Data[(img*d.C+ch)*hw+e0*e.W:][:ne] } // no expansion
	switch {
	case pl.g != nil:
		pl.expandDirect(img, e0, e1, ebuf, tb, off)
		in = func(ch int) []float32 { return ebuf[ch*ne:][:ne] }
	case blk.Expand.W != nil:
		pl.expand(img, e0, e1, ebuf, off)
		in = func(ch int) []float32 { return ebuf[ch*ne:][:ne] }
	}
	// the depthwise output rows r0..r1-1 (dbuf: channel c at c·nd)
	for ch := range d.C {
		pl.dw.rows(in(ch), blk.Depthwise.W.Data[ch*9:][:9], dbuf[ch*nd:][:nd],
			e1-e0, d.PadH-d.StrideH*r0+e0, r1-r0, biasAt(blk.Depthwise.B, ch), pl.lo, pl.hi)
	}
	// the projection's rows r0..r1-1, into y, as Conv2dFused's pointwise
	// tiles write them
	for c := range pr.C {
		off[c] = c * nd
	}
	fp := ops.ConvFusion{Shift: pl.pshift, Res: blk.Res}
	c, ldc, ep := newFusedOut(pr, blk.Y.Data, fp).into(directTile{n0: img, cnt: 1, oh0: r0, oh1: r1, oc1: pr.OutC})
	gemm.SgemmIndirectEpilogue(pr.OutC, nd, pr.C, blk.Project.W.Data, pr.C, dbuf, off[:pr.C], c, ldc, ep)
}

// expand writes the expansion's rows e0..e1-1 of image img into ebuf
// (channel c at c·(e1−e0)·W), reading x in place, as Conv2dEpilogue's
// pointwise tiles compute them.
func (pl *blockPlan) expand(img, e0, e1 int, ebuf []float32, off []int) {
	blk, e := pl.blk, pl.e
	hw := e.H * e.W
	for c := range e.C {
		off[c] = c * hw
	}
	band := e
	band.N, band.H, band.OutH = 1, e1-e0, e1-e0
	c, ldc, ep := newFusedOut(band, ebuf, pl.ef).into(directTile{cnt: 1, oh1: e1 - e0, oc1: e.OutC})
	gemm.SgemmIndirectEpilogue(e.OutC, (e1-e0)*e.W, e.C, blk.Expand.W.Data, e.C, blk.X.Data[img*e.C*hw+e0*e.W:], off[:e.C], c, ldc, ep)
}

// directBufs are a band's direct expansion tile: its input copy and its
// GEMM result.
type directBufs struct{ in, t []float32 }

// expandTile is the direct tile of the expansion's rows e0..e1-1 of image
// img.
func (pl *blockPlan) expandTile(img, e0, e1 int) directTile {
	return directTile{n0: img, cnt: 1, oh0: e0, oh1: e1, oc1: pl.e.OutC}
}

// expandDirect writes the direct expansion's rows e0..e1-1 of image img
// into ebuf (channel c at c·(e1−e0)·W) as directForward computes that
// tile: its input copy, the GEMM into a tile result, the output pass (in
// the gapless layout, the GEMM into ebuf with the pass in its epilogue).
func (pl *blockPlan) expandDirect(img, e0, e1 int, ebuf []float32, tb directBufs, off []int) {
	blk, e, g := pl.blk, pl.e, pl.g
	K := e.C * e.KH * e.KW
	t := pl.expandTile(img, e0, e1)
	in, n := tb.in[:e.C*g.used*g.planeLen(t)], g.cols(t)
	g.fill(t, blk.X.Data, in, off[:K])
	f := pl.ef
	if g.gapless() { // a strided stem: each channel's rows are one run of ebuf, written by the GEMM's epilogue
		gemm.SgemmIndirectEpilogue(e.OutC, n, K, blk.Expand.W.Data, K, in, off[:K], ebuf, n, rowEpilogue(f, 0, e.OutC))
		return
	}
	gemm.SgemmIndirect(e.OutC, n, K, blk.Expand.W.Data, K, in, off[:K], tb.t[:e.OutC*n], n)
	band := e // the output pass writes the band's rows as a one-image plane of e1−e0 rows
	band.N, band.OutH = 1, e1-e0
	rowsPer, _ := g.rows(t)
	newFusedOut(band, ebuf, f).out(g)(tb.t[:e.OutC*n], n, rowsPer*g.wp, directTile{cnt: 1, oh1: e1 - e0, oc1: e.OutC})
}
