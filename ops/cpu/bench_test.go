package cpu

import (
	"syscall"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/optim"
)

// benchCNN is the PyTorch MNIST example network: conv32-conv64-pool-fc128.
func benchCNN(b *testing.B) *ops.Model {
	bl := ops.NewBuilder("cnn", 1)
	x := bl.Input("x")
	h := bl.Conv2d("conv1", x, 1, 32, 3, ops.Conv2dOptions{}, true)
	h = bl.Act(ops.OpReLU, "relu1", h)
	h = bl.Conv2d("conv2", h, 32, 64, 3, ops.Conv2dOptions{}, true)
	h = bl.Act(ops.OpReLU, "relu2", h)
	h = bl.Op(ops.OpMaxPool2d, "pool", ops.Attrs{Kernel: []int{2, 2}}, h)
	h = bl.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, h)
	h = bl.Linear("fc1", h, 9216, 128, true)
	h = bl.Act(ops.OpReLU, "relu3", h)
	y := bl.Linear("fc2", h, 128, 10, true)
	m, err := bl.Build(y)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func benchMLP(b *testing.B) *ops.Model {
	bl := ops.NewBuilder("mlp", 1)
	x := bl.Input("x")
	h := bl.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, x)
	h = bl.Linear("fc1", h, 784, 512, true)
	h = bl.Act(ops.OpReLU, "relu1", h)
	h = bl.Linear("fc2", h, 512, 256, true)
	h = bl.Act(ops.OpReLU, "relu2", h)
	y := bl.Linear("fc3", h, 256, 10, true)
	m, err := bl.Build(y)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// trainBench measures one SGD step (forward, loss, backward, update) at
// batch 128 on 28×28 images and reports images/s.
func trainBench(b *testing.B, m *ops.Model) {
	const batch = 128
	x := ops.New(batch, 1, 28, 28)
	for i := range x.Data {
		x.Data[i] = float32(i%255) / 255
	}
	labels := make([]int, batch)
	for i := range labels {
		labels[i] = i % 10
	}
	opt, err := optim.NewSGD(m.Trainable(), optim.SGDOptions{LR: 0.01, Momentum: 0.9})
	if err != nil {
		b.Fatal(err)
	}
	c := ops.NewContext(New(Options{}), ops.Options{Train: true, Grad: true})
	step := func() {
		out, err := m.Forward1(c, x)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Backward(c.CrossEntropy(out, labels)); err != nil {
			b.Fatal(err)
		}
		opt.Step()
		opt.ZeroGrad()
		c.Reset()
	}
	step()
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for range b.N {
		step()
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
	// CPU time per step is steadier than wall time on a shared machine.
	b.ReportMetric((cpuSeconds()-cpu0)*1000/float64(b.N), "cpu-ms/step")
}

// cpuSeconds is the process's user+system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func BenchmarkTrainStepCNN(b *testing.B) { trainBench(b, benchCNN(b)) }

func BenchmarkTrainStepMLP(b *testing.B) { trainBench(b, benchMLP(b)) }

// benchViT is a ViT-tiny like the zoo's: 4×4 patches of 28×28 (49 tokens
// plus a class token), dim 64, depth 4, 4 heads, MLP ratio 2 with GELU.
func benchViT(b *testing.B) *ops.Model {
	const dim, depth, heads, tokens = 64, 4, 4, 49
	bl := ops.NewBuilder("vit", 1)
	x := bl.Input("x")
	h := bl.Conv2d("patch_embed.proj", x, 1, dim, 4, ops.Conv2dOptions{Stride: [2]int{4, 4}}, true)
	h = bl.Op(ops.OpPermute, "channels_last", ops.Attrs{Perm: []int{0, 2, 3, 1}}, h)
	h = bl.Op(ops.OpReshape, "tokens", ops.Attrs{Shape: []int{-1, tokens, dim}}, h)
	cls := bl.Op(ops.OpExpandBatch, "cls.expand", ops.Attrs{}, bl.ParamNode("cls_token", bl.TruncNormal(0.02, 1, 1, dim)), h)
	h = bl.Op(ops.OpConcat, "concat", ops.Attrs{Axis: 1}, cls, h)
	h = bl.Op(ops.OpAdd, "pos", ops.Attrs{}, h, bl.ParamNode("pos_embed", bl.TruncNormal(0.02, 1, tokens+1, dim)))
	for i := range depth {
		s := bl.Sub("blocks." + string(rune('0'+i)))
		a := s.Linear("attn.qkv", s.LayerNorm("norm1", h, dim), dim, 3*dim, true)
		a = s.Attention("attn", a, ops.Attrs{Heads: heads})
		h = s.Op(ops.OpAdd, "add1", ops.Attrs{}, h, s.Linear("attn.proj", a, dim, dim, true))
		m := s.Linear("mlp.fc1", s.LayerNorm("norm2", h, dim), dim, 2*dim, true)
		m = s.Linear("mlp.fc2", s.Act(ops.OpGELU, "mlp.act", m), 2*dim, dim, true)
		h = s.Op(ops.OpAdd, "add2", ops.Attrs{}, h, m)
	}
	h = bl.LayerNorm("norm", h, dim)
	h = bl.Op(ops.OpSlice, "cls_select", ops.Attrs{Axis: 1, End: 1}, h)
	h = bl.Op(ops.OpReshape, "cls_flatten", ops.Attrs{Shape: []int{-1, dim}}, h)
	y := bl.Linear("head", h, dim, 10, true)
	m, err := bl.Build(y)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func BenchmarkTrainStepViT(b *testing.B) { trainBench(b, benchViT(b)) }

// mlpBlock is a transformer MLP (dim → 4·dim → dim) on 49·64 tokens.
func mlpBlock(b *testing.B, act ops.OpKind) (*ops.Model, *ops.Tensor) {
	const dim, tokens = 96, 49 * 64
	bl := ops.NewBuilder("mlp-block", 1)
	x := bl.Input("x")
	h := bl.Linear("fc1", x, dim, 4*dim, true)
	h = bl.Act(act, "act", h)
	y := bl.Linear("fc2", h, 4*dim, dim, true)
	m, err := bl.Build(y)
	if err != nil {
		b.Fatal(err)
	}
	in := ops.New(tokens, dim)
	for i := range in.Data {
		in.Data[i] = float32(i%97)/48 - 1
	}
	return m, in
}

// inferBench times one no-grad forward pass; with int8 the linears are
// converted with scales from one calibration pass.
func inferBench(b *testing.B, act ops.OpKind, int8 bool) {
	m, x := mlpBlock(b, act)
	c := ops.NewContext(New(Options{}), ops.Options{})
	if int8 {
		scales := map[string]float32{}
		hook := func(n *ops.Node, in []*ops.Tensor, out *ops.Tensor) {
			if n.Kind == ops.OpLinear {
				for _, v := range in[0].Data {
					scales[n.Name] = max(scales[n.Name], max(v, -v)/127)
				}
			}
		}
		if _, err := m.ForwardObserved(c, hook, x); err != nil {
			b.Fatal(err)
		}
		if _, err := m.ConvertInt8(ops.Int8Options{InputScales: scales}); err != nil {
			b.Fatal(err)
		}
	}
	run := func() {
		if _, err := m.Forward1(c, x); err != nil {
			b.Fatal(err)
		}
		c.Reset()
	}
	run()
	b.ResetTimer()
	for range b.N {
		run()
	}
}

func BenchmarkInferMLPBlockFP32GELU(b *testing.B) { inferBench(b, ops.OpGELU, false) }
func BenchmarkInferMLPBlockInt8GELU(b *testing.B) { inferBench(b, ops.OpGELU, true) }
func BenchmarkInferMLPBlockInt8ReLU(b *testing.B) { inferBench(b, ops.OpReLU, true) }
