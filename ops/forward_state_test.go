package ops_test

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"weak"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
)

// residualModel is conv → ReLU → conv → add (the conv's input) → ReLU:
// a value that lives past its next reader, for the lifetimes.
func residualModel(t *testing.T) (*ops.Model, *ops.Tensor) {
	t.Helper()
	b := ops.NewBuilder("residual", 1)
	x := b.Input("x")
	pad := ops.Conv2dOptions{Padding: [2]int{1, 1}}
	r1 := b.Act(ops.OpReLU, "r1", b.Conv2d("c1", x, 2, 4, 3, pad, true))
	c2 := b.Conv2d("c2", r1, 4, 4, 3, pad, true)
	m, err := b.Build(b.Act(ops.OpReLU, "r2", b.Op(ops.OpAdd, "add", ops.Attrs{}, c2, r1)))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	in := ops.New(1, 2, 6, 6)
	for i := range in.Data {
		in.Data[i] = float32(r.NormFloat64())
	}
	return m, in
}

// A forward reuses the value table and storage counts its Context's last
// forward left; a forward run from a hook, on the same Context, in the
// middle of another must get its own, and both must give the bits of a
// forward on a context of its own.
func TestForwardInsideForwardOnOneContext(t *testing.T) {
	m, x := residualModel(t)
	f, err := ops.Freeze(m)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Forward1(ops.NewContext(cpu.New(cpu.Options{}), ops.Options{}), x)
	if err != nil {
		t.Fatal(err)
	}
	c := ops.NewContext(cpu.New(cpu.Options{}), ops.Options{})
	var inner []*ops.Tensor
	hook := func(n *ops.Node, in []*ops.Tensor, out *ops.Tensor) {
		y, err := f.Forward1(c, x)
		if err != nil {
			t.Fatal(err)
		}
		inner = append(inner, y)
	}
	for range 2 {
		outs, err := m.ForwardObserved(c, hook, x)
		if err != nil {
			t.Fatal(err)
		}
		for i, y := range append(inner, outs[0]) {
			if !slices.Equal(y.Data, want.Data) {
				t.Fatalf("forward %d: %v, want %v", i, y.Data, want.Data)
			}
		}
		inner = inner[:0]
		c.Reset()
	}
}

// What a forward leaves on its Context for the next one holds none of
// its tensors: the caller's input can be collected while the Context
// lives.
func TestForwardKeepsNoInput(t *testing.T) {
	m, x := residualModel(t)
	c := ops.NewContext(cpu.New(cpu.Options{}), ops.Options{})
	if _, err := m.Forward(c, x); err != nil {
		t.Fatal(err)
	}
	c.Reset()
	w := weak.Make(x)
	x = nil
	runtime.GC()
	if w.Value() != nil {
		t.Fatal("the input is still reachable after the forward")
	}
	runtime.KeepAlive(c)
}
