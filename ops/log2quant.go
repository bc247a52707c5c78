package ops

import (
	"fmt"
	"math"
)

// Log2QuantOptions describe base-2 logarithmic weight quantization with
// pruning (Ardakani et al. 2022, see Log2Quant).
type Log2QuantOptions struct {
	// Bits is the code width: a sign and 2^(Bits-1)-1 power-of-two
	// magnitudes, plus zero. At least 2.
	Bits int
	// Beta prunes |w| < Beta·std(W) to zero (0: no threshold pruning).
	Beta float32
	// GradScale multiplies alpha's gradient; 0 means 1/sqrt(N·Q_P) with N
	// the number of weights and Q_P = 2^(Bits-1)-1.
	GradScale float32
}

// Log2MaxShift is K = 2^(bits-1)-2, the largest exponent magnitude of a
// bits-wide log2 code: levels are tau·2^-k for k in [0, K].
func Log2MaxShift(bits int) int { return 1<<(bits-1) - 2 }

// Log2Level returns the quantized value of w and its exponent k (level
// tau·2^-k; k = -1 for zero): w is zero when mask is 0 or |w| < prune;
// otherwise e = round(log2(min(|w|/tau, 1))) and w is zero when e < -K,
// else sign(w)·tau·2^e. It is the definition every log2 path (the
// fake-quant kernel, code export, the integer engine) follows.
func Log2Level(w, tau, prune float32, maxShift int) (q float32, k int) {
	a := float32(math.Abs(float64(w)))
	if a < prune || a == 0 || !(tau > 0) {
		return 0, -1
	}
	v := min(float64(a)/float64(tau), 1)
	e := int(math.Round(math.Log2(v)))
	if -e > maxShift {
		return 0, -1
	}
	q = float32(math.Ldexp(float64(tau), e))
	if w < 0 {
		q = -q
	}
	return q, -e
}

// Std is the population standard deviation of x, accumulated in float64.
func Std(x []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	var s, ss float64
	for _, v := range x {
		s += float64(v)
	}
	mean := s / float64(len(x))
	for _, v := range x {
		d := float64(v) - mean
		ss += d * d
	}
	return float32(math.Sqrt(ss / float64(len(x))))
}

// Log2Quant quantizes a weight tensor w to signed powers of two with
// threshold tau = alpha·std(W): see Log2Level, with prune = Beta·std(W)
// and positions where mask (optional, w's shape) is 0 forced to zero.
//
// Backward: w's gradient is straight-through (dy) where the mask is 1 and
// |w| ≤ tau, 0 elsewhere (clipped or masked); std(W) is treated as a
// constant. alpha's gradient is the LSQ surrogate's, times GradScale:
// Σ dy·∂q/∂alpha with ∂q/∂alpha = sign(w)·std for clipped weights,
// std·(q - w)/tau inside the range (zeros below the smallest level
// included), and 0 for pruned or masked weights.
func (c *Context) Log2Quant(w, alpha, mask *Tensor, o Log2QuantOptions) *Tensor {
	if o.Bits < 2 || o.Bits > 16 {
		shapeErr("log2_quant", fmt.Sprintf("bits %d: want 2 to 16", o.Bits), w)
	}
	if alpha.Numel() != 1 {
		shapeErr("log2_quant", "alpha must be a scalar", w, alpha)
	}
	if mask != nil && mask.Numel() != w.Numel() {
		shapeErr("log2_quant", "mask and weight sizes differ", w, mask)
	}
	sigma := Std(w.Data)
	tau, prune, K := alpha.Data[0]*sigma, o.Beta*sigma, Log2MaxShift(o.Bits)
	y := c.empty(w.Shape)
	for i, v := range w.Data {
		if mask != nil && mask.Data[i] == 0 {
			y.Data[i] = 0
			continue
		}
		y.Data[i], _ = Log2Level(v, tau, prune, K)
	}
	learn := alpha.requiresGrad && c.opts.Grad
	if !c.needsGrad(w) && !learn {
		return y
	}
	g := o.GradScale
	if g == 0 {
		g = float32(1 / math.Sqrt(float64(w.Numel())*float64(int(1)<<(o.Bits-1)-1)))
	}
	c.record(y, func(dy *Tensor) {
		dw, da := c.gradFor(w), (*Tensor)(nil)
		if learn {
			da = c.gradFor(alpha)
		}
		var sum float64
		for i, v := range w.Data {
			if mask != nil && mask.Data[i] == 0 {
				continue
			}
			a := float32(math.Abs(float64(v)))
			if dw != nil && a <= tau {
				dw.Data[i] += dy.Data[i]
			}
			if da != nil {
				sum += float64(dy.Data[i]) * log2AlphaGrad(v, y.Data[i], a, tau, prune, sigma)
			}
		}
		if da != nil {
			da.Data[0] += float32(sum) * g
		}
	})
	return y
}

// log2AlphaGrad is ∂q/∂alpha of the LSQ surrogate for one weight.
func log2AlphaGrad(w, q, a, tau, prune, sigma float32) float64 {
	switch {
	case a < prune:
		return 0
	case a >= tau:
		if w < 0 {
			return -float64(sigma)
		}
		return float64(sigma)
	}
	return float64(sigma) * float64(q-w) / float64(tau)
}
