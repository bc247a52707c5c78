package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// TestAddQuantizeInt8MatchesReference: the int8 residual add equals the
// float32 sum of the dequantized operands, ReLU, then round half to even
// and saturate, for codes and float operands in every pairing, sizes
// across the kernel's blocks, and 1-3 workers.
func TestAddQuantizeInt8MatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{1, 37, 512, 1037, 4099} {
		qa, qb := randInt8(r, n), randInt8(r, n)
		fa := make([]float32, n)
		for i := range fa {
			fa[i] = float32(r.NormFloat64() * 3)
		}
		codes := func(q []int8, s float32) ops.AddOperand { return ops.AddOperand{Q: q, Scale: s} }
		for _, pair := range [][2]ops.AddOperand{
			{codes(qa, 0.02), codes(qb, 0.03)},
			{ops.AddOperand{F: fa}, codes(qb, 0.05)},
			{codes(qa, 0.01), ops.AddOperand{F: fa}},
			{ops.AddOperand{F: fa}, ops.AddOperand{F: fa}},
		} {
			for _, relu := range []bool{false, true} {
				const scale = 0.037
				want := make([]int8, n)
				for i := range want {
					v := value(pair[0], i) + value(pair[1], i)
					if relu {
						v = max(v, 0)
					}
					want[i] = int8(math.Max(-128, math.Min(127, math.RoundToEven(float64(v*(1/float32(scale)))))))
				}
				for _, threads := range []int{1, 2, 3} {
					got := make([]int8, n)
					if err := New(Options{Threads: threads}).AddQuantizeInt8(pair[0], pair[1], scale, relu, got); err != nil {
						t.Fatal(err)
					}
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("n=%d relu=%v threads=%d: codes differ from the float add, ReLU and quantize", n, relu, threads)
					}
				}
			}
		}
	}
	if err := New(Options{}).AddQuantizeInt8(ops.AddOperand{Q: make([]int8, 3), Scale: 1}, ops.AddOperand{F: make([]float32, 4)}, 1, false, make([]int8, 3)); err == nil {
		t.Fatal("operands of different lengths accepted")
	}
}

func value(o ops.AddOperand, i int) float32 {
	if o.Q != nil {
		return float32(o.Q[i]) * o.Scale
	}
	return o.F[i]
}
