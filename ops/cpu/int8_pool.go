package cpu

import "github.com/qpipe/qpipe/ops"

var _ ops.Int8PoolBackend = (*Backend)(nil)

// MaxPool2dInt8 writes the windowed maximum of int8 codes x into y, NCHW
// (one plane per task) or channel-last (one output row per task, each
// output pixel the maximum of its window's channel vectors); padding
// never wins.
func (b *Backend) MaxPool2dInt8(p ops.PoolParams, x, y []int8, nhwc bool) error {
	if nhwc {
		pair := p.KH == 2 && p.KW == 2 && p.StrideH == 2 && p.StrideW == 2 && p.PadH == 0 && p.PadW == 0
		b.w.For(p.N*p.OutH, max(1, grain/max(p.OutW*p.C*p.KH*p.KW, 1)), func(lo, hi int) {
			var tmp []int8
			for t := lo; t < hi; t++ {
				img, dst := x[t/p.OutH*p.H*p.W*p.C:][:p.H*p.W*p.C], y[t*p.OutW*p.C:][:p.OutW*p.C]
				if pair {
					tmp = maxPool2x2RowNHWC(p, img, dst, t%p.OutH, tmp)
				} else {
					maxPoolInt8RowNHWC(p, img, dst, t%p.OutH)
				}
			}
		})
		return nil
	}
	hw, ohw := p.H*p.W, p.OutH*p.OutW
	b.planes(p, func(q int) {
		src, dst := x[q*hw:][:hw], y[q*ohw:][:ohw]
		if p.KH == 2 && p.KW == 2 && p.StrideH == 2 && p.StrideW == 2 && p.PadH == 0 && p.PadW == 0 {
			maxPool2x2Int8(p, src, dst)
			return
		}
		maxPoolInt8Plane(p, src, dst)
	})
	return nil
}

// maxPool2x2Int8 is the 2×2 stride-2 unpadded window.
func maxPool2x2Int8(p ops.PoolParams, src, dst []int8) {
	for oh := range p.OutH {
		r0, r1 := src[2*oh*p.W:][:2*p.OutW], src[(2*oh+1)*p.W:][:2*p.OutW]
		d := dst[oh*p.OutW:][:p.OutW]
		for ow := range d {
			d[ow] = max(r0[2*ow], r0[2*ow+1], r1[2*ow], r1[2*ow+1])
		}
	}
}

// maxPoolInt8Plane is any window, clipped to the plane.
func maxPoolInt8Plane(p ops.PoolParams, src, dst []int8) {
	for oh := range p.OutH {
		h0 := oh*p.StrideH - p.PadH
		for ow := range p.OutW {
			w0 := ow*p.StrideW - p.PadW
			best := int8(-128)
			for ih := max(h0, 0); ih < min(h0+p.KH, p.H); ih++ {
				for iw := max(w0, 0); iw < min(w0+p.KW, p.W); iw++ {
					best = max(best, src[ih*p.W+iw])
				}
			}
			dst[oh*p.OutW+ow] = best
		}
	}
}

// maxS8Go is maxS8 in Go.
func maxS8Go(dst, a, b []int8) {
	if len(dst) == 0 {
		return
	}
	_, _ = a[len(dst)-1], b[len(dst)-1]
	for i := range dst {
		dst[i] = max(a[i], b[i])
	}
}

// maxPoolInt8RowNHWC pools output row oh of one channel-last image.
func maxPoolInt8RowNHWC(p ops.PoolParams, x, dst []int8, oh int) {
	c := p.C
	h0 := oh*p.StrideH - p.PadH
	for ow := range p.OutW {
		d := dst[ow*c:][:c]
		w0 := ow*p.StrideW - p.PadW
		first := true
		for ih := max(h0, 0); ih < min(h0+p.KH, p.H); ih++ {
			for iw := max(w0, 0); iw < min(w0+p.KW, p.W); iw++ {
				src := x[(ih*p.W+iw)*c:][:c]
				if first {
					copy(d, src)
					first = false
					continue
				}
				maxS8(d, d, src)
			}
		}
		if first {
			for i := range d {
				d[i] = -128
			}
		}
	}
}

// maxPool2x2RowNHWC pools output row oh of a 2×2 stride-2 unpadded
// window: the two input rows' maxima in one pass, then each output pixel
// the maximum of two neighbouring channel vectors. tmp is scratch (grown
// and returned).
func maxPool2x2RowNHWC(p ops.PoolParams, x, dst []int8, oh int, tmp []int8) []int8 {
	c, n := p.C, 2*p.OutW*p.C
	if maxPairRows(dst, x[2*oh*p.W*c:][:n], x[(2*oh+1)*p.W*c:][:n], c, p.OutW) {
		return tmp
	}
	if cap(tmp) < n {
		tmp = make([]int8, n)
	}
	tmp = tmp[:n]
	maxS8(tmp, x[2*oh*p.W*c:][:n], x[(2*oh+1)*p.W*c:][:n])
	for ow := range p.OutW {
		maxS8(dst[ow*c:][:c], tmp[2*ow*c:][:c], tmp[(2*ow+1)*c:][:c])
	}
	return tmp
}
