package ops

import (
	"fmt"
	"math"
)

// FakeQuantOptions describe uniform fake quantization.
type FakeQuantOptions struct {
	// QMin and QMax are the integer range, e.g. QuantRange(8, true, true).
	QMin, QMax float32
	// Axis is the channel axis of a per-channel scale (Scale has one entry
	// per index of that axis); it is ignored for a one-element scale.
	Axis int
	// LSQ makes the scale learnable: when the scale tensor requires a
	// gradient, Backward accumulates the LSQ gradient into it.
	LSQ bool
	// GradScale multiplies the LSQ gradient; 0 means 1/sqrt(N·QMax) with N
	// the number of elements per scale (the LSQ paper's choice).
	GradScale float32
}

// QuantRange returns the integer range of a bits-wide code. Signed codes
// are symmetric around zero; narrow drops the most negative value
// ([-127, 127] for 8 bits, the usual weight range). Unsigned codes are
// [0, 2^bits-1].
func QuantRange(bits int, signed, narrow bool) (qmin, qmax float32) {
	if !signed {
		return 0, float32(int(1)<<bits - 1)
	}
	half := float32(int(1) << (bits - 1))
	if narrow {
		return -(half - 1), half - 1
	}
	return -half, half - 1
}

// FakeQuant returns (clamp(round(x/s)+z, QMin, QMax) - z)·s, with scale s
// and optional zero point z (nil means 0) per tensor (one element) or per
// channel of o.Axis. The input gradient is straight-through inside the
// clamp range and zero outside; with o.LSQ the scale gets the LSQ gradient.
func (c *Context) FakeQuant(x, scale, zeroPoint *Tensor, o FakeQuantOptions) *Tensor {
	p := c.fakeQuantParams(x, scale, zeroPoint, o)
	y := c.empty(x.Shape)
	check("fake_quant", c.b.FakeQuant(p, x, scale, zeroPoint, y), x, scale)
	learn := o.LSQ && scale.requiresGrad
	if c.needsGrad(x) || (learn && c.opts.Grad) {
		c.record(y, func(dy *Tensor) {
			var ds *Tensor
			if learn {
				ds = c.gradFor(scale)
			}
			check("fake_quant backward", c.b.FakeQuantBackward(p, x, scale, zeroPoint, dy, c.gradFor(x), ds), x, scale)
		})
	}
	return y
}

func (c *Context) fakeQuantParams(x, scale, zp *Tensor, o FakeQuantOptions) FakeQuantParams {
	if o.QMax <= o.QMin {
		shapeErr("fake_quant", fmt.Sprintf("empty integer range [%v, %v]", o.QMin, o.QMax), x)
	}
	p := FakeQuantParams{Outer: 1, Channels: 1, Inner: x.Numel(), QMin: o.QMin, QMax: o.QMax, GradScale: o.GradScale}
	if scale.Numel() != 1 {
		outer, dim, inner, _ := axisView("fake_quant", x, o.Axis)
		if dim != scale.Numel() {
			shapeErr("fake_quant", fmt.Sprintf("per-channel scale needs %d entries for axis %d", dim, o.Axis), x, scale)
		}
		p.Outer, p.Channels, p.Inner = outer, dim, inner
	}
	if zp != nil && zp.Numel() != scale.Numel() {
		shapeErr("fake_quant", "zero point and scale sizes differ", x, scale, zp)
	}
	if p.GradScale == 0 {
		p.GradScale = float32(1 / math.Sqrt(float64(x.Numel()/p.Channels)*float64(max(o.QMax, 1))))
	}
	return p
}
