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

// AttentionParams describes multi-head self-attention on a fused qkv
// projection: qkv (Batch, Tokens, 3, Heads, HeadDim) with C = Heads·HeadDim.
type AttentionParams struct {
	Batch, Tokens, Heads, HeadDim int
	Scale                         float32
}

// QKVAttentionBackend is an optional Backend extension: attention read
// straight from the qkv projection and written straight into (B, N, C), one
// (batch entry, head) at a time, instead of permuting and slicing q, k and
// v out, materialising the scaled scores and permuting the result back.
type QKVAttentionBackend interface {
	// QKVAttention computes out (B, N, C) = softmax(Scale·q·kᵀ)·v per batch
	// entry and head; probs (B, Heads, N, N) receives the softmax when not
	// nil (training).
	QKVAttention(p AttentionParams, qkv, out, probs *Tensor) error
	// QKVAttentionBackward computes dqkv = beta·dqkv + the gradient of
	// QKVAttention's out with respect to qkv, given dout and its probs.
	QKVAttentionBackward(p AttentionParams, qkv, probs, dout, dqkv *Tensor, beta float32) error
}

// qkvAttention is multi-head self-attention without bias or mask on qkv
// (B, N, 3C), or nil when the backend lacks QKVAttentionBackend.
func (c *Context) qkvAttention(x *Tensor, heads int, scale float32) *Tensor {
	fb, ok := c.b.(QKVAttentionBackend)
	if !ok {
		return nil
	}
	b, n, ch := x.Shape[0], x.Shape[1], x.Shape[2]/3
	p := AttentionParams{Batch: b, Tokens: n, Heads: heads, HeadDim: ch / heads, Scale: scale}
	if p.Scale == 0 {
		p.Scale = float32(1 / math.Sqrt(float64(p.HeadDim)))
	}
	y := c.empty([]int{b, n, ch})
	var probs *Tensor
	grad := c.needsGrad(x)
	if grad {
		probs = c.empty([]int{b, heads, n, n})
	}
	check("attention", fb.QKVAttention(p, x, y, probs), x)
	if grad {
		c.record(y, func(dy *Tensor) {
			g, beta := c.gradDst(x)
			check("attention backward", fb.QKVAttentionBackward(p, x, probs, dy, g, beta), x)
		})
	}
	return y
}
