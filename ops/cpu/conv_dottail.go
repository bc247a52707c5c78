package cpu

import (
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// dotTailCols bounds the GEMM columns of a one-image direct convolution
// whose last columns are dot products (gemm.SgemmIndirectDotTail):
// output rows × row stride under 128, so that half the rows never make
// the 64 columns a band needs (directCut) and the direct path keeps the
// image whole on any number of workers: every tile is then the whole
// image and the bits do not depend on the workers. That takes the 7×7
// images: MobileNetV2's last 1×1 convolution (320 → 1280: 49 columns,
// 48 + 1) and resnet18's 1×1 stride-2 downsample onto 7×7 (49); its 3×3
// layers there (55 columns, 48 + 7) are past SgemmIndirectDotTail's four
// columns and keep the kernel (seven dot columns measured 20% slower).
const dotTailCols = 128

// dotTail reports whether tile t of g's convolution takes
// gemm.SgemmIndirectDotTail: one image within dotTailCols, whole. The
// choice depends on the geometry alone.
func dotTail(g *directGeom, t directTile) bool {
	p := g.p
	return p.N == 1 && p.OutH*g.wp < dotTailCols && t.full(p)
}

// directGemm is the GEMM of a direct tile into its result t (m×n, ldc n):
// SgemmIndirect, or the dot columns where dotTail.
func directGemm(g *directGeom, tl directTile, m, n, k int, w, in []float32, off []int, t []float32) {
	if dotTail(g, tl) {
		gemm.SgemmIndirectDotTail(m, n, k, w, k, in, off, t, n, nil)
		return
	}
	gemm.SgemmIndirect(m, n, k, w, k, in, off, t, n)
}

// pointwiseInto is the GEMM of a pointwise tile read in place, with the
// output pass ep in its epilogue (directForward's into): the kernel's
// SgemmIndirectEpilogue, or the dot columns where dotTail.
func pointwiseInto(g *directGeom, tl directTile, m, n, k int, w, in []float32, off []int, c []float32, ldc int, ep gemm.RowEpilogue) {
	if dotTail(g, tl) {
		gemm.SgemmIndirectDotTail(m, n, k, w, k, in, off, c, ldc, &ep)
		return
	}
	gemm.SgemmIndirectEpilogue(m, n, k, w, k, in, off, c, ldc, ep)
}
