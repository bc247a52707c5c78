package ops

import (
	"fmt"
	"slices"
	"strconv"
)

// Int8 residual adds.
//
// An add whose output feeds int8 layers (through its fused ReLU) gets
// OutScale, their input scale, from ConvertInt8: it then writes int8
// codes in that scale, relu(a + b) quantized as the next layer would
// quantize it, so a residual network's blocks never leave int8 between
// the convolutions. Its operands are taken as they come: int8 codes (the
// block input, dequantized on the fly) or the float output of a qconv2d
// (the block's last convolution or its projection shortcut), which
// then stays channel-last like the codes, so nothing is transposed. The
// sum is formed in float32 exactly as the float add would form it, so
// the codes are bit for bit those of the float add, ReLU and quantize.

// Int8AddBackend is implemented by backends that add two operands and
// quantize the sum.
type Int8AddBackend interface {
	// AddQuantizeInt8 writes out[i] = q(relu?(a[i] + b[i])), where an
	// operand's value is float32(code)·Scale for codes (Q) or its float
	// (F), the sum is float32 and q is QuantizeInt8's with scale. Both
	// operands have len(out) elements in the same order.
	AddQuantizeInt8(a, b AddOperand, scale float32, relu bool, out []int8) error
}

// AddOperand is one operand of Int8AddBackend.AddQuantizeInt8: int8
// codes Q with their Scale, or (Q nil) float values F.
type AddOperand struct {
	Q     []int8
	Scale float32
	F     []float32
}

// runAdd runs an add node: an int8 add (OutScale) writes codes, channel-
// last when both operands are; any add applies its fused ReLU.
func (e *exec) runAdd(spec kindSpec, n *Node, in []*Tensor) *Tensor {
	if n.Attrs.OutScale > 0 && len(in) == 2 {
		if y := e.addInt8(n, in[0], in[1]); y != nil {
			return y
		}
	}
	for i := range in {
		in[i] = e.c.Dequantize(in[i])
	}
	y := spec.run(e, n, in)
	if n.Attrs.FusedReLU {
		y = e.c.Unary(UnaryReLU, y)
	}
	if s := n.Attrs.OutScale; s > 0 {
		return e.c.QuantizeInt8(y, s)
	}
	return y
}

// addInt8 is the channel-last int8 add, or nil when an operand is not
// channel-last (or the shapes differ, or the backend has no kernel).
func (e *exec) addInt8(n *Node, a, b *Tensor) *Tensor {
	ab, ok := e.c.b.(Int8AddBackend)
	if !ok || !slices.Equal(a.Shape, b.Shape) || a.Dims() != 4 {
		return nil
	}
	oa, okA := channelLastOperand(a)
	ob, okB := channelLastOperand(b)
	if !okA || !okB {
		return nil
	}
	out := e.c.int8s(a.Numel()) // every code is written
	if err := ab.AddQuantizeInt8(oa, ob, n.Attrs.OutScale, n.Attrs.FusedReLU, out); err != nil {
		shapeErr("add", fmt.Sprintf("int8 add: %v", err), a, b)
	}
	return newInt8NHWC(out, n.Attrs.OutScale, a.Shape...)
}

// channelLastOperand returns t's channel-last values as an add operand.
func channelLastOperand(t *Tensor) (AddOperand, bool) {
	if t.fnhwc {
		return AddOperand{F: t.Data}, true
	}
	if q, s, nhwc := t.int8Raw(); nhwc && t.qflat == 0 {
		return AddOperand{Q: q, Scale: s}, true
	}
	return AddOperand{}, false
}

// floatChannelLast reports whether a qconv2d with float output may leave
// it channel-last: every consumer is an int8 add (cached per model
// version).
func (e *exec) floatChannelLast(n *Node) bool {
	return e.m.cached("int8/chlast/"+strconv.Itoa(n.ID), func() any {
		cs := e.m.Consumers(n)
		if len(cs) == 0 || e.m.isOutput(n) {
			return false
		}
		for _, c := range cs {
			if c.Kind != OpAdd || c.Attrs.OutScale <= 0 {
				return false
			}
		}
		return true
	}).(bool)
}
