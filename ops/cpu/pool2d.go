package cpu

import (
	"math"

	"github.com/qpipe/qpipe/ops"
)

// planes runs fn for every (n, c) plane in parallel.
func (b *Backend) planes(p ops.PoolParams, fn func(q int)) {
	b.w.For(p.N*p.C, max(1, grain/max(p.H*p.W, 1)), func(lo, hi int) {
		for q := lo; q < hi; q++ {
			fn(q)
		}
	})
}

// MaxPool2d computes the windowed maximum and the flat index of each
// maximum in x (the first one on ties).
func (b *Backend) MaxPool2d(p ops.PoolParams, x, y *ops.Tensor, argmax []int32) error {
	hw, ohw := p.H*p.W, p.OutH*p.OutW
	if p.PadH == 0 && p.PadW == 0 && p.KH == 2 && p.KW == 2 && p.StrideH == 2 && p.StrideW == 2 {
		b.planes(p, func(q int) {
			maxPool2x2Plane(p, x.Data[q*hw:(q+1)*hw], y.Data[q*ohw:(q+1)*ohw], argmax[q*ohw:(q+1)*ohw], q*hw)
		})
		return nil
	}
	if p.PadH == 0 && p.PadW == 0 {
		b.planes(p, func(q int) {
			maxPoolPlane(p, x.Data[q*hw:(q+1)*hw], y.Data[q*ohw:(q+1)*ohw], argmax[q*ohw:(q+1)*ohw], q*hw)
		})
		return nil
	}
	b.planes(p, func(q int) {
		src := x.Data[q*hw : (q+1)*hw]
		for oh := range p.OutH {
			for ow := range p.OutW {
				best, arg := float32(math.Inf(-1)), -1
				for i := range p.KH {
					ih := oh*p.StrideH - p.PadH + i
					if ih < 0 || ih >= p.H {
						continue
					}
					for j := range p.KW {
						iw := ow*p.StrideW - p.PadW + j
						if iw >= 0 && iw < p.W && (arg < 0 || src[ih*p.W+iw] > best) {
							best, arg = src[ih*p.W+iw], ih*p.W+iw
						}
					}
				}
				o := q*ohw + oh*p.OutW + ow
				y.Data[o], argmax[o] = best, int32(q*hw+arg)
			}
		}
	})
	return nil
}

// maxPoolPlane pools one plane whose windows lie inside it (no padding).
func maxPoolPlane(p ops.PoolParams, src, dst []float32, arg []int32, base int) {
	for oh := range p.OutH {
		for ow := range p.OutW {
			h0, w0 := oh*p.StrideH, ow*p.StrideW
			at := h0*p.W + w0
			best := src[at]
			for i := range p.KH {
				row := src[(h0+i)*p.W+w0:][:p.KW]
				for j, v := range row {
					if v > best {
						best, at = v, (h0+i)*p.W+w0+j
					}
				}
			}
			dst[oh*p.OutW+ow], arg[oh*p.OutW+ow] = best, int32(base+at)
		}
	}
}

// maxPool2x2Plane is maxPoolPlane for the common 2×2, stride-2 window,
// unrolled (a third of the time of the general loop in a CNN step); ties
// go to the first maximum in row-major order, as there.
func maxPool2x2Plane(p ops.PoolParams, src, dst []float32, arg []int32, base int) {
	if vec16 && p.OutW > 0 {
		w := p.W
		for oh := range p.OutH {
			top := 2 * oh * w
			r0, r1 := src[top:top+2*p.OutW], src[top+w:top+w+2*p.OutW]
			d, a := dst[oh*p.OutW:][:p.OutW], arg[oh*p.OutW:][:p.OutW]
			maxPool2x2Row16(&r0[0], &r1[0], &d[0], &a[0], p.OutW, base+top, w)
		}
		return
	}
	maxPool2x2PlaneGo(p, src, dst, arg, base)
}

// maxPool2x2PlaneGo is the scalar form of maxPool2x2Plane.
func maxPool2x2PlaneGo(p ops.PoolParams, src, dst []float32, arg []int32, base int) {
	w := p.W
	for oh := range p.OutH {
		top := 2 * oh * w
		r0, r1 := src[top:top+w], src[top+w:top+2*w]
		d, a := dst[oh*p.OutW:][:p.OutW], arg[oh*p.OutW:][:p.OutW]
		for ow := range d {
			j := 2 * ow
			best, at := r0[j], top+j
			if v := r0[j+1]; v > best {
				best, at = v, top+j+1
			}
			if v := r1[j]; v > best {
				best, at = v, top+w+j
			}
			if v := r1[j+1]; v > best {
				best, at = v, top+w+j+1
			}
			d[ow], a[ow] = best, int32(base+at)
		}
	}
}

// MaxPool2dBackward accumulates dx[argmax] += dy.
func (b *Backend) MaxPool2dBackward(p ops.PoolParams, dy *ops.Tensor, argmax []int32, dx *ops.Tensor) error {
	ohw := p.OutH * p.OutW
	b.planes(p, func(q int) {
		for o := q * ohw; o < (q+1)*ohw; o++ {
			dx.Data[argmax[o]] += dy.Data[o]
		}
	})
	return nil
}

// poolWindow returns the clipped window of output (oh, ow) and the divisor.
func poolWindow(p ops.PoolParams, oh, ow int) (h0, h1, w0, w1 int, div float32) {
	h0, w0 = oh*p.StrideH-p.PadH, ow*p.StrideW-p.PadW
	h1, w1 = min(h0+p.KH, p.H+p.PadH), min(w0+p.KW, p.W+p.PadW)
	full := (h1 - h0) * (w1 - w0)
	h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, p.H), min(w1, p.W)
	if !p.CountIncludePad {
		full = (h1 - h0) * (w1 - w0)
	}
	return h0, h1, w0, w1, 1 / float32(max(full, 1))
}

// AvgPool2d computes windowed means.
func (b *Backend) AvgPool2d(p ops.PoolParams, x, y *ops.Tensor) error {
	hw, ohw := p.H*p.W, p.OutH*p.OutW
	b.planes(p, func(q int) {
		src := x.Data[q*hw : (q+1)*hw]
		for oh := range p.OutH {
			for ow := range p.OutW {
				h0, h1, w0, w1, inv := poolWindow(p, oh, ow)
				var s float32
				for ih := h0; ih < h1; ih++ {
					for iw := w0; iw < w1; iw++ {
						s += src[ih*p.W+iw]
					}
				}
				y.Data[q*ohw+oh*p.OutW+ow] = s * inv
			}
		}
	})
	return nil
}

// AvgPool2dBackward spreads each output gradient over its window.
func (b *Backend) AvgPool2dBackward(p ops.PoolParams, dy, dx *ops.Tensor) error {
	hw, ohw := p.H*p.W, p.OutH*p.OutW
	b.planes(p, func(q int) {
		dst := dx.Data[q*hw : (q+1)*hw]
		for oh := range p.OutH {
			for ow := range p.OutW {
				h0, h1, w0, w1, inv := poolWindow(p, oh, ow)
				g := dy.Data[q*ohw+oh*p.OutW+ow] * inv
				for ih := h0; ih < h1; ih++ {
					for iw := w0; iw < w1; iw++ {
						dst[ih*p.W+iw] += g
					}
				}
			}
		}
	})
	return nil
}
