package cpu

import (
	"math"

	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// A block of one image with fewer than blockPartRows output rows
// (MobileNetV2's 14×14 and 7×7 blocks at batch 1), where bands would be
// few and short (each recomputing its neighbours' edge rows of the
// expansion: 2 of 9 in a 7-row band), runs in blockParts ranges of its
// expanded channels instead: each part computes its channels' expansion
// and depthwise planes and their share of the projection (a product over
// its channels only), one worker per part; the first part's product gets
// the projection's bias and the residual, and each later part's is added
// onto the sum before it (blockInParts). The number of parts is fixed, so
// the bits do not depend on the number of workers; they differ from the
// layers one after the other by the order of the projection's sum
// (p_1 + ((p_0 + bias) + res) for two parts, where the layers add the bias
// and the residual to the whole sum) and, on a 7×7 or 14×14 image, by the order of the
// sums of the expansion's and the projection's last columns (one and four
// past the GEMM kernel's 48-column blocks: gemm.SgemmIndirectDotTail
// computes them as dot products instead of mostly idle 16-column tiles).

// blockParts is how many ranges of expanded channels a short block is
// cut into.
const blockParts = 2

// blockPartRows is the fewest output rows a one-image block is banded at.
const blockPartRows = 16

// blockInParts computes the one-image block pl in pl.parts channel ranges.
// Part 0's projection gets the bias and the residual in its GEMM
// epilogue, q_0 = (p_0 + bias) + res; each later part k adds its product
// onto the sum before it, q_k = p_k + q_{k−1}, the last one into y. On one
// worker the parts run in order and part k's GEMM epilogue does that add
// (Res: q_{k−1}; its Shift is −0, so p_k + −0 is p_k, −0 included): no pass
// over the sums after them. On more, part 0 writes q_0 into y, the others
// p_k into sums of their own, and y += p_k follows in part order, spread
// over the workers by output channel where there are at least two pieces
// of 4096 floats. Both are the same correctly rounded adds in the same
// order, so the bits do not depend on the workers.
func (b *Backend) blockInParts(pl *blockPlan) {
	e, d, pr := pl.e, pl.d, pl.pr
	hw, ohw := e.H*e.W, d.OutH*d.OutW
	per := pr.OutC * ohw                       // floats of one part's projection
	most := (e.OutC + pl.parts - 1) / pl.parts // channels in the largest part
	y := pl.blk.Y.Data[:per]
	first := gemm.RowEpilogue{Shift: pl.pshift}
	if pl.blk.Res != nil {
		first.Res = pl.blk.Res.Data[:per]
	}
	if b.w.n == 1 {
		psum := b.tmp.get(callerSlot, 2*per)
		defer b.tmp.put(callerSlot, psum)
		ebuf, dbuf := b.tmp.get(callerSlot, most*hw), b.tmp.get(callerSlot, most*ohw)
		defer b.putBufs(callerSlot, ebuf, dbuf)
		off := b.offs(callerSlot, max(e.C, most))
		defer b.tmp.putInts(callerSlot, off)
		ep := first
		for k := range pl.parts {
			out := y
			if k < pl.parts-1 {
				out = psum[k%2*per:][:per]
			}
			pl.part(k, ebuf, dbuf, out, off, &ep)
			ep = gemm.RowEpilogue{Shift: negZeros(pr.OutC), Res: out}
		}
		return
	}
	psum := b.tmp.get(callerSlot, (pl.parts-1)*per) // part k ≥ 1's product at (k−1)·per
	defer b.tmp.put(callerSlot, psum)
	b.w.ForSlots(pl.parts, 1, func(k0, k1, slot int) {
		ebuf, dbuf := b.tmp.get(slot, most*hw), b.tmp.get(slot, most*ohw)
		defer b.putBufs(slot, ebuf, dbuf)
		off := b.offs(slot, max(e.C, most))
		defer b.tmp.putInts(slot, off)
		for k := k0; k < k1; k++ {
			if k == 0 {
				ep := first
				pl.part(0, ebuf, dbuf, y, off, &ep)
				continue
			}
			pl.part(k, ebuf, dbuf, psum[(k-1)*per:][:per], off, nil)
		}
	})
	b.w.ForSlots(pr.OutC, max(1, 4096/ohw), func(o0, o1, _ int) {
		for oc := o0; oc < o1; oc++ {
			row := y[oc*ohw:][:ohw]
			for k := 1; k < pl.parts; k++ {
				axpy(1, psum[(k-1)*per+oc*ohw:][:ohw], row)
			}
		}
	})
}

// negZeroRow is a row of −0: a Shift that leaves every value as it is.
var negZeroRow = func() []float32 {
	z := make([]float32, 1024)
	for i := range z {
		z[i] = float32(math.Copysign(0, -1))
	}
	return z
}()

// negZeros returns n floats of −0.
func negZeros(n int) []float32 {
	if n <= len(negZeroRow) {
		return negZeroRow[:n]
	}
	z := make([]float32, n)
	copy(z, negZeroRow)
	for i := len(negZeroRow); i < n; i++ {
		z[i] = negZeroRow[0]
	}
	return z
}

// part computes part k of the block (expanded channels c0..c1-1): their
// expansion into ebuf, their depthwise planes into dbuf, and the
// projection's product over them into sum (pr.OutC × OutH·OutW), with
// the epilogue ep where it is not nil.
func (pl *blockPlan) part(k int, ebuf, dbuf, sum []float32, off []int, ep *gemm.RowEpilogue) {
	blk, e, d, pr := pl.blk, pl.e, pl.d, pl.pr
	c0, c1 := e.OutC*k/pl.parts, e.OutC*(k+1)/pl.parts
	m, hw, ohw := c1-c0, e.H*e.W, d.OutH*d.OutW
	for c := range e.C {
		off[c] = c * hw
	}
	ee := rowEpilogue(pl.ef, c0, c1)
	gemm.SgemmIndirectDotTail(m, hw, e.C, blk.Expand.W.Data[c0*e.C:], e.C, blk.X.Data, off[:e.C], ebuf[:m*hw], hw, &ee)
	for ch := c0; ch < c1; ch++ {
		pl.dw.plane(ebuf[(ch-c0)*hw:][:hw], blk.Depthwise.W.Data[ch*9:][:9], dbuf[(ch-c0)*ohw:][:ohw], biasAt(blk.Depthwise.B, ch), pl.lo, pl.hi)
	}
	for j := range m {
		off[j] = j * ohw
	}
	gemm.SgemmIndirectDotTail(pr.OutC, ohw, m, blk.Project.W.Data[c0:], pr.C, dbuf, off[:m], sum, ohw, ep)
}
