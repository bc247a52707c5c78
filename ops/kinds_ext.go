package ops

import (
	"fmt"
	"math"
)

// Node kinds that imported ONNX models need beyond the zoo's own: clip
// (ReLU6), hard sigmoid, softplus, elementwise max/min, max/min
// reductions and constant padding. They are computed in Go on the
// tensors' float32 data, forward and backward, so they run wherever the
// tensors live in host memory (the CPU backend); none is a Backend
// primitive.
const (
	// clip: clamp in[0] to [Lo, Hi] (min(max(x, Lo), Hi), ONNX Clip).
	OpClip OpKind = "clip"
	// hardsigmoid: clamp(Alpha·x + Beta, 0, 1).
	OpHardSigmoid OpKind = "hardsigmoid"
	// softplus: log(1 + exp(x)).
	OpSoftplus OpKind = "softplus"
	// max/min: elementwise of in[0] and in[1], numpy broadcasting.
	OpMax OpKind = "max"
	OpMin OpKind = "min"
	// reduce_max/reduce_min over Axes (all when empty), KeepDims.
	OpReduceMax OpKind = "reduce_max"
	OpReduceMin OpKind = "reduce_min"
	// pad: padding by Pads (ONNX order: the begins of every axis, then the
	// ends; non-negative) with PadValue, or PadMode "edge"/"reflect".
	OpPad OpKind = "pad"
)

// kinds_ext.go sorts after exec.go, so kindSpecs exists here.
func init() {
	kindSpecs[OpClip] = kindSpec{run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.Clip(in[0], n.Attrs.Lo, n.Attrs.Hi) }}
	kindSpecs[OpHardSigmoid] = kindSpec{run: func(e *exec, n *Node, in []*Tensor) *Tensor {
		return e.c.HardSigmoid(in[0], n.Attrs.Alpha, n.Attrs.Beta)
	}}
	kindSpecs[OpSoftplus] = kindSpec{run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.Softplus(in[0]) }}
	kindSpecs[OpMax] = kindSpec{run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.Maximum(in[0], in[1]) }}
	kindSpecs[OpMin] = kindSpec{run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.Minimum(in[0], in[1]) }}
	kindSpecs[OpReduceMax] = kindSpec{run: func(e *exec, n *Node, in []*Tensor) *Tensor {
		return e.c.ReduceMax(in[0], n.Attrs.Axes, n.Attrs.KeepDims)
	}}
	kindSpecs[OpReduceMin] = kindSpec{run: func(e *exec, n *Node, in []*Tensor) *Tensor {
		return e.c.ReduceMin(in[0], n.Attrs.Axes, n.Attrs.KeepDims)
	}}
	kindSpecs[OpPad] = kindSpec{run: func(e *exec, n *Node, in []*Tensor) *Tensor {
		return e.c.PadMode(in[0], n.Attrs.Pads, n.Attrs.PadValue, n.Attrs.PadMode)
	}}
}

// mapUnary computes y = f(x) elementwise; the gradient is dy·df(x, y).
func (c *Context) mapUnary(x *Tensor, f func(float32) float32, df func(x, y float32) float32) *Tensor {
	y := c.empty(x.Shape)
	for i, v := range x.Data {
		y.Data[i] = f(v)
	}
	if c.needsGrad(x) {
		c.record(y, func(dy *Tensor) {
			g := c.gradFor(x)
			for i, v := range x.Data {
				g.Data[i] += dy.Data[i] * df(v, y.Data[i])
			}
		})
	}
	return y
}

// Clip returns min(max(x, lo), hi).
func (c *Context) Clip(x *Tensor, lo, hi float32) *Tensor {
	return c.mapUnary(x, func(v float32) float32 { return min(max(v, lo), hi) },
		func(v, _ float32) float32 { return b2f32(v > lo && v < hi) })
}

// HardSigmoid returns clamp(alpha·x + beta, 0, 1).
func (c *Context) HardSigmoid(x *Tensor, alpha, beta float32) *Tensor {
	return c.mapUnary(x, func(v float32) float32 { return min(max(alpha*v+beta, 0), 1) },
		func(_, y float32) float32 { return alpha * b2f32(y > 0 && y < 1) })
}

// Softplus returns log(1 + exp(x)), computed without overflow.
func (c *Context) Softplus(x *Tensor) *Tensor {
	return c.mapUnary(x, func(v float32) float32 {
		f := float64(v)
		return float32(max(f, 0) + math.Log1p(math.Exp(-math.Abs(f))))
	}, func(v, _ float32) float32 { return float32(1 / (1 + math.Exp(-float64(v)))) })
}

func b2f32(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// Maximum returns the elementwise maximum of a and b with broadcasting.
func (c *Context) Maximum(a, b *Tensor) *Tensor {
	return c.pick("max", a, b, func(x, y float32) bool { return x >= y || x != x })
}

// Minimum returns the elementwise minimum of a and b with broadcasting.
func (c *Context) Minimum(a, b *Tensor) *Tensor {
	return c.pick("min", a, b, func(x, y float32) bool { return x <= y || x != x })
}

// pick returns y[i] = a[i] where first(a[i], b[i]), else b[i]; the
// gradient goes to the input picked.
func (c *Context) pick(name string, a, b *Tensor, first func(x, y float32) bool) *Tensor {
	shape, ok := BroadcastShape(a.Shape, b.Shape)
	if !ok {
		shapeErr(name, "shapes do not broadcast", a, b)
	}
	if !SameShape(a.Shape, shape) {
		a = c.BroadcastTo(a, shape...)
	}
	if !SameShape(b.Shape, shape) {
		b = c.BroadcastTo(b, shape...)
	}
	y := c.empty(shape)
	for i := range y.Data {
		if first(a.Data[i], b.Data[i]) {
			y.Data[i] = a.Data[i]
		} else {
			y.Data[i] = b.Data[i]
		}
	}
	if c.needsGrad(a, b) {
		c.record(y, func(dy *Tensor) {
			ga, gb := c.gradFor(a), c.gradFor(b)
			for i := range dy.Data {
				switch {
				case first(a.Data[i], b.Data[i]) && ga != nil:
					ga.Data[i] += dy.Data[i]
				case !first(a.Data[i], b.Data[i]) && gb != nil:
					gb.Data[i] += dy.Data[i]
				}
			}
		})
	}
	return y
}

// ReduceMax returns the maximum over axes (all when empty).
func (c *Context) ReduceMax(x *Tensor, axes []int, keepDims bool) *Tensor {
	return c.reduceArg("reduce_max", x, axes, keepDims, func(v, best float32) bool { return v > best || v != v })
}

// ReduceMin returns the minimum over axes (all when empty).
func (c *Context) ReduceMin(x *Tensor, axes []int, keepDims bool) *Tensor {
	return c.reduceArg("reduce_min", x, axes, keepDims, func(v, best float32) bool { return v < best || v != v })
}

// reduceArg keeps, for each output element, the input element that
// better prefers over all others along axes; the gradient goes to it.
func (c *Context) reduceArg(name string, x *Tensor, axes []int, keepDims bool, better func(v, best float32) bool) *Tensor {
	red := make([]bool, x.Dims())
	for _, a := range axes {
		if a < 0 {
			a += x.Dims()
		}
		if a < 0 || a >= x.Dims() {
			shapeErr(name, fmt.Sprintf("axis %d out of range", a), x)
		}
		red[a] = true
	}
	if len(axes) == 0 {
		for i := range red {
			red[i] = true
		}
	}
	keep := make([]int, x.Dims()) // the keep-dims output shape
	var outShape []int
	for i, d := range x.Shape {
		keep[i] = d
		if red[i] {
			keep[i] = 1
			if d == 0 {
				shapeErr(name, "reducing an empty axis", x)
			}
		}
		if !red[i] || keepDims {
			outShape = append(outShape, keep[i])
		}
	}
	y := c.empty(outShape)
	arg := make([]int, len(y.Data))
	for i := range arg {
		arg[i] = -1
	}
	xs, ks := Strides(x.Shape), Strides(keep)
	for i, v := range x.Data {
		o := 0
		for d := range x.Shape {
			if !red[d] {
				o += (i / xs[d] % x.Shape[d]) * ks[d]
			}
		}
		if arg[o] < 0 || better(v, y.Data[o]) && y.Data[o] == y.Data[o] {
			y.Data[o], arg[o] = v, i
		}
	}
	if c.needsGrad(x) {
		c.record(y, func(dy *Tensor) {
			g := c.gradFor(x)
			for o, i := range arg {
				g.Data[i] += dy.Data[o]
			}
		})
	}
	return y
}

// Strides returns the row-major strides of shape (elements, not bytes).
func Strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// Pad returns x padded with value by pads (the begins of every axis, then
// the ends, as ONNX Pad; non-negative).
func (c *Context) Pad(x *Tensor, pads []int, value float32) *Tensor {
	return c.PadMode(x, pads, value, "constant")
}

// PadMode is Pad with ONNX's modes: "constant" (value), "edge" (repeat
// the border) or "reflect" (mirror without repeating the border).
func (c *Context) PadMode(x *Tensor, pads []int, value float32, mode string) *Tensor {
	r := x.Dims()
	if len(pads) != 2*r {
		shapeErr("pad", fmt.Sprintf("pads %v for a rank-%d tensor", pads, r), x)
	}
	shape := make([]int, r)
	for d := range r {
		if pads[d] < 0 || pads[d+r] < 0 {
			shapeErr("pad", fmt.Sprintf("negative pads %v", pads), x)
		}
		if mode == "reflect" && (pads[d] >= x.Shape[d] || pads[d+r] >= x.Shape[d]) {
			shapeErr("pad", fmt.Sprintf("reflect pads %v need larger dimensions", pads), x)
		}
		shape[d] = x.Shape[d] + pads[d] + pads[d+r]
	}
	if mode != "constant" && mode != "edge" && mode != "reflect" && mode != "" {
		shapeErr("pad", fmt.Sprintf("unknown mode %q", mode), x)
	}
	y := c.empty(shape)
	xs, ys := Strides(x.Shape), Strides(shape)
	src := make([]int, len(y.Data)) // input index of each output, -1 for the fill value
	for o := range y.Data {
		i := 0
		for d := range r {
			k := o/ys[d]%shape[d] - pads[d]
			switch {
			case k >= 0 && k < x.Shape[d]:
			case mode == "edge":
				k = min(max(k, 0), x.Shape[d]-1)
			case mode == "reflect" && k < 0:
				k = -k
			case mode == "reflect":
				k = 2*(x.Shape[d]-1) - k
			default:
				i = -1
			}
			if i < 0 {
				break
			}
			i += k * xs[d]
		}
		src[o] = i
		if i < 0 {
			y.Data[o] = value
		} else {
			y.Data[o] = x.Data[i]
		}
	}
	if c.needsGrad(x) {
		c.record(y, func(dy *Tensor) {
			g := c.gradFor(x)
			for o, i := range src {
				if i >= 0 {
					g.Data[i] += dy.Data[o]
				}
			}
		})
	}
	return y
}

// Elementwise kinds over the backend's unary primitives and erf.
const (
	OpExp        OpKind = "exp"
	OpLog        OpKind = "log"
	OpSqrt       OpKind = "sqrt"
	OpAbs        OpKind = "abs"
	OpNeg        OpKind = "neg"
	OpReciprocal OpKind = "reciprocal"
	OpErf        OpKind = "erf"
)

func init() {
	for k, op := range map[OpKind]UnaryOp{OpExp: UnaryExp, OpLog: UnaryLog, OpSqrt: UnarySqrt, OpAbs: UnaryAbs, OpNeg: UnaryNeg, OpReciprocal: UnaryRecip} {
		kindSpecs[k] = unaryKind(op)
	}
	kindSpecs[OpErf] = kindSpec{run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.Erf(in[0]) }}
}

// Erf returns the error function of x.
func (c *Context) Erf(x *Tensor) *Tensor {
	return c.mapUnary(x, func(v float32) float32 { return float32(math.Erf(float64(v))) },
		func(v, _ float32) float32 { return float32(2 / math.SqrtPi * math.Exp(-float64(v)*float64(v))) })
}

// OpExpand broadcasts in[0] to the numpy broadcast of its shape and Shape
// (ONNX Expand: a 1 in Shape keeps the input's dimension, so a batch that
// the input carries stays dynamic).
const OpExpand OpKind = "expand"

func init() {
	kindSpecs[OpExpand] = kindSpec{run: func(e *exec, n *Node, in []*Tensor) *Tensor {
		shape, ok := BroadcastShape(in[0].Shape, n.Attrs.Shape)
		if !ok {
			shapeErr("expand", fmt.Sprintf("cannot broadcast to %v", n.Attrs.Shape), in[0])
		}
		if SameShape(shape, in[0].Shape) {
			return in[0]
		}
		return e.c.BroadcastTo(in[0], shape...)
	}}
}

// OpPow raises in[0] to the power in[1], elementwise with broadcasting.
const OpPow OpKind = "pow"

func init() {
	kindSpecs[OpPow] = kindSpec{run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.Pow(in[0], in[1]) }}
}

// Pow returns a^b elementwise with broadcasting.
func (c *Context) Pow(a, b *Tensor) *Tensor {
	shape, ok := BroadcastShape(a.Shape, b.Shape)
	if !ok {
		shapeErr("pow", "shapes do not broadcast", a, b)
	}
	if !SameShape(a.Shape, shape) {
		a = c.BroadcastTo(a, shape...)
	}
	if !SameShape(b.Shape, shape) {
		b = c.BroadcastTo(b, shape...)
	}
	y := c.empty(shape)
	for i := range y.Data {
		y.Data[i] = float32(math.Pow(float64(a.Data[i]), float64(b.Data[i])))
	}
	if c.needsGrad(a, b) {
		c.record(y, func(dy *Tensor) {
			ga, gb := c.gradFor(a), c.gradFor(b)
			for i := range dy.Data {
				x, p := float64(a.Data[i]), float64(b.Data[i])
				if ga != nil {
					ga.Data[i] += dy.Data[i] * float32(p*math.Pow(x, p-1))
				}
				if gb != nil && x > 0 {
					gb.Data[i] += dy.Data[i] * float32(math.Log(x)) * y.Data[i]
				}
			}
		})
	}
	return y
}
