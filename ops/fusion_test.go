package ops_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
)

// Forward without a hook fuses conv2d → relu into Conv2dReLU; a hook (even
// one that does nothing) sees every node, so it runs them apart. Outputs
// and every gradient must agree.
func TestConvReLUFusionMatchesUnfused(t *testing.T) {
	b := ops.NewBuilder("fuse", 1)
	x := b.Input("x")
	h := b.Act(ops.OpReLU, "r1", b.Conv2d("c1", x, 2, 4, 3, ops.Conv2dOptions{Padding: [2]int{1, 1}}, true))
	c2 := b.Conv2d("c2", h, 4, 4, 3, ops.Conv2dOptions{Padding: [2]int{1, 1}}, false)
	r2 := b.Act(ops.OpReLU, "r2", c2)
	h = b.Op(ops.OpAdd, "add", ops.Attrs{}, r2, c2) // c2 has two readers: not fused
	h = b.Act(ops.OpReLU, "r3", b.Conv2d("c3", h, 4, 3, 3, ops.Conv2dOptions{Stride: [2]int{2, 2}}, true))
	h = b.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, h)
	y := b.Linear("fc", h, 3*3*3, 5, true)
	m, err := b.Build(y)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	in := ops.New(3, 2, 7, 7)
	for i := range in.Data {
		in.Data[i] = float32(r.NormFloat64())
	}
	in.SetRequiresGrad(true)
	labels := []int{0, 3, 4}
	run := func(hook ops.ForwardHook) (out []float32, grads map[string][]float32) {
		c := ops.NewContext(cpu.New(cpu.Options{}), ops.Options{Train: true, Grad: true})
		for _, p := range m.Trainable() {
			p.Value.ZeroGrad()
		}
		in.ZeroGrad()
		outs, err := m.ForwardObserved(c, hook, in)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Backward(c.CrossEntropy(outs[0], labels)); err != nil {
			t.Fatal(err)
		}
		grads = map[string][]float32{"input": append([]float32(nil), in.Grad().Data...)}
		for _, p := range m.Trainable() {
			grads[p.Name] = append([]float32(nil), p.Value.Grad().Data...)
		}
		return append([]float32(nil), outs[0].Data...), grads
	}
	out1, g1 := run(nil)
	out2, g2 := run(func(*ops.Node, []*ops.Tensor, *ops.Tensor) {})
	near := func(a, b float32) bool { d := a - b; return d < 1e-5 && d > -1e-5 }
	for i := range out1 {
		if !near(out1[i], out2[i]) {
			t.Fatalf("output %d: fused %v, unfused %v", i, out1[i], out2[i])
		}
	}
	for name, g := range g2 {
		for i := range g {
			if !near(g1[name][i], g[i]) {
				t.Fatalf("%s grad %d: fused %v, unfused %v", name, i, g1[name][i], g[i])
			}
		}
	}
}

// Without gradients a conv → relu → 2×2 max pool chain runs as one
// Conv2dReLUMaxPool2; the outputs must match the ops run apart (a hook
// turns fusion off), odd sizes (a dropped last row and column) included.
func TestConvReLUPoolFusionMatchesUnfused(t *testing.T) {
	for _, hw := range []int{9, 12} {
		b := ops.NewBuilder("fuse", 1)
		x := b.Input("x")
		h := b.Act(ops.OpReLU, "r1", b.Conv2d("c1", x, 2, 5, 3, ops.Conv2dOptions{Padding: [2]int{1, 1}}, true))
		h = b.Op(ops.OpMaxPool2d, "p1", ops.Attrs{Kernel: []int{2, 2}}, h)
		h = b.Act(ops.OpReLU, "r2", b.Conv2d("c2", h, 5, 4, 3, ops.Conv2dOptions{Padding: [2]int{1, 1}}, false))
		h = b.Op(ops.OpMaxPool2d, "p2", ops.Attrs{Kernel: []int{2, 2}, Stride: []int{2, 2}}, h)
		h = b.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, h)
		s := hw / 2 / 2
		y := b.Linear("fc", h, 4*s*s, 3, true)
		m, err := b.Build(y)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(3, 4))
		in := ops.New(37, 2, hw, hw)
		for i := range in.Data {
			in.Data[i] = float32(r.NormFloat64())
		}
		c := ops.NewContext(cpu.New(cpu.Options{}), ops.Options{})
		fused, err := m.Forward1(c, in)
		if err != nil {
			t.Fatal(err)
		}
		got := append([]float32(nil), fused.Data...)
		outs, err := m.ForwardObserved(c, func(*ops.Node, []*ops.Tensor, *ops.Tensor) {}, in)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range outs[0].Data {
			if d := v - got[i]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("%dx%d output %d: fused %v, unfused %v", hw, hw, i, got[i], v)
			}
		}
	}
}

// plainBackend hides a backend's optional extensions, so the executor runs
// the unfused composition of primitives.
type plainBackend struct{ ops.Backend }

// Attention on a fused qkv projection (QKVAttentionBackend) against the
// permute/slice/matmul/softmax composition: outputs and every gradient,
// input included, with an odd token count and head size.
func TestQKVAttentionMatchesComposition(t *testing.T) {
	const dim, heads, tokens = 12, 3, 7
	b := ops.NewBuilder("attn", 1)
	x := b.Input("x")
	h := b.Linear("qkv", x, dim, 3*dim, true)
	h = b.Attention("attn", h, ops.Attrs{Heads: heads})
	h = b.Linear("proj", h, dim, dim, true)
	h = b.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, h)
	y := b.Linear("head", h, tokens*dim, 4, true)
	m, err := b.Build(y)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	in := ops.New(5, tokens, dim)
	for i := range in.Data {
		in.Data[i] = float32(r.NormFloat64())
	}
	in.SetRequiresGrad(true)
	labels := []int{0, 1, 2, 3, 1}
	run := func(be ops.Backend) (out []float32, grads map[string][]float32) {
		for _, p := range m.Trainable() {
			p.Value.ZeroGrad()
		}
		in.ZeroGrad()
		c := ops.NewContext(be, ops.Options{Train: true, Grad: true})
		o, err := m.Forward1(c, in)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Backward(c.CrossEntropy(o, labels)); err != nil {
			t.Fatal(err)
		}
		grads = map[string][]float32{"input": append([]float32(nil), in.Grad().Data...)}
		for _, p := range m.Trainable() {
			grads[p.Name] = append([]float32(nil), p.Value.Grad().Data...)
		}
		return append([]float32(nil), o.Data...), grads
	}
	be := cpu.New(cpu.Options{})
	if _, ok := ops.Backend(be).(ops.QKVAttentionBackend); !ok {
		t.Fatal("cpu backend lacks QKVAttentionBackend")
	}
	out1, g1 := run(be)
	out2, g2 := run(plainBackend{be})
	near := func(a, b float32) bool { d := a - b; return d < 2e-5 && d > -2e-5 }
	for i := range out1 {
		if !near(out1[i], out2[i]) {
			t.Fatalf("output %d: fused %v, composed %v", i, out1[i], out2[i])
		}
	}
	for name, g := range g2 {
		for i := range g {
			if !near(g1[name][i], g[i]) {
				t.Fatalf("%s grad %d: fused %v, composed %v", name, i, g1[name][i], g[i])
			}
		}
	}
	// evaluation (no probabilities kept)
	c := ops.NewContext(be, ops.Options{})
	o, err := m.Forward1(c, in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range out1 {
		if !near(o.Data[i], out1[i]) {
			t.Fatalf("eval output %d: %v, want %v", i, o.Data[i], out1[i])
		}
	}
}

// Options.NodeTime reports each step of a fused forward once, at its first
// node, in order: a conv with its ReLU is one step (the ReLU is not
// reported), a conv with two readers and its own ReLU are two, and the
// outputs are the same bits as without the clock.
func TestNodeTimeReportsFusedSteps(t *testing.T) {
	b := ops.NewBuilder("steps", 1)
	x := b.Input("x")
	h := b.Act(ops.OpReLU, "r1", b.Conv2d("c1", x, 2, 4, 3, ops.Conv2dOptions{Padding: [2]int{1, 1}}, true))
	c2 := b.Conv2d("c2", h, 4, 4, 3, ops.Conv2dOptions{Padding: [2]int{1, 1}}, false)
	h = b.Op(ops.OpAdd, "add", ops.Attrs{}, b.Act(ops.OpReLU, "r2", c2), c2)
	h = b.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, h)
	y := b.Linear("fc", h, 4*7*7, 5, true)
	m, err := b.Build(y)
	if err != nil {
		t.Fatal(err)
	}
	in := ops.New(2, 2, 7, 7)
	for i := range in.Data {
		in.Data[i] = float32(i%11) - 5
	}
	var names []string
	var total time.Duration
	timed := ops.NewContext(cpu.New(cpu.Options{}), ops.Options{NodeTime: func(n *ops.Node, d time.Duration) {
		if d < 0 {
			t.Errorf("%s: negative time %v", n.Name, d)
		}
		names = append(names, n.Name)
		total += d
	}})
	t0 := time.Now()
	got, err := m.Forward1(timed, in)
	if err != nil {
		t.Fatal(err)
	}
	if wall := time.Since(t0); total > wall {
		t.Errorf("steps took %v in all, more than the forward's %v", total, wall)
	}
	want := []string{"c1", "c2", "r2", "add", "flatten", "fc"}
	if !slices.Equal(names, want) {
		t.Errorf("steps %v, want %v", names, want)
	}
	plain, err := m.Forward1(ops.NewContext(cpu.New(cpu.Options{}), ops.Options{}), in)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Data, plain.Data) {
		t.Errorf("outputs differ with NodeTime set")
	}
}
