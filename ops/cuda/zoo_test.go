//go:build linux && amd64 && cgo

package cuda_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/ops/cuda"
	"github.com/qpipe/qpipe/ops/cuda/emu"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/stdlib/compress"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

var mnist = zoo.Shape{C: 1, H: 28, W: 28}

func randomBatch(n int) (*ops.Tensor, []int) {
	r := rand.New(rand.NewPCG(9, 10))
	x := ops.New(n, 1, 28, 28)
	for i := range x.Data {
		x.Data[i] = r.Float32()
	}
	y := make([]int, n)
	for i := range y {
		y[i] = r.IntN(10)
	}
	return x, y
}

// step runs one forward and backward of a fresh zoo model on be and
// returns the logits, the loss and every parameter's gradient.
func step(t *testing.T, name string, be ops.Backend, x *ops.Tensor, y []int) (logits, loss *ops.Tensor, grads map[string]*ops.Tensor) {
	t.Helper()
	m, err := zoo.Build(name, mnist, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := ops.NewContext(be, ops.Options{Train: true, Grad: true, Seed: 1})
	out, err := m.Forward1(c, x)
	if err != nil {
		t.Fatalf("%s forward on %s: %v", name, be.Name(), err)
	}
	l := c.CrossEntropy(out, y)
	if err := c.Backward(l); err != nil {
		t.Fatalf("%s backward on %s: %v", name, be.Name(), err)
	}
	grads = map[string]*ops.Tensor{}
	for _, p := range m.Trainable() {
		if p.Grad() != nil {
			grads[p.Name] = p.Grad().Clone()
		}
	}
	return out.Clone(), l.Clone(), grads
}

// closeTo compares got with want relative to want's largest magnitude.
func closeTo(t *testing.T, what string, got, want *ops.Tensor, rel float64) {
	t.Helper()
	scale := 0.0
	for _, v := range want.Data {
		scale = max(scale, math.Abs(float64(v)))
	}
	for i, w := range want.Data {
		if d := math.Abs(float64(got.Data[i] - w)); d > rel*scale+1e-6 || math.IsNaN(float64(got.Data[i])) {
			t.Errorf("%s: element %d = %v, the CPU gives %v (tolerance %.2g of max |%.3g|)", what, i, got.Data[i], w, rel, scale)
			return
		}
	}
}

// TestZooTrainingStepMatchesCPU: one training step of every zoo model
// (logits, loss, every parameter gradient) on the cuda backend's kernels,
// under emulation, agrees with the CPU backend, dropout and all: the step
// code is the same for both backends.
func TestZooTrainingStepMatchesCPU(t *testing.T) {
	x, y := randomBatch(4)
	g := cuda.New(emu.New())
	for _, name := range zoo.Names() {
		t.Run(name, func(t *testing.T) {
			wl, wloss, wg := step(t, name, cpu.New(cpu.Options{}), x, y)
			gl, gloss, gg := step(t, name, g, x, y)
			closeTo(t, "logits", gl, wl, 1e-4)
			closeTo(t, "loss", gloss, wloss, 1e-4)
			if len(gg) != len(wg) || len(wg) == 0 {
				t.Fatalf("%d gradients, the CPU gives %d", len(gg), len(wg))
			}
			for n, w := range wg {
				closeTo(t, "grad "+n, gg[n], w, 1e-3)
			}
		})
	}
}

// TestIntegerSwinMatchesCPU: swin-micro with GELU and with ReLU MLPs,
// quantized to int8 and converted to the integer engine (qlinear with the
// fused epilogue, qattention), gives on the cuda kernels the CPU's logits
// up to the attention softmax's one-code differences.
func TestIntegerSwinMatchesCPU(t *testing.T) {
	calib := &data.Dataset{Name: "random", C: 1, H: 28, W: 28, X: make([]float32, 64*784), Y: make([]int, 64), Classes: make([]string, 10)}
	r := rand.New(rand.NewPCG(11, 12))
	for i := range calib.X {
		calib.X[i] = r.Float32()
	}
	x, _ := randomBatch(3)
	g := cuda.New(emu.New())
	for _, act := range []ops.OpKind{ops.OpGELU, ops.OpReLU} {
		t.Run(string(act), func(t *testing.T) {
			m, err := zoo.Build("swin-micro", mnist, 10, 1)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := compress.Replace(m, ops.OpGELU, act, "*", source.Span{}); err != nil {
				t.Fatal(err)
			}
			if _, err := compress.QuantizeInt8(context.Background(), m, compress.Int8Options{Data: calib, Batches: 1, Batch: 64}); err != nil {
				t.Fatal(err)
			}
			ir, err := compress.ToInteger(m, source.Span{})
			if err != nil {
				t.Fatal(err)
			}
			run := func(be ops.Backend) *ops.Tensor {
				out, err := ir.Model.Forward1(ops.NewContext(be, ops.Options{}), x)
				if err != nil {
					t.Fatalf("integer swin on %s: %v", be.Name(), err)
				}
				return out.Clone()
			}
			want, got := run(cpu.New(cpu.Options{})), run(g)
			closeTo(t, "integer logits", got, want, 0.05)
		})
	}
}
