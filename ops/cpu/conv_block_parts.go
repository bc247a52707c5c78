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
// its channels only) into a partial sum of its own, one worker per part;
// the partial sums are then added in part order with the projection's
// bias and the residual, spread over the workers by output channel where
// there are at least two pieces of 4096 floats (the 14×14 blocks; each
// element's additions are the same in any piece, so the bits do not
// change). The number of parts is fixed, so the bits do
// not depend on the number of workers; they differ from the layers one
// after the other by the order of the projection's sum (the parts' sums
// added at the end) and, on a 7×7 or 14×14 image, by the order of the
// sums of the expansion's and the projection's last columns (one and four
// past the GEMM kernel's 48-column blocks: gemm.SgemmIndirectDotTail
// computes them as dot products instead of mostly idle 16-column tiles).

// blockParts is how many ranges of expanded channels a short block is
// cut into.
const blockParts = 2

// blockPartRows is the fewest output rows a one-image block is banded at.
const blockPartRows = 16

// blockInParts computes the one-image block pl in pl.parts channel ranges.
func (b *Backend) blockInParts(pl *blockPlan) {
	e, d, pr := pl.e, pl.d, pl.pr
	hw, ohw := e.H*e.W, d.OutH*d.OutW
	per := pr.OutC * ohw // floats of one part's projection
	psum := b.tmp.get(callerSlot, pl.parts*per)
	defer b.tmp.put(callerSlot, psum)
	most := (e.OutC + pl.parts - 1) / pl.parts // channels in the largest part
	b.w.ForSlots(pl.parts, 1, func(k0, k1, slot int) {
		ebuf, dbuf := b.tmp.get(slot, most*hw), b.tmp.get(slot, most*ohw)
		defer b.putBufs(slot, ebuf, dbuf)
		off := make([]int, max(e.C, most))
		for k := k0; k < k1; k++ {
			pl.part(k, ebuf, dbuf, psum[k*per:][:per], off)
		}
	})
	// y = (Σ_k psum_k) + bias [+ res], row by row with the vector kernels
	// (each a correctly rounded add, in this order)
	shift, y := pl.pshift, pl.blk.Y.Data[:per]
	inf := float32(math.Inf(1))
	b.w.ForSlots(pr.OutC, max(1, 4096/ohw), func(o0, o1, _ int) {
		for oc := o0; oc < o1; oc++ {
			acc := psum[oc*ohw:][:ohw]
			for k := 1; k < pl.parts; k++ {
				axpy(1, psum[k*per+oc*ohw:][:ohw], acc)
			}
			row := y[oc*ohw:][:ohw]
			biasClipRow(acc, row, shift[oc], -inf, inf)
			if pl.blk.Res != nil {
				axpy(1, pl.blk.Res.Data[oc*ohw:][:ohw], row)
			}
		}
	})
}

// part computes part k of the block (expanded channels c0..c1-1): their
// expansion into ebuf, their depthwise planes into dbuf, and the
// projection's product over them into sum (pr.OutC × OutH·OutW).
func (pl *blockPlan) part(k int, ebuf, dbuf, sum []float32, off []int) {
	blk, e, d, pr := pl.blk, pl.e, pl.d, pl.pr
	c0, c1 := e.OutC*k/pl.parts, e.OutC*(k+1)/pl.parts
	m, hw, ohw := c1-c0, e.H*e.W, d.OutH*d.OutW
	for c := range e.C {
		off[c] = c * hw
	}
	ep := rowEpilogue(pl.ef, c0, c1)
	gemm.SgemmIndirectDotTail(m, hw, e.C, blk.Expand.W.Data[c0*e.C:], e.C, blk.X.Data, off[:e.C], ebuf[:m*hw], hw, &ep)
	for ch := c0; ch < c1; ch++ {
		pl.dw.plane(ebuf[(ch-c0)*hw:][:hw], blk.Depthwise.W.Data[ch*9:][:9], dbuf[(ch-c0)*ohw:][:ohw], biasAt(blk.Depthwise.B, ch), pl.lo, pl.hi)
	}
	for j := range m {
		off[j] = j * ohw
	}
	gemm.SgemmIndirectDotTail(pr.OutC, ohw, m, blk.Project.W.Data[c0:], pr.C, dbuf, off[:m], sum, ohw, nil)
}
