package ops

import (
	"fmt"
	"math"
)

// Gather returns rows of a (rows, D) table: y[i] = table[index[i]], shape
// (len(index), D). Gradients scatter-add back into the table. It is how a
// relative-position bias is read from its bias table.
func (c *Context) Gather(table *Tensor, index []int32) *Tensor {
	if table.Dims() != 2 {
		shapeErr("gather", "want a (rows, D) table", table)
	}
	for _, i := range index {
		if i < 0 || int(i) >= table.Shape[0] {
			shapeErr("gather", fmt.Sprintf("index %d outside [0, %d)", i, table.Shape[0]), table)
		}
	}
	y := c.empty([]int{len(index), table.Shape[1]})
	check("gather", c.b.Gather(table, index, y), table)
	if c.needsGrad(table) {
		c.record(y, func(dy *Tensor) {
			check("gather backward", c.b.ScatterAdd(dy, index, c.gradFor(table)), table)
		})
	}
	return y
}

// AttentionOptions are the optional parts of scaled dot-product attention.
type AttentionOptions struct {
	// Scale multiplies q·kᵀ; 0 means 1/sqrt(head dim).
	Scale float32
	// Bias is added to the scores; it broadcasts against (B, heads, N, N),
	// e.g. a (heads, N, N) relative-position bias.
	Bias *Tensor
	// Mask (nW, N, N) is added to the scores of batch entry b as Mask[b % nW]:
	// Swin's shifted-window mask (0 or a large negative value). It is a
	// constant.
	Mask *Tensor
}

// ScaledDotProductAttention returns softmax(scale·q·kᵀ + bias + mask)·v for
// q, k, v (B, heads, N, d). It composes recorded primitives, so its
// gradient needs no kernel of its own.
func (c *Context) ScaledDotProductAttention(q, k, v *Tensor, o AttentionOptions) *Tensor {
	if q.Dims() != 4 || !SameShape(q.Shape, k.Shape) || k.Shape[2] != v.Shape[2] || q.Shape[0] != v.Shape[0] || q.Shape[1] != v.Shape[1] {
		shapeErr("attention", "want q, k (B, heads, N, d) and v (B, heads, N, dv)", q, k, v)
	}
	scale := o.Scale
	if scale == 0 {
		scale = float32(1 / math.Sqrt(float64(q.Shape[3])))
	}
	s := c.matMulScaled(q, k, false, true, scale)
	if o.Bias != nil {
		s = c.Add(s, o.Bias)
	}
	if o.Mask != nil {
		s = c.addWindowMask(s, o.Mask)
	}
	return c.MatMul(c.Softmax(s, -1), v, false, false)
}

func (c *Context) addWindowMask(s, mask *Tensor) *Tensor {
	b, h, n := s.Shape[0], s.Shape[1], s.Shape[2]
	if mask.Dims() != 3 || mask.Shape[1] != n || mask.Shape[2] != n || b%mask.Shape[0] != 0 {
		shapeErr("attention", "mask must be (nW, N, N) with nW dividing the batch", s, mask)
	}
	nw := mask.Shape[0]
	m := &Tensor{Shape: []int{nw, 1, n, n}, Data: mask.Data, leaf: true}
	t := c.Add(c.Reshape(s, b/nw, nw, h, n, n), m)
	return c.Reshape(t, b, h, n, n)
}

// RelativePositionIndex returns Swin's (ws², ws²) index into a
// ((2ws-1)², heads) relative-position bias table, flattened row-major.
func RelativePositionIndex(ws int) []int32 {
	n := ws * ws
	idx := make([]int32, n*n)
	for i := range n {
		hi, wi := i/ws, i%ws
		for j := range n {
			hj, wj := j/ws, j%ws
			dh, dw := hi-hj+ws-1, wi-wj+ws-1
			idx[i*n+j] = int32(dh*(2*ws-1) + dw)
		}
	}
	return idx
}

// ShiftedWindowMask returns Swin's attention mask (nW, ws², ws²) for an
// h×w map cyclically shifted by shift: 0 where two tokens of a window came
// from the same region before the shift, -100 elsewhere. With shift 0 the
// mask is all zeros.
func ShiftedWindowMask(h, w, ws, shift int) *Tensor {
	region := make([]int, h*w)
	if shift > 0 {
		bounds := func(size int) []int { return []int{0, size - ws, size - shift, size} }
		hb, wb := bounds(h), bounds(w)
		cnt := 0
		for a := range 3 {
			for b := range 3 {
				for y := hb[a]; y < hb[a+1]; y++ {
					for x := wb[b]; x < wb[b+1]; x++ {
						region[y*w+x] = cnt
					}
				}
				cnt++
			}
		}
	}
	nh, nw, n := h/ws, w/ws, ws*ws
	mask := New(nh*nw, n, n)
	for win := range nh * nw {
		wy, wx := win/nw, win%nw
		ids := make([]int, n)
		for t := range n {
			ids[t] = region[(wy*ws+t/ws)*w+wx*ws+t%ws]
		}
		for i := range n {
			for j := range n {
				if ids[i] != ids[j] {
					mask.Data[(win*n+i)*n+j] = -100
				}
			}
		}
	}
	return mask
}
