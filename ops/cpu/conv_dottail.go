package cpu

import (
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// dotTailCols bounds the GEMM columns of a one-image direct convolution
// whose last columns are dot products (gemm.SgemmIndirectDotTail):
// output rows × row stride under 128. directCut never cuts such an image
// in bands (dotTailCut: whole, or ranges of output channels), so every
// tile is the whole image and the bits do not depend on the workers.
// That takes the 7×7 images: MobileNetV2's last 1×1 convolution (320 →
// 1280: 49 columns, 48 + 1), resnet18's 1×1 stride-2 downsample onto 7×7
// (49), and its 3×3 layers there, stride 2 and stride 1, in the gapless
// layout (49 columns; conv_direct_taps.go, tapsPay). Five or more columns
// past a block keep the kernel (seven dot columns measured 20% slower).
const dotTailCols = 128

// dotTail reports whether tile t of g's convolution takes
// gemm.SgemmIndirectDotTail: one image within dotTailCols, whole. The
// choice depends on the geometry alone.
func dotTail(g *directGeom, t directTile) bool {
	return dotTailImage(g) && t.full(g.p)
}

// dotTailImage reports whether g's convolution is one image within
// dotTailCols: its whole-image tiles take the dot columns.
func dotTailImage(g *directGeom) bool { return g.p.N == 1 && g.p.OutH*g.wp < dotTailCols }

// dotTailCut cuts a dotTailImage convolution: where the image pays for
// the hand-off (splitsImage), one range of output channels per worker
// (channelParts), else whole; never bands, whose tiles are not the whole
// image and would take the kernel for the last columns, so the bits would
// depend on the workers. A wide layer's tile budget would otherwise band
// it (directCut): resnet18's 3×3 stride-2 256→512 onto 7×7, whose input
// planes are 86K floats, ran in two bands of 3 and 4 output rows on two
// workers, 21 and 28 columns that each read all 4.7 MB of its weights,
// and 252 of its 25,088 outputs differed from one worker's. A channel
// range reads its own rows of the weights.
func (b *Backend) dotTailCut(g *directGeom) []directTile {
	p := g.p
	if b.splitsImage(p.OutC * p.OutH * p.OutW * p.C * p.KH * p.KW) {
		if oc := g.channelParts(b.w.n); oc != nil {
			return oc
		}
	}
	return bands(p, p.OutH)
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
