package ops

import "fmt"

// normAxes resolves negative axes and checks range and duplicates.
func normAxes(op string, x *Tensor, axes []int) []int {
	seen := make([]bool, len(x.Shape))
	out := make([]int, len(axes))
	for i, a := range axes {
		if a < 0 {
			a += len(x.Shape)
		}
		if a < 0 || a >= len(x.Shape) || seen[a] {
			shapeErr(op, fmt.Sprintf("bad axes %v", axes), x)
		}
		seen[a] = true
		out[i] = a
	}
	return out
}

// keptShape is x's shape with the reduced axes set to 1.
func keptShape(shape, axes []int) []int {
	out := append([]int(nil), shape...)
	for _, a := range axes {
		out[a] = 1
	}
	return out
}

func droppedShape(shape, axes []int) []int {
	red := make([]bool, len(shape))
	for _, a := range axes {
		red[a] = true
	}
	out := []int{}
	for i, d := range shape {
		if !red[i] {
			out = append(out, d)
		}
	}
	return out
}

// Sum reduces x over axes (all axes when none are given). keepDims keeps
// the reduced axes with size 1.
func (c *Context) Sum(x *Tensor, axes []int, keepDims bool) *Tensor {
	return c.reduce("sum", x, axes, keepDims, 1)
}

// Mean averages x over axes (all axes when none are given).
func (c *Context) Mean(x *Tensor, axes []int, keepDims bool) *Tensor {
	ax := c.allAxes(x, axes)
	n := 1
	for _, a := range normAxes("mean", x, ax) {
		n *= x.Shape[a]
	}
	return c.reduce("mean", x, ax, keepDims, 1/float32(max(n, 1)))
}

// SumAll returns the sum of all elements as a scalar.
func (c *Context) SumAll(x *Tensor) *Tensor { return c.Sum(x, nil, false) }

// MeanAll returns the mean of all elements as a scalar.
func (c *Context) MeanAll(x *Tensor) *Tensor { return c.Mean(x, nil, false) }

func (c *Context) allAxes(x *Tensor, axes []int) []int {
	if len(axes) > 0 {
		return axes
	}
	all := make([]int, len(x.Shape))
	for i := range all {
		all[i] = i
	}
	return all
}

func (c *Context) reduce(op string, x *Tensor, axes []int, keepDims bool, alpha float32) *Tensor {
	axes = normAxes(op, x, c.allAxes(x, axes))
	kept := keptShape(x.Shape, axes)
	y := c.empty(kept)
	check(op, c.b.SumTo(x, y, alpha, 0), x)
	if !keepDims {
		y.Shape = droppedShape(x.Shape, axes)
	}
	if c.needsGrad(x) {
		c.record(y, func(dy *Tensor) {
			view := &Tensor{Shape: kept, Data: dy.Data}
			g := c.gradFor(x)
			if alpha == 1 {
				check(op, c.b.Binary(BinaryAdd, g, view, g), x)
				return
			}
			t := c.empty(kept)
			check(op, c.b.Affine(view, t, alpha, 0), x)
			check(op, c.b.Binary(BinaryAdd, g, t, g), x)
		})
	}
	return y
}
