package cpu

import (
	"fmt"
	"math"

	"github.com/qpipe/qpipe/ops"
)

// grain is the number of elements below which a loop is not split.
const grain = 1 << 14

const (
	sqrt2         = 1.4142135623730951
	invSqrt2Pi    = 0.3989422804014327
	geluTanhK     = 0.7978845608028654 // sqrt(2/pi)
	geluTanhCubic = 0.044715
)

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// unaryFn returns f for an op.
func unaryFn(op ops.UnaryOp) (func(float32) float32, error) {
	switch op {
	case ops.UnaryIdentity:
		return func(x float32) float32 { return x }, nil
	case ops.UnaryReLU:
		return func(x float32) float32 { return max(x, 0) }, nil
	case ops.UnaryGELU:
		return gelu32, nil
	case ops.UnaryGELUTanh:
		return func(x float32) float32 {
			v := float64(x)
			return float32(0.5 * v * (1 + math.Tanh(geluTanhK*(v+geluTanhCubic*v*v*v))))
		}, nil
	case ops.UnarySiLU:
		return func(x float32) float32 { return float32(float64(x) * sigmoid(float64(x))) }, nil
	case ops.UnaryHardswish:
		return func(x float32) float32 { return x * min(max(x+3, 0), 6) / 6 }, nil
	case ops.UnaryTanh:
		return func(x float32) float32 { return float32(math.Tanh(float64(x))) }, nil
	case ops.UnarySigmoid:
		return func(x float32) float32 { return float32(sigmoid(float64(x))) }, nil
	case ops.UnaryExp:
		return func(x float32) float32 { return float32(math.Exp(float64(x))) }, nil
	case ops.UnaryLog:
		return func(x float32) float32 { return float32(math.Log(float64(x))) }, nil
	case ops.UnarySqrt:
		return func(x float32) float32 { return float32(math.Sqrt(float64(x))) }, nil
	case ops.UnarySquare:
		return func(x float32) float32 { return x * x }, nil
	case ops.UnaryAbs:
		return func(x float32) float32 { return float32(math.Abs(float64(x))) }, nil
	case ops.UnaryNeg:
		return func(x float32) float32 { return -x }, nil
	case ops.UnaryRecip:
		return func(x float32) float32 { return 1 / x }, nil
	}
	return nil, fmt.Errorf("unary %v: %w", op, ops.ErrNotImplemented)
}

// unaryDeriv returns f'(x) given x and y = f(x).
func unaryDeriv(op ops.UnaryOp) (func(x, y float32) float32, error) {
	switch op {
	case ops.UnaryIdentity:
		return func(x, y float32) float32 { return 1 }, nil
	case ops.UnaryReLU:
		return func(x, y float32) float32 {
			if x > 0 {
				return 1
			}
			return 0
		}, nil
	case ops.UnaryGELU:
		return func(x, y float32) float32 { return gelu32Grad(x) }, nil
	case ops.UnaryGELUTanh:
		return func(x, y float32) float32 {
			v := float64(x)
			t := math.Tanh(geluTanhK * (v + geluTanhCubic*v*v*v))
			return float32(0.5*(1+t) + 0.5*v*(1-t*t)*geluTanhK*(1+3*geluTanhCubic*v*v))
		}, nil
	case ops.UnarySiLU:
		return func(x, y float32) float32 {
			s := sigmoid(float64(x))
			return float32(s * (1 + float64(x)*(1-s)))
		}, nil
	case ops.UnaryHardswish:
		return func(x, y float32) float32 {
			switch {
			case x < -3:
				return 0
			case x <= 3:
				return (2*x + 3) / 6
			default:
				return 1
			}
		}, nil
	case ops.UnaryTanh:
		return func(x, y float32) float32 { return 1 - y*y }, nil
	case ops.UnarySigmoid:
		return func(x, y float32) float32 { return y * (1 - y) }, nil
	case ops.UnaryExp:
		return func(x, y float32) float32 { return y }, nil
	case ops.UnaryLog:
		return func(x, y float32) float32 { return 1 / x }, nil
	case ops.UnarySqrt:
		return func(x, y float32) float32 { return 0.5 / y }, nil
	case ops.UnarySquare:
		return func(x, y float32) float32 { return 2 * x }, nil
	case ops.UnaryAbs:
		return func(x, y float32) float32 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return 0
		}, nil
	case ops.UnaryNeg:
		return func(x, y float32) float32 { return -1 }, nil
	case ops.UnaryRecip:
		return func(x, y float32) float32 { return -y * y }, nil
	}
	return nil, fmt.Errorf("unary %v backward: %w", op, ops.ErrNotImplemented)
}

// Unary computes y = f(x). ReLU has its own loop; the rest call f per
// element.
func (b *Backend) Unary(op ops.UnaryOp, x, y *ops.Tensor) error {
	if op == ops.UnaryReLU {
		b.w.For(len(x.Data), grain, func(lo, hi int) {
			reluRow(x.Data[lo:hi], y.Data[lo:hi])
		})
		return nil
	}
	if op == ops.UnaryGELU {
		b.w.For(len(x.Data), grain, func(lo, hi int) { geluRow(x.Data[lo:hi], y.Data[lo:hi]) })
		return nil
	}
	f, err := unaryFn(op)
	if err != nil {
		return err
	}
	b.w.For(len(x.Data), grain, func(lo, hi int) {
		xs, ys := x.Data[lo:hi], y.Data[lo:hi]
		for i, v := range xs {
			ys[i] = f(v)
		}
	})
	return nil
}

// UnaryBackward accumulates dx += f'(x)·dy.
func (b *Backend) UnaryBackward(op ops.UnaryOp, x, y, dy, dx *ops.Tensor) error {
	if op == ops.UnaryReLU {
		b.w.For(len(x.Data), grain, func(lo, hi int) {
			reluGradRow(x.Data[lo:hi], dy.Data[lo:hi], dx.Data[lo:hi])
		})
		return nil
	}
	if op == ops.UnaryGELU {
		b.w.For(len(x.Data), grain, func(lo, hi int) { geluGradRow(x.Data[lo:hi], dy.Data[lo:hi], dx.Data[lo:hi]) })
		return nil
	}
	d, err := unaryDeriv(op)
	if err != nil {
		return err
	}
	b.w.For(len(x.Data), grain, func(lo, hi int) {
		xs, ys, gs, ds := x.Data[lo:hi], y.Data[lo:hi], dy.Data[lo:hi], dx.Data[lo:hi]
		for i, v := range xs {
			ds[i] += d(v, ys[i]) * gs[i]
		}
	})
	return nil
}

// Affine computes y = x·mul + add.
func (b *Backend) Affine(x, y *ops.Tensor, mul, add float32) error {
	b.w.For(len(x.Data), grain, func(lo, hi int) {
		xs, ys := x.Data[lo:hi], y.Data[lo:hi]
		for i, v := range xs {
			ys[i] = v*mul + add
		}
	})
	return nil
}
