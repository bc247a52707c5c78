package cpu

import (
	"fmt"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

var _ ops.Int8Backend = (*Backend)(nil)

// gemmEpilogue is the gemm package's form of an int8 layer's epilogue.
func gemmEpilogue(ep ops.Int8Epilogue) gemm.Epilogue {
	return gemm.Epilogue{Bias: ep.Bias, Scale: ep.Scale, ReLU: ep.ReLU, Hi: ep.Hi}
}

var _ ops.Int8ClampBackend = (*Backend)(nil)

// Int8Clamps reports that the int8 epilogues honor Int8Epilogue.Hi.
func (b *Backend) Int8Clamps() bool { return true }

// QuantizeInt8 writes q = clamp(roundHalfEven(x/scale), -128, 127).
func (b *Backend) QuantizeInt8(x []float32, scale float32, q []int8) error {
	inv := 1 / scale
	b.w.For(len(x), grain, func(lo, hi int) { quantS8(x[lo:hi], inv, q[lo:hi]) })
	return nil
}

// DequantizeInt8 writes y = q·scale.
func (b *Backend) DequantizeInt8(q []int8, scale float32, y []float32) error {
	b.w.For(len(q), grain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			y[i] = float32(q[i]) * scale
		}
	})
	return nil
}

// PackInt8 packs an (n, k) weight for the gemm package's int8 kernels.
func (b *Backend) PackInt8(w []int8, n, k int) (ops.PackedInt8, error) {
	return gemm.PackS8(n, k, w, k), nil
}

// Int8Gemm runs the exact int8 GEMM with the fused epilogue.
func (b *Backend) Int8Gemm(m int, a []int8, w ops.PackedInt8, ep ops.Int8Epilogue, outQ []int8, outF []float32) error {
	pb, ok := w.(*gemm.PackedS8)
	if !ok {
		return fmt.Errorf("int8 gemm: weights were not packed by this backend")
	}
	e := gemmEpilogue(ep)
	if outQ != nil {
		gemm.GemmS8PackedRequant(m, a, pb.K(), pb, e, outQ, pb.N())
		return nil
	}
	gemm.GemmS8PackedDequant(m, a, pb.K(), pb, e, outF, pb.N())
	return nil
}

// Im2ColInt8 writes patches as rows (N·L, C·KH·KW), parallel over output
// rows when there are enough of them.
func (b *Backend) Im2ColInt8(p ops.ConvParams, x []int8, rows []int8) error {
	L, K := p.OutH*p.OutW, p.C*p.KH*p.KW
	// Output rows in grains of at least 32 KiB of patches: waking a worker
	// for a batch-1 image costs more than copying it.
	b.w.For(p.N*p.OutH, max(1, (32<<10)/max(p.OutW*K, 1)), func(lo, hi int) {
		for t := lo; t < hi; t++ {
			img, oh := t/p.OutH, t%p.OutH
			for ow := range p.OutW {
				row := rows[(img*L+oh*p.OutW+ow)*K:][:K]
				patchInt8(p, x[img*p.C*p.H*p.W:], row, oh, ow)
			}
		}
	})
	return nil
}

// patchInt8 copies the receptive field of output (oh, ow) in (c, i, j)
// order.
func patchInt8(p ops.ConvParams, x []int8, row []int8, oh, ow int) {
	r := 0
	for c := range p.C {
		plane := x[c*p.H*p.W:]
		for i := range p.KH {
			ih := oh*p.StrideH - p.PadH + i*p.DilH
			for j := range p.KW {
				iw := ow*p.StrideW - p.PadW + j*p.DilW
				if ih >= 0 && ih < p.H && iw >= 0 && iw < p.W {
					row[r] = plane[ih*p.W+iw]
				} else {
					row[r] = 0
				}
				r++
			}
		}
	}
}
