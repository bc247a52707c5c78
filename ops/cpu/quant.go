package cpu

import (
	"math"

	"github.com/qpipe/qpipe/ops"
)

// quantLine returns, for element i of the (Outer, Channels, Inner) view,
// its channel's scale and zero point.
func quantParams(p ops.FakeQuantParams, scale, zp *ops.Tensor, i int) (s, z float32) {
	c := 0
	if p.Channels > 1 {
		c = (i / p.Inner) % p.Channels
	}
	s = scale.Data[c]
	if zp != nil {
		z = zp.Data[c]
	}
	return s, z
}

// quantize returns round-half-even(x/s)+z (before clamping), as torch's
// fake_quantize does.
func quantize(x, s, z float32) float32 {
	return float32(math.RoundToEven(float64(x/s))) + z
}

// FakeQuant writes y = (clamp(round(x/s)+z, QMin, QMax) - z)·s.
func (b *Backend) FakeQuant(p ops.FakeQuantParams, x, scale, zp, y *ops.Tensor) error {
	b.w.For(len(x.Data), grain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			s, z := quantParams(p, scale, zp, i)
			q := min(max(quantize(x.Data[i], s, z), p.QMin), p.QMax)
			y.Data[i] = (q - z) * s
		}
	})
	return nil
}

// FakeQuantBackward accumulates the straight-through input gradient (dy
// where QMin ≤ round(x/s)+z ≤ QMax) and, when dscale is given, the LSQ
// scale gradient Σ dy·(round(x/s) - x/s inside; QMin-z or QMax-z outside)
// times GradScale, per channel.
func (b *Backend) FakeQuantBackward(p ops.FakeQuantParams, x, scale, zp, dy, dx, dscale *ops.Tensor) error {
	if dx != nil {
		b.w.For(len(x.Data), grain, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				s, z := quantParams(p, scale, zp, i)
				if q := quantize(x.Data[i], s, z); q >= p.QMin && q <= p.QMax {
					dx.Data[i] += dy.Data[i]
				}
			}
		})
	}
	if dscale == nil {
		return nil
	}
	sums := make([]float64, p.Channels)
	for i, v := range x.Data {
		s, z := quantParams(p, scale, zp, i)
		q := quantize(v, s, z)
		var g float32
		switch {
		case q < p.QMin:
			g = p.QMin - z
		case q > p.QMax:
			g = p.QMax - z
		default:
			g = (q - z) - v/s
		}
		c := 0
		if p.Channels > 1 {
			c = (i / p.Inner) % p.Channels
		}
		sums[c] += float64(dy.Data[i] * g)
	}
	for c, v := range sums {
		dscale.Data[c] += float32(v) * p.GradScale
	}
	return nil
}
