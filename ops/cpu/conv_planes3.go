package cpu

// A 3×3, stride-1, padding-1 convolution of one small image as one GEMM
// with no gap columns (resnet18's 512→512 layers on 7×7).
//
// The direct path reads each kernel tap as a shifted view of the input
// laid out with zero columns between rows (conv_direct.go), so its GEMM
// has OutH·(W+gap) − gap columns: 55 for a 7×7 image, a 48-column kernel
// block and a 16-column tile for the last 7, a third more work than the
// 49 outputs need. Here the taps read three copies of each input plane,
// each with a zero row above and below and no gap between rows:
//
//   - the middle column of taps (kw = 1) reads the plane itself: output
//     (oh, ow) of tap row kh is padded element (oh+kh)·W + ow;
//   - the left column (kw = 0) reads one element earlier, which for ow = 0
//     is the last element of the row above: its copy has the last column
//     zeroed, so that read is the left padding's zero;
//   - the right column (kw = 2) reads one element later, which for
//     ow = W−1 is the first element of the next row: its copy has the
//     first column zeroed;
//
// so every tap is a run of OutH·OutW floats (the indirect GEMM's B row),
// and the GEMM's columns are exactly the outputs, in y's order: 49 = 48 +
// 1, whose last column gemm.SgemmIndirectDotTail computes as a dot
// product. The GEMM writes y itself with the fused output pass (scale,
// shift, residual, activation) in its epilogue. The weights are read in
// place (row oc of A is w[oc], K = 9·C in the direct path's (c, kh, kw)
// order); the workers split the output channels, so every output is the
// same sum on any number of workers.

import (
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// planes3OK reports whether p's inference forward takes this path: one
// image, 3×3, stride 1, padding 1, undilated, ungrouped, where the direct
// path runs (AVX-512), and OutH·OutW outputs that end at most four
// columns past a 48-column kernel block (7×7: 49; 14×14: 196, which
// Winograd takes first where it wins).
func planes3OK(p ops.ConvParams) bool {
	mr, nr := gemm.IndirectTile()
	n := p.OutH * p.OutW
	return directOK(p) && p.N == 1 && p.KH == 3 && p.KW == 3 && p.StrideH == 1 && p.StrideW == 1 &&
		p.PadH == 1 && p.PadW == 1 && p.DilH == 1 && p.DilW == 1 && p.Groups == 1 &&
		p.OutH == p.H && p.OutW == p.W && mr > 0 && nr == 48 && n >= nr && n%nr <= 4
}

// planes3Stride is the floats of one copy of an input plane: a guard
// zero, a zero row, the H rows, a zero row, a guard zero.
func planes3Stride(p ops.ConvParams) int { return (p.H+2)*p.W + 2 }

// planes3Fill writes the three copies of each of x's C planes into buf
// (3·C·planes3Stride floats): copy k of channel c at (3c + k)·stride, k
// = kw, the copy tap column kw reads.
func planes3Fill(p ops.ConvParams, x, buf []float32) {
	ps, hw := planes3Stride(p), p.H*p.W
	for c := range p.C {
		src := x[c*hw:][:hw]
		for k := range 3 {
			dst := buf[(3*c+k)*ps:][:ps]
			clear(dst[:1+p.W])
			copy(dst[1+p.W:], src)
			clear(dst[1+p.W+hw:])
			rows := dst[1+p.W:][:hw]
			switch k {
			case 0: // read one early: the last column stands for the left padding
				for r := p.W - 1; r < hw; r += p.W {
					rows[r] = 0
				}
			case 2: // read one late: the first column stands for the right padding
				for r := 0; r < hw; r += p.W {
					rows[r] = 0
				}
			}
		}
	}
}

// planes3Offsets writes the B row of each tap, (c, kh, kw) at c·9 + kh·3
// + kw: the start of its run of OutH·OutW floats in planes3Fill's buffer.
func planes3Offsets(p ops.ConvParams, off []int) {
	ps := planes3Stride(p)
	for c := range p.C {
		for kh := range 3 {
			for kw := range 3 {
				off[c*9+kh*3+kw] = (3*c+kw)*ps + 1 + kh*p.W + kw - 1
			}
		}
	}
}

// planes3Fused is Conv2dFused on this path (planes3OK(p)).
func (b *Backend) planes3Fused(p ops.ConvParams, x, w, y *ops.Tensor, f ops.ConvFusion) {
	K, L := 9*p.C, p.OutH*p.OutW
	buf := b.tmp.get(callerSlot, 3*p.C*planes3Stride(p))
	off := b.tmp.getInts(callerSlot, K)
	defer b.tmp.put(callerSlot, buf)
	defer b.tmp.putInts(callerSlot, off)
	planes3Fill(p, x.Data, buf)
	planes3Offsets(p, off)
	parts := 1
	if b.splitsImage(p.OutC * L * K) {
		parts = b.w.n
	}
	mr, _ := gemm.IndirectTile()
	b.w.For(parts, 1, func(lo, hi int) {
		for part := lo; part < hi; part++ {
			oc0, oc1 := planes3Rows(p.OutC, mr, parts, part), planes3Rows(p.OutC, mr, parts, part+1)
			if oc0 == oc1 {
				continue
			}
			ep := rowEpilogue(f, oc0, oc1)
			if f.Res != nil {
				ep.Res = f.Res.Data[oc0*L:]
			}
			gemm.SgemmIndirectDotTail(oc1-oc0, L, K, w.Data[oc0*K:], K, buf, off, y.Data[oc0*L:], L, &ep)
		}
	})
}

// planes3Rows is where part k of parts starts among n output channels:
// the parts cut at multiples of the kernel's mr rows.
func planes3Rows(n, mr, parts, k int) int {
	if k >= parts {
		return n
	}
	return min(n, (n*k/parts+mr/2)/mr*mr)
}
