package cpu

import (
	"fmt"
	"math"

	"github.com/qpipe/qpipe/ops"
)

var _ ops.Int8AddBackend = (*Backend)(nil)

// AddQuantizeInt8 writes out = q(relu?(a + b)) (see ops.Int8AddBackend):
// each block of the sum is formed in float32 as the float add forms it,
// then quantized by QuantizeInt8's kernel, so the codes are those of the
// float add, ReLU and quantize.
func (b *Backend) AddQuantizeInt8(x, y ops.AddOperand, scale float32, relu bool, out []int8) error {
	for _, o := range []ops.AddOperand{x, y} {
		if n := max(len(o.Q), len(o.F)); n != len(out) || (o.Q != nil && o.F != nil) {
			return fmt.Errorf("operand of %d codes and %d floats for %d outputs", len(o.Q), len(o.F), len(out))
		}
	}
	inv := 1 / scale
	floor := float32(math.Inf(-1))
	if relu {
		floor = 0
	}
	if x.Q == nil && y.Q != nil {
		x, y = y, x // float32 addition commutes
	}
	b.w.For(len(out), grain, func(lo, hi int) {
		switch { // whole blocks of 16 in assembly, the rest below
		case x.Q != nil && y.Q == nil:
			lo += addQF16(x.Q[lo:hi], x.Scale, y.F[lo:hi], inv, floor, out[lo:hi])
		case x.Q == nil:
			lo += addFF16(x.F[lo:hi], y.F[lo:hi], inv, floor, out[lo:hi])
		}
		var buf [512]float32
		for i := lo; i < hi; i += len(buf) {
			v := buf[:min(len(buf), hi-i)]
			operandInto(v, x, i)
			addOperand(v, y, i)
			if relu {
				for j, s := range v {
					v[j] = max(s, 0)
				}
			}
			quantS8(v, inv, out[i:][:len(v)])
		}
	})
	return nil
}

// operandInto writes o's values from index i into v.
func operandInto(v []float32, o ops.AddOperand, i int) {
	if o.Q == nil {
		copy(v, o.F[i:])
		return
	}
	q := o.Q[i:][:len(v)]
	for j, c := range q {
		v[j] = float32(c) * o.Scale
	}
}

// addOperand adds o's values from index i to v.
func addOperand(v []float32, o ops.AddOperand, i int) {
	if o.Q == nil {
		f := o.F[i:][:len(v)]
		for j, s := range f {
			v[j] += s
		}
		return
	}
	q := o.Q[i:][:len(v)]
	for j, c := range q {
		v[j] += float32(c) * o.Scale
	}
}
