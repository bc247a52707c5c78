package ops

import (
	"fmt"
	"math"
)

// BatchNormOptions are batch norm's constants (torch defaults: momentum
// 0.1, eps 1e-5; zero values select them).
type BatchNormOptions struct {
	Momentum float32
	Eps      float32
}

func (o BatchNormOptions) withDefaults() BatchNormOptions {
	if o.Momentum == 0 {
		o.Momentum = 0.1
	}
	if o.Eps == 0 {
		o.Eps = 1e-5
	}
	return o
}

// BatchNorm normalises channel axis 1 of x (N, C, ...) over all other axes.
// In training mode it uses batch statistics and updates runMean/runVar
// in place (unbiased variance, as torch); otherwise it uses them. gamma and
// beta are (C); runMean and runVar may be nil in training mode.
func (c *Context) BatchNorm(x, gamma, beta, runMean, runVar *Tensor, o BatchNormOptions) *Tensor {
	o = o.withDefaults()
	if x.Dims() < 2 {
		shapeErr("batchnorm", "want x (N, C, ...)", x)
	}
	p := NormParams{Outer: x.Shape[0], C: x.Shape[1], Inner: x.Numel() / max(x.Shape[0]*x.Shape[1], 1), Eps: o.Eps}
	for _, t := range []*Tensor{gamma, beta, runMean, runVar} {
		if t != nil && t.Numel() != p.C {
			shapeErr("batchnorm", fmt.Sprintf("per-channel tensors must have %d elements", p.C), x, t)
		}
	}
	train := c.opts.Train
	if !train && (runMean == nil || runVar == nil) {
		shapeErr("batchnorm", "evaluation needs running statistics", x)
	}
	mean, invstd := c.empty([]int{p.C}), c.empty([]int{p.C})
	if train {
		variance := c.empty([]int{p.C})
		check("batchnorm", c.b.BatchNormStats(p, x, mean, variance), x)
		c.updateRunning(p, mean, variance, runMean, runVar, o.Momentum)
		invStd(variance.Data, invstd.Data, o.Eps)
	} else {
		copy(mean.Data, runMean.Data)
		invStd(runVar.Data, invstd.Data, o.Eps)
	}
	y := c.empty(x.Shape)
	check("batchnorm", c.b.BatchNorm(p, x, mean, invstd, gamma, beta, y), x)
	if c.needsGrad(x, gamma, beta) {
		c.record(y, func(dy *Tensor) {
			err := c.b.BatchNormBackward(p, x, mean, invstd, gamma, dy, c.gradFor(x), c.gradFor(gamma), c.gradFor(beta), train)
			check("batchnorm backward", err, x)
		})
	}
	return y
}

func invStd(variance, out []float32, eps float32) {
	for i, v := range variance {
		out[i] = float32(1 / math.Sqrt(float64(v+eps)))
	}
}

func (c *Context) updateRunning(p NormParams, mean, variance, runMean, runVar *Tensor, m float32) {
	n := float32(p.Outer * p.Inner)
	unbias := n / max(n-1, 1)
	if runMean != nil {
		for i, v := range mean.Data {
			runMean.Data[i] = (1-m)*runMean.Data[i] + m*v
		}
	}
	if runVar != nil {
		for i, v := range variance.Data {
			runVar.Data[i] = (1-m)*runVar.Data[i] + m*v*unbias
		}
	}
}

// LayerNorm normalises the last axis of x and applies optional gamma and
// beta (shape: the last axis).
func (c *Context) LayerNorm(x, gamma, beta *Tensor, eps float32) *Tensor {
	if x.Dims() < 1 {
		shapeErr("layernorm", "want at least one axis", x)
	}
	d := x.Dim(-1)
	for _, t := range []*Tensor{gamma, beta} {
		if t != nil && t.Numel() != d {
			shapeErr("layernorm", fmt.Sprintf("affine tensors must have %d elements", d), x, t)
		}
	}
	if eps == 0 {
		eps = 1e-5
	}
	p := NormParams{Outer: x.Numel() / max(d, 1), C: d, Inner: 1, Eps: eps}
	y := c.empty(x.Shape)
	mean, rstd := c.empty([]int{p.Outer}), c.empty([]int{p.Outer})
	check("layernorm", c.b.LayerNorm(p, x, gamma, beta, y, mean, rstd), x)
	if c.needsGrad(x, gamma, beta) {
		c.record(y, func(dy *Tensor) {
			err := c.b.LayerNormBackward(p, x, mean, rstd, gamma, dy, c.gradFor(x), c.gradFor(gamma), c.gradFor(beta))
			check("layernorm backward", err, x)
		})
	}
	return y
}
