package cpu

import (
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// smallImage is the most output pixels of a one-image convolution whose
// pointwise GEMM computes its last columns as dot products
// (gemm.SgemmIndirectDotTail): fewer than two kernel blocks (96), so that
// the direct path never cuts the image into bands of rows on any number
// of workers (a band would keep the kernel's columns and change bits)
// and every tile is the whole image: MobileNetV2's last 1×1 convolution
// (320 → 1280 on 7×7: 49 columns, 48 + 1).
const smallImage = 2 * 48

// dotTail reports whether tile t of the pointwise convolution p, read in
// place, takes gemm.SgemmIndirectDotTail: one image of fewer than
// smallImage output pixels, whole. The choice depends on p alone.
func dotTail(p ops.ConvParams, t directTile) bool {
	return p.N == 1 && p.OutH*p.OutW < smallImage && t.full(p)
}

// pointwiseInto is the GEMM of a pointwise tile read in place, with the
// output pass ep in its epilogue (directForward's into): the kernel's
// SgemmIndirectEpilogue, or the dot columns where dotTail.
func pointwiseInto(p ops.ConvParams, t directTile, m, n, k int, w, in []float32, off []int, c []float32, ldc int, ep gemm.RowEpilogue) {
	if dotTail(p, t) {
		gemm.SgemmIndirectDotTail(m, n, k, w, k, in, off, c, ldc, &ep)
		return
	}
	gemm.SgemmIndirectEpilogue(m, n, k, w, k, in, off, c, ldc, ep)
}
