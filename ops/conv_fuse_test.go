package ops_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/ops/optim"
)

// countFused is the CPU backend counting its fused convolution chains.
type countFused struct {
	*cpu.Backend
	chains int
}

func (c *countFused) Conv2dFused(p ops.ConvParams, x, w, y *ops.Tensor, f ops.ConvFusion) error {
	c.chains++
	return c.Backend.Conv2dFused(p, x, w, y, f)
}

// resBlocks is two residual blocks as the zoo's resnet20 builds them: an
// identity block (conv-bn-relu, conv-bn, add, relu) and a strided one
// whose 1×1 projection shortcut (conv-bn) comes after the main branch,
// then a conv with a bias and a residual add but no batch norm.
func resBlocks(t *testing.T) *ops.Model {
	b := ops.NewBuilder("res", 1)
	x := b.Input("x")
	pad1 := ops.Conv2dOptions{Padding: [2]int{1, 1}}
	h := b.Act(ops.OpReLU, "r1", b.BatchNorm("bn1", b.Conv2d("c1", x, 4, 4, 3, pad1, true), 4))
	h = b.BatchNorm("bn2", b.Conv2d("c2", h, 4, 4, 3, pad1, false), 4)
	x = b.Act(ops.OpReLU, "r2", b.Op(ops.OpAdd, "add1", ops.Attrs{}, h, x))
	s2 := ops.Conv2dOptions{Padding: [2]int{1, 1}, Stride: [2]int{2, 2}}
	h = b.Act(ops.OpReLU, "r3", b.BatchNorm("bn3", b.Conv2d("c3", x, 4, 8, 3, s2, false), 8))
	h = b.BatchNorm("bn4", b.Conv2d("c4", h, 8, 8, 3, pad1, false), 8)
	short := b.BatchNorm("bnd", b.Conv2d("down", x, 4, 8, 1, ops.Conv2dOptions{Stride: [2]int{2, 2}}, false), 8)
	x = b.Act(ops.OpReLU, "r4", b.Op(ops.OpAdd, "add2", ops.Attrs{}, h, short))
	h = b.Op(ops.OpAdd, "add3", ops.Attrs{}, x, b.Conv2d("c5", x, 8, 8, 3, pad1, true))
	y := b.Linear("fc", b.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, h), 8*4*4, 3, true)
	m, err := b.Build(y)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 9))
	for _, p := range m.Params() {
		for i := range p.Value.Data {
			v := float32(r.NormFloat64()) * 0.5
			if len(p.Name) > 4 && p.Name[len(p.Name)-4:] == "_var" {
				v = 0.5 + float32(r.Float64())
			}
			p.Value.Data[i] = v
		}
	}
	return m
}

// Inference fuses each conv2d with the batch norm, residual add and ReLU
// after it (six chains here: the main branch of the strided block stops at
// its batch norm, the add joining the projection that runs after it); the
// outputs match the ops run apart (a hook turns fusion off) at batch 1 and
// 3. After a training step (weights, batch-norm
// statistics changed in place) evaluation follows the new values.
func TestConvChainFusionMatchesUnfused(t *testing.T) {
	m := resBlocks(t)
	r := rand.New(rand.NewPCG(4, 5))
	input := func(n int) *ops.Tensor {
		in := ops.New(n, 4, 8, 8)
		for i := range in.Data {
			in.Data[i] = float32(r.NormFloat64())
		}
		return in
	}
	compare := func(what string, in *ops.Tensor) []float32 {
		be := &countFused{Backend: cpu.New(cpu.Options{})}
		fused, err := m.Forward1(ops.NewContext(be, ops.Options{}), in)
		if err != nil {
			t.Fatal(err)
		}
		if be.chains != 6 {
			t.Fatalf("%s: %d fused chains, want 6", what, be.chains)
		}
		outs, err := m.ForwardObserved(ops.NewContext(cpu.New(cpu.Options{}), ops.Options{}), func(*ops.Node, []*ops.Tensor, *ops.Tensor) {}, in)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range outs[0].Data {
			if d := math.Abs(float64(fused.Data[i] - want)); d > 1e-4*(1+math.Abs(float64(want))) {
				t.Fatalf("%s: output %d fused %v, unfused %v", what, i, fused.Data[i], want)
			}
		}
		return append([]float32(nil), fused.Data...)
	}
	x1, x3 := input(1), input(3)
	compare("batch 1", x1)
	before := compare("batch 3", x3)

	opt, err := optim.NewSGD(m.Trainable(), optim.SGDOptions{LR: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	c := ops.NewContext(cpu.New(cpu.Options{}), ops.Options{Train: true, Grad: true})
	out, err := m.Forward1(c, x3)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Backward(c.CrossEntropy(out, []int{0, 1, 2})); err != nil {
		t.Fatal(err)
	}
	opt.Step()
	after := compare("after a training step", x3)
	changed := false
	for i := range after {
		changed = changed || after[i] != before[i]
	}
	if !changed {
		t.Fatal("the training step changed no output: the test checks nothing")
	}
}
