package ops_test

import (
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
)

// Without gradients, conv2d → clip (ReLU6), hardswish or hardsigmoid runs
// as one convolution with the activation in its epilogue; the outputs
// must match the nodes run apart (a hook turns fusion off), and a conv
// with a second reader is not fused.
func TestConvEpilogueFusionMatchesUnfused(t *testing.T) {
	b := ops.NewBuilder("fuse", 1)
	x := b.Input("x")
	h := b.Op(ops.OpClip, "relu6", ops.Attrs{Lo: 0, Hi: 6}, b.Conv2d("c1", x, 3, 8, 3, ops.Conv2dOptions{Padding: [2]int{1, 1}}, true))
	h = b.Act(ops.OpHardswish, "hs", b.Conv2d("dw", h, 8, 8, 3, ops.Conv2dOptions{Padding: [2]int{1, 1}, Stride: [2]int{2, 2}, Groups: 8}, true))
	c3 := b.Conv2d("c3", h, 8, 8, 1, ops.Conv2dOptions{}, true)
	gate := b.Op(ops.OpHardSigmoid, "hsig", ops.Attrs{Alpha: 1.0 / 6, Beta: 0.5}, c3)
	h = b.Op(ops.OpMul, "se", ops.Attrs{}, gate, c3) // c3 has two readers: not fused
	h = b.Op(ops.OpHardSigmoid, "hsig2", ops.Attrs{Alpha: 0.2, Beta: 0.5}, b.Conv2d("c4", h, 8, 4, 1, ops.Conv2dOptions{}, true))
	h = b.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, h)
	m, err := b.Build(h)
	if err != nil {
		t.Fatal(err)
	}
	got := ops.FusedEpilogues(m)
	if want := map[ops.OpKind]int{ops.OpClip: 1, ops.OpHardswish: 1, ops.OpHardSigmoid: 1}; len(got) != len(want) ||
		got[ops.OpClip] != 1 || got[ops.OpHardswish] != 1 || got[ops.OpHardSigmoid] != 1 {
		t.Fatalf("fused epilogues %v, want %v", got, want)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, p := range m.Params() {
		for i := range p.Value.Data {
			p.Value.Data[i] = float32(r.NormFloat64())
		}
	}
	in := ops.New(2, 3, 9, 9)
	for i := range in.Data {
		in.Data[i] = float32(2 * r.NormFloat64())
	}
	c := ops.NewContext(cpu.New(cpu.Options{}), ops.Options{})
	fused, err := m.Forward1(c, in)
	if err != nil {
		t.Fatal(err)
	}
	// a backend without the epilogue kernel runs the pairs as their ops
	plain, err := m.Forward1(ops.NewContext(plainBackend{cpu.New(cpu.Options{})}, ops.Options{}), in)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range plain.Data {
		if d := fused.Data[i] - v; d > 1e-5 || d < -1e-5 {
			t.Fatalf("output %d: fused %v, without the epilogue kernel %v", i, fused.Data[i], v)
		}
	}
	outs, err := m.ForwardObserved(c, func(*ops.Node, []*ops.Tensor, *ops.Tensor) {}, in)
	if err != nil {
		t.Fatal(err)
	}
	var lo, hi int // hsig2's saturation: both knees exercised
	for i, v := range outs[0].Data {
		if d := fused.Data[i] - v; d > 1e-5 || d < -1e-5 {
			t.Fatalf("output %d: fused %v, unfused %v", i, fused.Data[i], v)
		}
		lo, hi = lo+b2i(v == 0), hi+b2i(v == 1)
	}
	if lo == 0 || hi == 0 {
		t.Errorf("the last hardsigmoid saturated %d times at 0 and %d at 1: the test does not reach the knees", lo, hi)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
