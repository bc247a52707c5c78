package cpu

import (
	"math"

	"github.com/qpipe/qpipe/ops"
)

// MaxPool2dInfer computes the windowed maximum without argmax indices (no
// gradient will be taken), separably: each input row's maxima over the
// window's columns, then each output row's maximum over the window's rows.
// Padding never wins (it is -Inf), as in MaxPool2d. The 3×3 stride-2
// padding-1 pool of resnet stems has a vector kernel (pool3s2).
func (b *Backend) MaxPool2dInfer(p ops.PoolParams, x, y *ops.Tensor) error {
	hw, ohw := p.H*p.W, p.OutH*p.OutW
	if p.N < b.w.n && pool3s2OK(p) {
		b.maxPoolBands(p, x, y)
		return nil
	}
	b.w.For(p.N*p.C, max(1, grain/max(hw, 1)), func(lo, hi int) {
		tmp := make([]float32, max(p.H*p.OutW, p.W+66))
		for q := lo; q < hi; q++ {
			if pool3s2(p, x.Data[q*hw:][:hw], y.Data[q*ohw:][:ohw], tmp) {
				continue
			}
			maxPoolRows(p, x.Data[q*hw:][:hw], tmp)
			maxPoolCols(p, tmp, y.Data[q*ohw:][:ohw])
		}
	})
	return nil
}

// maxPoolRows writes tmp[ih·OutW + ow], the maximum of input row ih over
// output column ow's window (-Inf when it covers only padding).
func maxPoolRows(p ops.PoolParams, src, tmp []float32) {
	// output columns [in0, in1) have their whole window inside the row
	in0 := min(p.OutW, (p.PadW+p.StrideW-1)/p.StrideW)
	in1 := max(in0, min(p.OutW, (p.W+p.PadW-p.KW)/p.StrideW+1))
	for ih := range p.H {
		row, out := src[ih*p.W:][:p.W], tmp[ih*p.OutW:][:p.OutW]
		for ow := range in0 {
			out[ow] = maxPoolEdge(p, row, ow)
		}
		for ow := in0; ow < in1; ow++ {
			w := row[ow*p.StrideW-p.PadW:][:p.KW]
			m := w[0]
			for _, v := range w[1:] {
				if v > m {
					m = v
				}
			}
			out[ow] = m
		}
		for ow := in1; ow < p.OutW; ow++ {
			out[ow] = maxPoolEdge(p, row, ow)
		}
	}
}

// maxPoolEdge is the maximum of row over output column ow's window, part
// of which lies in the padding.
func maxPoolEdge(p ops.PoolParams, row []float32, ow int) float32 {
	m := float32(math.Inf(-1))
	for j := range p.KW {
		if iw := ow*p.StrideW - p.PadW + j; iw >= 0 && iw < p.W && row[iw] > m {
			m = row[iw]
		}
	}
	return m
}

// maxPoolCols writes dst[oh·OutW + ow], the maximum over output row oh's
// window of the row maxima in tmp.
func maxPoolCols(p ops.PoolParams, tmp, dst []float32) {
	for oh := range p.OutH {
		out := dst[oh*p.OutW:][:p.OutW]
		first := true
		for i := range p.KH {
			ih := oh*p.StrideH - p.PadH + i
			if ih < 0 || ih >= p.H {
				continue
			}
			r := tmp[ih*p.OutW:][:p.OutW]
			if first {
				copy(out, r)
				first = false
				continue
			}
			for j, v := range r {
				if v > out[j] {
					out[j] = v
				}
			}
		}
		if first {
			for j := range out {
				out[j] = float32(math.Inf(-1))
			}
		}
	}
}

// poolBandRows is the fewest output rows a band of maxPoolBands holds.
const poolBandRows = 4

// maxPoolBands is MaxPool2dInfer's 3×3 stride-2 pool (pool3s2) of fewer
// images than workers, cut into bands of output rows across all channels
// instead of into planes. The workers take their shares of the bands in
// order (workers.spread), as they took the bands of the convolution
// before (a resnet stem), so each reads mostly rows its own core wrote;
// cut by planes, each read half its planes' rows from the other core, and
// two threads took resnet18's stem pool 0.75× one thread's time with 1.3×
// its CPU (docs/performance.md, s12-scale). A maximum is exact, so the
// cut changes no output.
func (b *Backend) maxPoolBands(p ops.PoolParams, x, y *ops.Tensor) {
	hw, ohw := p.H*p.W, p.OutH*p.OutW
	b.w.For(p.OutH, poolBandRows, func(lo, hi int) {
		tmp := make([]float32, p.W+66)
		for q := range p.N * p.C {
			pool3s2Rows(p, x.Data[q*hw:][:hw], y.Data[q*ohw:][:ohw], tmp, lo, hi, 0)
		}
	})
}
