package ops

import "fmt"

// BroadcastShape returns the numpy broadcast of two shapes, or false when
// they are incompatible.
func BroadcastShape(a, b []int) ([]int, bool) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := range n {
		da, db := dimFromEnd(a, n-1-i), dimFromEnd(b, n-1-i)
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, false
		}
	}
	return out, true
}

// dimFromEnd returns shape[len-1-k] or 1 when the axis is missing.
func dimFromEnd(shape []int, k int) int {
	if k < len(shape) {
		return shape[len(shape)-1-k]
	}
	return 1
}

// Add returns a + b with broadcasting.
func (c *Context) Add(a, b *Tensor) *Tensor { return c.binary(BinaryAdd, a, b) }

// Sub returns a - b with broadcasting.
func (c *Context) Sub(a, b *Tensor) *Tensor { return c.binary(BinarySub, a, b) }

// Mul returns a * b elementwise with broadcasting.
func (c *Context) Mul(a, b *Tensor) *Tensor { return c.binary(BinaryMul, a, b) }

// Div returns a / b elementwise with broadcasting.
func (c *Context) Div(a, b *Tensor) *Tensor { return c.binary(BinaryDiv, a, b) }

func (c *Context) binary(op BinaryOp, a, b *Tensor) *Tensor {
	shape, ok := BroadcastShape(a.Shape, b.Shape)
	if !ok {
		shapeErr(op.String(), "shapes do not broadcast", a, b)
	}
	y := c.empty(shape)
	check(op.String(), c.b.Binary(op, a, b, y), a, b)
	if c.needsGrad(a, b) {
		c.record(y, func(dy *Tensor) { c.binaryBackward(op, a, b, y, dy) })
	}
	return y
}

func (c *Context) binaryBackward(op BinaryOp, a, b, y, dy *Tensor) {
	name := op.String()
	switch op {
	case BinaryAdd, BinarySub:
		if g, beta := c.gradDst(a); g != nil {
			check(name, c.b.SumTo(dy, g, 1, beta), a)
		}
		if g, beta := c.gradDst(b); g != nil {
			sign := float32(1)
			if op == BinarySub {
				sign = -1
			}
			check(name, c.b.SumTo(dy, g, sign, beta), b)
		}
	case BinaryMul:
		c.accumProduct(name, a, dy, b, 1)
		c.accumProduct(name, b, dy, a, 1)
	case BinaryDiv:
		if a.requiresGrad { // da = dy / b
			t := c.empty(dy.Shape)
			check(name, c.b.Binary(BinaryDiv, dy, b, t), dy, b)
			c.sumInto(name, a, t)
		}
		if b.requiresGrad { // db = -dy * y / b
			t := c.empty(dy.Shape)
			check(name, c.b.Binary(BinaryMul, dy, y, t), dy, y)
			check(name, c.b.Binary(BinaryDiv, t, b, t), t, b)
			g, beta := c.gradDst(b)
			check(name, c.b.SumTo(t, g, -1, beta), b)
		}
	}
}

// accumProduct adds alpha·sumTo(dy·other) into dst's gradient.
func (c *Context) accumProduct(name string, dst, dy, other *Tensor, alpha float32) {
	if !dst.requiresGrad {
		return
	}
	t := c.empty(dy.Shape)
	check(name, c.b.Binary(BinaryMul, dy, other, t), dy, other)
	if alpha != 1 {
		check(name, c.b.Affine(t, t, alpha, 0), t)
	}
	c.sumInto(name, dst, t)
}

// sumInto adds t (broadcast shape) reduced to dst's shape into dst's grad.
func (c *Context) sumInto(name string, dst, t *Tensor) {
	if SameShape(dst.Shape, t.Shape) {
		c.addGrad(dst, t, true)
		return
	}
	g, beta := c.gradDst(dst)
	check(name, c.b.SumTo(t, g, 1, beta), dst)
}

// AddScalar returns x + s.
func (c *Context) AddScalar(x *Tensor, s float32) *Tensor { return c.Affine(x, 1, s) }

// MulScalar returns x · s.
func (c *Context) MulScalar(x *Tensor, s float32) *Tensor { return c.Affine(x, s, 0) }

// Affine returns x·mul + add.
func (c *Context) Affine(x *Tensor, mul, add float32) *Tensor {
	y := c.empty(x.Shape)
	check("affine", c.b.Affine(x, y, mul, add), x)
	if c.needsGrad(x) {
		c.record(y, func(dy *Tensor) {
			g, beta := c.gradDst(x)
			check("affine", c.b.SumTo(dy, g, mul, beta), x)
		})
	}
	return y
}

// Unary applies an elementwise function.
func (c *Context) Unary(op UnaryOp, x *Tensor) *Tensor {
	if op < 0 || op >= numUnary {
		panic(&OpError{Op: "unary", Msg: fmt.Sprintf("unknown function %d", op)})
	}
	y := c.empty(x.Shape)
	check(op.String(), c.b.Unary(op, x, y), x)
	if c.needsGrad(x) {
		c.record(y, func(dy *Tensor) {
			check(op.String(), c.b.UnaryBackward(op, x, y, dy, c.gradFor(x)), x)
		})
	}
	return y
}

// ReLU returns max(x, 0).
func (c *Context) ReLU(x *Tensor) *Tensor { return c.Unary(UnaryReLU, x) }

// GELU returns x·Φ(x) (the exact, erf form).
func (c *Context) GELU(x *Tensor) *Tensor { return c.Unary(UnaryGELU, x) }

// GELUTanh returns the tanh approximation of GELU.
func (c *Context) GELUTanh(x *Tensor) *Tensor { return c.Unary(UnaryGELUTanh, x) }

// SiLU returns x·sigmoid(x).
func (c *Context) SiLU(x *Tensor) *Tensor { return c.Unary(UnarySiLU, x) }

// Hardswish returns x·relu6(x+3)/6.
func (c *Context) Hardswish(x *Tensor) *Tensor { return c.Unary(UnaryHardswish, x) }

// Tanh returns tanh(x).
func (c *Context) Tanh(x *Tensor) *Tensor { return c.Unary(UnaryTanh, x) }

// Sigmoid returns 1/(1+exp(-x)).
func (c *Context) Sigmoid(x *Tensor) *Tensor { return c.Unary(UnarySigmoid, x) }

// Exp returns e^x.
func (c *Context) Exp(x *Tensor) *Tensor { return c.Unary(UnaryExp, x) }

// Log returns ln x.
func (c *Context) Log(x *Tensor) *Tensor { return c.Unary(UnaryLog, x) }

// Sqrt returns √x.
func (c *Context) Sqrt(x *Tensor) *Tensor { return c.Unary(UnarySqrt, x) }

// Square returns x².
func (c *Context) Square(x *Tensor) *Tensor { return c.Unary(UnarySquare, x) }

// Abs returns |x|.
func (c *Context) Abs(x *Tensor) *Tensor { return c.Unary(UnaryAbs, x) }

// Neg returns -x.
func (c *Context) Neg(x *Tensor) *Tensor { return c.Unary(UnaryNeg, x) }
