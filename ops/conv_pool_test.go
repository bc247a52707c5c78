package ops_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/internal/cpufeature"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
)

// countPool is the CPU backend counting its fused conv → pool steps and
// the chains it declined.
type countPool struct {
	*cpu.Backend
	steps, declined int
}

func (c *countPool) ConvPoolFuses(p ops.ConvParams, pp ops.PoolParams, f ops.ConvFusion) bool {
	ok := c.Backend.ConvPoolFuses(p, pp, f)
	if !ok {
		c.declined++
	}
	return ok
}

func (c *countPool) Conv2dFusedMaxPool(p ops.ConvParams, pp ops.PoolParams, x, w, y *ops.Tensor, f ops.ConvFusion) error {
	c.steps++
	return c.Backend.Conv2dFusedMaxPool(p, pp, x, w, y, f)
}

// noPool is the CPU backend with fused convolution chains but without
// the fused pool: the chain runs its convolution, then the pool.
type noPool struct{ ops.Backend }

func (b noPool) Conv2dFused(p ops.ConvParams, x, w, y *ops.Tensor, f ops.ConvFusion) error {
	return b.Backend.(ops.ConvFusedBackend).Conv2dFused(p, x, w, y, f)
}

// stem is a resnet stem (conv 7×7 stride 2 → batch norm → ReLU → max
// pool kernel, stride 2, padding pad) on 3 channels; without bn, the
// batch norm folded into the conv's bias, as an imported one has it.
func stem(t *testing.T, kernel, pad int, bn bool) *ops.Model {
	b := ops.NewBuilder("stem", 1)
	x := b.Input("x")
	h := b.Conv2d("conv", x, 3, 32, 7, ops.Conv2dOptions{Stride: [2]int{2, 2}, Padding: [2]int{3, 3}}, !bn)
	if bn {
		h = b.BatchNorm("bn", h, 32)
	}
	h = b.Act(ops.OpReLU, "relu", h)
	y := b.Op(ops.OpMaxPool2d, "pool", ops.Attrs{Kernel: []int{kernel, kernel}, Stride: []int{2, 2}, Padding: []int{pad, pad}}, h)
	m, err := b.Build(y)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 19))
	for _, p := range m.Params() {
		for i := range p.Value.Data {
			v := float32(r.NormFloat64()) * 0.5
			if strings.HasSuffix(p.Name, "_var") {
				v = 0.5 + float32(r.Float64())
			}
			p.Value.Data[i] = v
		}
	}
	return m
}

// At inference the stem's conv, batch norm (or bias), ReLU and max pool
// are one step (the backend's Conv2dFusedMaxPool, once per forward, frozen or
// not), bit for bit the fused convolution followed by the pool (a
// backend without the fused pool), and within rounding of the ops run
// apart (a hook turns fusion off).
func TestConvChainPoolStep(t *testing.T) {
	t.Run("batchnorm", func(t *testing.T) { testChainPoolStep(t, stem(t, 3, 1, true)) })
	t.Run("bias", func(t *testing.T) { testChainPoolStep(t, stem(t, 3, 1, false)) })
}

func testChainPoolStep(t *testing.T, m *ops.Model) {
	r := rand.New(rand.NewPCG(6, 19))
	in := ops.New(2, 3, 75, 62)
	for i := range in.Data {
		in.Data[i] = float32(r.NormFloat64())
	}
	be := &countPool{Backend: cpu.New(cpu.Options{Threads: 2})}
	fused, err := m.Forward1(ops.NewContext(be, ops.Options{}), in)
	if err != nil {
		t.Fatal(err)
	}
	fz, err := ops.Freeze(m)
	if err != nil {
		t.Fatal(err)
	}
	frozen, err := fz.Forward1(ops.NewContext(be, ops.Options{}), in)
	if err != nil {
		t.Fatal(err)
	}
	apart, err := m.Forward1(ops.NewContext(noPool{cpu.New(cpu.Options{Threads: 2})}, ops.Options{}), in)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := m.ForwardObserved(ops.NewContext(cpu.New(cpu.Options{}), ops.Options{}), func(*ops.Node, []*ops.Tensor, *ops.Tensor) {}, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{2, 32, 19, 16}
	for _, y := range []*ops.Tensor{fused, frozen, apart, outs[0]} {
		if len(y.Shape) != 4 || y.Shape[0] != want[0] || y.Shape[1] != want[1] || y.Shape[2] != want[2] || y.Shape[3] != want[3] {
			t.Fatalf("output shape %v, want %v", y.Shape, want)
		}
	}
	for i, v := range apart.Data {
		if fused.Data[i] != v || frozen.Data[i] != v {
			t.Fatalf("y[%d]: fused %v, frozen %v, conv then pool %v", i, fused.Data[i], frozen.Data[i], v)
		}
		if u := outs[0].Data[i]; abs32(u-v) > 1e-4*(1+abs32(u)) {
			t.Fatalf("y[%d]: fused %v, unfused ops %v", i, v, u)
		}
	}
	if be.steps != 2 {
		if be.declined > 0 { // no vector pool or direct convolution here: skips, or fails where CI requires them
			cpufeature.Require(t, false, "AVX-512F and AVX-512VL (the fused stem's kernels)")
		}
		t.Fatalf("%d fused conv-pool steps in two forwards, want 2", be.steps)
	}
}

func abs32(v float32) float32 { return max(v, -v) }

// A pool window the stem's output cannot hold is the pool's error, not a
// panic, with or without the fused step.
func TestConvChainPoolBadWindow(t *testing.T) {
	m := stem(t, 9, 0, true)
	in := ops.New(1, 3, 9, 9) // a 5×5 conv output
	for _, be := range []ops.Backend{cpu.New(cpu.Options{}), noPool{cpu.New(cpu.Options{})}} {
		_, err := m.Forward1(ops.NewContext(be, ops.Options{}), in)
		if err == nil || !strings.Contains(err.Error(), "maxpool2d") || !strings.Contains(err.Error(), "larger than input") {
			t.Fatalf("error %v, want the pool's window larger than input", err)
		}
	}
}
