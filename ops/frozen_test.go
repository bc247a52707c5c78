package ops_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

// randomized is m with every parameter drawn at random (batch-norm
// variances positive), so folded batch norms and residuals matter.
func randomized(m *ops.Model, seed uint64) *ops.Model {
	r := rand.New(rand.NewPCG(seed, 7))
	for _, p := range m.Params() {
		for i := range p.Value.Data {
			v := p.Value.Data[i] + float32(r.NormFloat64())*0.1
			if strings.HasSuffix(p.Name, "running_var") {
				v = 0.5 + float32(r.Float64())
			}
			p.Value.Data[i] = v
		}
	}
	return m
}

// frozenCases are models that take every kind of step: convolution
// chains with batch norms and residuals (resBlocks, resnet20, with
// Winograd layers), fused ReLU and pool (cnn), inverted residual blocks
// (mobileBlocks), attention with a relative-position bias and a class
// token (swin-micro, vit-tiny), plain layers (mlp).
func frozenCases(t *testing.T) map[string]frozenCase {
	out := map[string]frozenCase{
		"res":    {randomized(resBlocks(t), 1), []int{4, 8, 8}},
		"mobile": {mobileBlocks(t), []int{16, 40, 40}},
	}
	for _, z := range []struct {
		name string
		s    zoo.Shape
	}{{"cnn", zoo.Shape{C: 1, H: 28, W: 28}}, {"resnet20", zoo.Shape{C: 3, H: 32, W: 32}},
		{"swin-micro", zoo.Shape{C: 1, H: 28, W: 28}}, {"vit-tiny", zoo.Shape{C: 1, H: 28, W: 28}}, {"mlp", zoo.Shape{C: 1, H: 28, W: 28}}} {
		m, err := zoo.Build(z.name, z.s, 10, 1)
		if err != nil {
			t.Fatal(err)
		}
		out[z.name] = frozenCase{randomized(m, 2), []int{z.s.C, z.s.H, z.s.W}}
	}
	return out
}

// frozenCase is a model and its per-image input shape.
type frozenCase struct {
	m     *ops.Model
	shape []int
}

func randomInput(seed uint64, n int, shape []int) *ops.Tensor {
	x := ops.New(append([]int{n}, shape...)...)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range x.Data {
		x.Data[i] = r.Float32()
	}
	return x
}

func forwardBits(t *testing.T, what string, fwd func(*ops.Context, ...*ops.Tensor) (*ops.Tensor, error), c *ops.Context, x *ops.Tensor) []float32 {
	t.Helper()
	y, err := fwd(c, x)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	out := slices.Clone(y.Data)
	c.Reset()
	return out
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// A frozen model computes its model's outputs bit for bit (the same
// kernels in the same order; batch norms folded once the same way), on
// its first forward and on later ones (cached weight transforms), at
// batch 1 and 3, on 1 and 2 workers.
func TestFrozenMatchesModel(t *testing.T) {
	for name, tc := range frozenCases(t) {
		f, err := ops.Freeze(tc.m)
		if err != nil {
			t.Fatal(err)
		}
		for _, threads := range []int{1, 2} {
			c := ops.NewContext(cpu.New(cpu.Options{Threads: threads}), ops.Options{})
			for _, n := range []int{1, 3} {
				x := randomInput(uint64(n), n, tc.shape)
				want := forwardBits(t, name, tc.m.Forward1, c, x)
				for run := range 2 {
					if got := forwardBits(t, name+" frozen", f.Forward1, c, x); !sameBits(got, want) {
						t.Errorf("%s, %d workers, batch %d, run %d: frozen output differs from the model's", name, threads, n, run)
					}
				}
			}
		}
	}
}

// Freeze takes a snapshot: changing the model afterwards — its weights
// and batch-norm statistics in place, a parameter replaced, a node's
// kind — changes the model's outputs (the ordinary path notices: they
// match a fresh copy's) and not the frozen model's. With storage shared
// between the two, the frozen outputs would follow the model's.
func TestFrozenIsASnapshot(t *testing.T) {
	m, err := zoo.Build("resnet20", zoo.Shape{C: 3, H: 32, W: 32}, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	m = randomized(m, 3)
	c := ops.NewContext(cpu.New(cpu.Options{}), ops.Options{})
	x := randomInput(4, 2, []int{3, 32, 32})
	before := forwardBits(t, "model", m.Forward1, c, x) // caches the model's own transforms
	f, err := ops.Freeze(m)
	if err != nil {
		t.Fatal(err)
	}
	if got := forwardBits(t, "frozen", f.Forward1, c, x); !sameBits(got, before) {
		t.Fatal("frozen output differs from the model's")
	}
	for _, p := range m.Params() {
		if p.Value.Frozen() {
			t.Fatalf("Freeze marked the model's own parameter %s frozen", p.Name)
		}
		for i := range p.Value.Data {
			p.Value.Data[i] *= 1.5
		}
	}
	fc := m.Params()[len(m.Params())-1]
	if err := m.SetParam(fc.Name, ops.New(fc.Value.Shape...)); err != nil {
		t.Fatal(err)
	}
	for _, n := range m.Nodes {
		if n.Kind == ops.OpReLU {
			m.ReplaceKind(n, ops.OpIdentity, n.Span)
			break
		}
	}
	after := forwardBits(t, "changed model", m.Forward1, c, x)
	if fresh := forwardBits(t, "fresh copy", m.Clone().Forward1, c, x); !sameBits(after, fresh) {
		t.Error("the changed model's output differs from a fresh copy's: the ordinary path missed a change")
	}
	if sameBits(after, before) {
		t.Fatal("changing the model did not change its output: the test shows nothing")
	}
	if got := forwardBits(t, "frozen", f.Forward1, c, x); !sameBits(got, before) {
		t.Error("changing the model changed the frozen model's output: the snapshot shares storage")
	}
}

// A frozen model's output that would be a parameter's storage (a
// parameter node as an output, or a view of one) is a copy: writing
// into it does not change the next forward.
func TestFrozenOutputsNeverShareParameters(t *testing.T) {
	b := ops.NewBuilder("param-out", 1)
	x := b.Input("x")
	p := b.ParamNode("table", b.Full(2, 2, 3))
	v := b.Op(ops.OpReshape, "view", ops.Attrs{Shape: []int{3, 2}}, p)
	m, err := b.Build(b.Act(ops.OpReLU, "relu", x), p, v)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ops.Freeze(m)
	if err != nil {
		t.Fatal(err)
	}
	c := ops.NewContext(cpu.New(cpu.Options{}), ops.Options{})
	in := ops.New(1, 4)
	for range 2 {
		outs, err := f.Forward(c, in)
		if err != nil {
			t.Fatal(err)
		}
		for k, o := range outs[1:] {
			if !slices.Equal(o.Data, []float32{2, 2, 2, 2, 2, 2}) {
				t.Fatalf("output %d is %v after an earlier forward's output was written: it shared the parameter", k+1, o.Data)
			}
			if o.Frozen() {
				t.Errorf("output %d is marked frozen", k+1)
			}
			clear(o.Data)
		}
		c.Reset()
	}
}

// A frozen model runs inference only: a Context with gradients or
// training mode is refused with an error that says what to do; and a
// malformed model is refused by Freeze.
func TestFrozenRefusesTrainingContexts(t *testing.T) {
	m := resBlocks(t)
	f, err := ops.Freeze(m)
	if err != nil {
		t.Fatal(err)
	}
	x := randomInput(1, 1, []int{4, 8, 8})
	for _, o := range []ops.Options{{Grad: true}, {Train: true}} {
		_, err := f.Forward(ops.NewContext(cpu.New(cpu.Options{}), o), x)
		if err == nil || !strings.Contains(err.Error(), "frozen for inference") {
			t.Errorf("options %+v: err %v, want a frozen-for-inference error", o, err)
		}
	}
	if _, err := f.Forward(ops.NewContext(cpu.New(cpu.Options{}), ops.Options{})); err == nil || !strings.Contains(err.Error(), "takes 1 inputs, got 0") {
		t.Errorf("no inputs: err %v", err)
	}
	bad := m.Clone()
	bad.Outputs = []int{9999}
	if _, err := ops.Freeze(bad); err == nil || !strings.Contains(err.Error(), "9999") {
		t.Errorf("Freeze of a malformed model: err %v", err)
	}
}

// Options.NodeTime sees copies of a frozen model's nodes: changing what
// it is handed does not change the frozen graph.
func TestFrozenNodeTimeSeesCopies(t *testing.T) {
	m := randomized(resBlocks(t), 5)
	f, err := ops.Freeze(m)
	if err != nil {
		t.Fatal(err)
	}
	x := randomInput(2, 1, []int{4, 8, 8})
	want := forwardBits(t, "model", m.Forward1, ops.NewContext(cpu.New(cpu.Options{}), ops.Options{}), x)
	steps := 0
	c := ops.NewContext(cpu.New(cpu.Options{}), ops.Options{NodeTime: func(n *ops.Node, _ time.Duration) {
		steps++
		n.Inputs, n.Kind = nil, ops.OpIdentity
	}})
	for range 2 {
		if got := forwardBits(t, "frozen", f.Forward1, c, x); !sameBits(got, want) {
			t.Fatal("the frozen output changed after NodeTime's nodes were changed")
		}
	}
	if steps == 0 {
		t.Error("NodeTime saw no step")
	}
}
