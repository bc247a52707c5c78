package ops

import "fmt"

// inferShape resolves one -1 entry of a reshape target.
func inferShape(x *Tensor, shape []int) []int {
	out := append([]int(nil), shape...)
	free, known := -1, 1
	for i, d := range out {
		switch {
		case d == -1 && free < 0:
			free = i
		case d < 0:
			shapeErr("reshape", fmt.Sprintf("bad target %v", shape), x)
		default:
			known *= d
		}
	}
	if free >= 0 && known > 0 && x.Numel()%known == 0 {
		out[free] = x.Numel() / known
	}
	if Numel(out) != x.Numel() || (free >= 0 && known == 0) {
		shapeErr("reshape", fmt.Sprintf("cannot view %d elements as %v", x.Numel(), shape), x)
	}
	return out
}

// Reshape returns a view of x with a new shape; one entry may be -1.
func (c *Context) Reshape(x *Tensor, shape ...int) *Tensor {
	y := &Tensor{Shape: inferShape(x, shape), Data: x.Data, leaf: true}
	if c.needsGrad(x) {
		c.record(y, func(dy *Tensor) {
			c.addGrad(x, &Tensor{Shape: x.Shape, Data: dy.Data}, true)
		})
	}
	return y
}

// Flatten merges axes from start to the end into one (torch.flatten(x, start)).
func (c *Context) Flatten(x *Tensor, start int) *Tensor {
	if start < 0 {
		start += x.Dims()
	}
	if start < 0 || start >= x.Dims() {
		shapeErr("flatten", fmt.Sprintf("start axis %d out of range", start), x)
	}
	return c.Reshape(x, append(append([]int(nil), x.Shape[:start]...), -1)...)
}

// Permute reorders axes: output axis i is input axis perm[i].
func (c *Context) Permute(x *Tensor, perm ...int) *Tensor {
	if len(perm) != x.Dims() {
		shapeErr("permute", fmt.Sprintf("permutation %v has wrong length", perm), x)
	}
	perm = normAxes("permute", x, perm)
	shape := make([]int, len(perm))
	inv := make([]int, len(perm))
	for i, a := range perm {
		shape[i] = x.Shape[a]
		inv[a] = i
	}
	y := c.empty(shape)
	check("permute", c.b.Permute(x, y, perm), x)
	if c.needsGrad(x) {
		c.record(y, func(dy *Tensor) {
			t := c.empty(x.Shape)
			check("permute backward", c.b.Permute(dy, t, inv), x)
			c.addGrad(x, t, true)
		})
	}
	return y
}

// Transpose swaps two axes.
func (c *Context) Transpose(x *Tensor, a, b int) *Tensor {
	perm := make([]int, x.Dims())
	for i := range perm {
		perm[i] = i
	}
	ax := normAxes("transpose", x, []int{a, b})
	perm[ax[0]], perm[ax[1]] = perm[ax[1]], perm[ax[0]]
	return c.Permute(x, perm...)
}

// Concat joins tensors along axis; other axes must match.
func (c *Context) Concat(axis int, xs ...*Tensor) *Tensor {
	if len(xs) == 0 {
		shapeErr("concat", "no inputs")
	}
	outer, _, inner, ax := axisView("concat", xs[0], axis)
	shape := append([]int(nil), xs[0].Shape...)
	shape[ax] = 0
	for _, x := range xs {
		if x.Dims() != len(shape) || Numel(x.Shape[:ax]) != outer || Numel(x.Shape[ax+1:]) != inner ||
			!SameShape(x.Shape[:ax], xs[0].Shape[:ax]) || !SameShape(x.Shape[ax+1:], xs[0].Shape[ax+1:]) {
			shapeErr("concat", fmt.Sprintf("shapes differ outside axis %d", axis), xs...)
		}
		shape[ax] += x.Shape[ax]
	}
	y := c.zeros(shape)
	parts := make([]SliceParams, len(xs))
	start := 0
	for i, x := range xs {
		parts[i] = SliceParams{Outer: outer, Dim: shape[ax], Inner: inner, Start: start, Step: 1, Len: x.Shape[ax]}
		check("concat", c.b.SliceBackward(parts[i], x, y), xs...)
		start += x.Shape[ax]
	}
	if c.needsGrad(xs...) {
		c.record(y, func(dy *Tensor) {
			for i, x := range xs {
				if g := c.gradFor(x); g != nil {
					t := c.empty(x.Shape)
					check("concat backward", c.b.Slice(parts[i], dy, t), x)
					c.addGrad(x, t, true)
				}
			}
		})
	}
	return y
}

// Slice returns x[start:end:step] along axis (negative start/end count
// from the end, as in Python; end is clamped).
func (c *Context) Slice(x *Tensor, axis, start, end, step int) *Tensor {
	outer, dim, inner, ax := axisView("slice", x, axis)
	if step <= 0 {
		shapeErr("slice", fmt.Sprintf("step %d must be positive", step), x)
	}
	start, end = clampIndex(start, dim), clampIndex(end, dim)
	n := 0
	if end > start {
		n = (end - start + step - 1) / step
	}
	p := SliceParams{Outer: outer, Dim: dim, Inner: inner, Start: start, Step: step, Len: n}
	shape := append([]int(nil), x.Shape...)
	shape[ax] = n
	y := c.empty(shape)
	check("slice", c.b.Slice(p, x, y), x)
	if c.needsGrad(x) {
		c.record(y, func(dy *Tensor) {
			check("slice backward", c.b.SliceBackward(p, dy, c.gradFor(x)), x)
		})
	}
	return y
}

func clampIndex(i, dim int) int {
	if i < 0 {
		i += dim
	}
	return min(max(i, 0), dim)
}

// Roll shifts x cyclically along each axis by the matching shift
// (torch.roll): element i moves to i+shift.
func (c *Context) Roll(x *Tensor, shifts, axes []int) *Tensor {
	if len(shifts) != len(axes) {
		shapeErr("roll", fmt.Sprintf("%d shifts for %d axes", len(shifts), len(axes)), x)
	}
	y := x
	for i, a := range axes {
		y = c.roll1(y, a, shifts[i])
	}
	return y
}

func (c *Context) roll1(x *Tensor, axis, shift int) *Tensor {
	outer, dim, inner, _ := axisView("roll", x, axis)
	p := RollParams{Outer: outer, Dim: dim, Inner: inner, Shift: shift}
	y := c.empty(x.Shape)
	check("roll", c.b.Roll(p, x, y), x)
	if c.needsGrad(x) {
		c.record(y, func(dy *Tensor) {
			t := c.empty(x.Shape)
			back := p
			back.Shift = -shift
			check("roll backward", c.b.Roll(back, dy, t), x)
			c.addGrad(x, t, true)
		})
	}
	return y
}

// WindowPartition splits x (B, H, W, C) into non-overlapping ws×ws windows,
// returning (B·H/ws·W/ws, ws·ws, C) in Swin's window order.
func (c *Context) WindowPartition(x *Tensor, ws int) *Tensor {
	if x.Dims() != 4 || ws <= 0 || x.Shape[1]%ws != 0 || x.Shape[2]%ws != 0 {
		shapeErr("window_partition", fmt.Sprintf("want (B,H,W,C) with H and W divisible by window %d", ws), x)
	}
	b, h, w, ch := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	t := c.Reshape(x, b, h/ws, ws, w/ws, ws, ch)
	t = c.Permute(t, 0, 1, 3, 2, 4, 5)
	return c.Reshape(t, -1, ws*ws, ch)
}

// WindowReverse is WindowPartition's inverse: windows (B·nW, ws·ws, C) back
// to (B, H, W, C).
func (c *Context) WindowReverse(x *Tensor, ws, h, w int) *Tensor {
	if x.Dims() != 3 || ws <= 0 || h%ws != 0 || w%ws != 0 || x.Shape[1] != ws*ws || x.Shape[0]%((h/ws)*(w/ws)) != 0 {
		shapeErr("window_reverse", fmt.Sprintf("want (B·nW, %d, C) windows of a %dx%d map", ws*ws, h, w), x)
	}
	ch := x.Shape[2]
	t := c.Reshape(x, -1, h/ws, w/ws, ws, ws, ch)
	t = c.Permute(t, 0, 1, 3, 2, 4, 5)
	return c.Reshape(t, -1, h, w, ch)
}

// BroadcastTo repeats x to shape under numpy broadcasting rules (a class
// token to the batch); the gradient sums over the repeats.
func (c *Context) BroadcastTo(x *Tensor, shape ...int) *Tensor {
	if b, ok := BroadcastShape(x.Shape, shape); !ok || !SameShape(b, shape) {
		shapeErr("broadcast_to", fmt.Sprintf("cannot broadcast to %v", shape), x)
	}
	y := c.empty(shape)
	zero := &Tensor{Shape: []int{}, Data: []float32{0}, leaf: true}
	check("broadcast_to", c.b.Binary(BinaryAdd, x, zero, y), x)
	if c.needsGrad(x) {
		c.record(y, func(dy *Tensor) {
			g, beta := c.gradDst(x)
			check("broadcast_to backward", c.b.SumTo(dy, g, 1, beta), x)
		})
	}
	return y
}
