package opstest

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
)

// The files under ops/testdata/torchref come from scripts/torch_ref_ops.py:
// PyTorch computes the forward pass, loss and every parameter gradient in
// float64 from float32 inputs; the Go float32 results must agree within
// these tolerances (|got - want| ≤ atol + rtol·|want|).
var (
	refForwardTol = tol{atol: 2e-5, rtol: 1e-4}
	refGradTol    = tol{atol: 2e-5, rtol: 1e-3}
)

type tol struct{ atol, rtol float64 }

func loadNpy(t testing.TB, path string) *ops.Tensor {
	t.Helper()
	a, err := data.ReadNpyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(a.Data))
	for i, x := range a.Data {
		v[i] = float32(x)
	}
	out, err := ops.FromData(v, a.Shape...)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

// refDir loads every .npy of a reference directory by base name.
func refDir(t *testing.T, dir string) map[string]*ops.Tensor {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*ops.Tensor{}
	for _, e := range entries {
		out[strings.TrimSuffix(e.Name(), ".npy")] = loadNpy(t, filepath.Join(dir, e.Name()))
	}
	return out
}

func assertClose(t testing.TB, what string, got, want *ops.Tensor, tl tol) {
	t.Helper()
	if got.Numel() != want.Numel() {
		t.Errorf("%s: %d elements %v, want %d %v", what, got.Numel(), got.Shape, want.Numel(), want.Shape)
		return
	}
	worst, at := 0.0, -1
	for i, w := range want.Data {
		d := math.Abs(float64(got.Data[i]-w)) - (tl.atol + tl.rtol*math.Abs(float64(w)))
		if d > worst || math.IsNaN(float64(got.Data[i])) {
			worst, at = d, i
		}
	}
	if at >= 0 {
		t.Errorf("%s: element %d = %.7g, want %.7g", what, at, got.Data[at], want.Data[at])
	}
}

func labelsOf(t *ops.Tensor) []int {
	out := make([]int, t.Numel())
	for i, v := range t.Data {
		out[i] = int(v)
	}
	return out
}

// loadParams copies every param.NAME into the model; names must match.
func loadParams(t *testing.T, m *ops.Model, ref map[string]*ops.Tensor) {
	t.Helper()
	n := 0
	for k, v := range ref {
		if name, ok := strings.CutPrefix(k, "param."); ok {
			p := m.Param(name)
			if p == nil {
				t.Fatalf("model has no parameter %s", name)
			}
			if err := p.Value.CopyFrom(v); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	if n != len(m.Trainable()) {
		t.Fatalf("loaded %d parameters, model has %d trainable", n, len(m.Trainable()))
	}
}

// trainStep runs forward, cross-entropy and backward and checks the
// output, loss and every gradient against the reference.
func trainStep(t *testing.T, be ops.Backend, m *ops.Model, ref map[string]*ops.Tensor) *ops.Context {
	c := ops.NewContext(be, ops.Options{Train: true, Grad: true})
	out, err := m.Forward1(c, ref["input"])
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "output", out, ref["output"], refForwardTol)
	loss := c.CrossEntropy(out, labelsOf(ref["labels"]))
	assertClose(t, "loss", loss, ref["loss"], refForwardTol)
	if err := c.Backward(loss); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Trainable() {
		want := ref["grad."+p.Name]
		if want == nil {
			t.Fatalf("no reference gradient for %s", p.Name)
		}
		if p.Grad() == nil {
			t.Errorf("%s: no gradient", p.Name)
			continue
		}
		assertClose(t, "grad "+p.Name, p.Grad(), want, refGradTol)
	}
	return c
}

// buildCNN mirrors CNN in scripts/torch_ref_ops.py.
func buildCNN(t *testing.T) *ops.Model {
	b := ops.NewBuilder("cnn", 1)
	x := b.Input("x")
	h := b.Conv2d("conv1", x, 3, 6, 3, ops.Conv2dOptions{Padding: [2]int{1, 1}}, true)
	h = b.BatchNorm("bn1", h, 6)
	h = b.Act(ops.OpReLU, "relu1", h)
	h = b.Op(ops.OpMaxPool2d, "pool", ops.Attrs{Kernel: []int{2, 2}}, h)
	h = b.Conv2d("conv2", h, 6, 8, 3, ops.Conv2dOptions{Padding: [2]int{1, 1}}, true)
	h = b.Act(ops.OpReLU, "relu2", h)
	h = b.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, h)
	y := b.Linear("fc", h, 128, 5, true)
	m, err := b.Build(y)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TorchRefCNN checks one training step (output, loss, every gradient,
// batch norm's running statistics) and the evaluation output of a small
// CNN on backend be against PyTorch's float64 results in dir (the cnn
// directory of ops/testdata/torchref).
func TorchRefCNN(t *testing.T, be ops.Backend, dir string) {
	ref := refDir(t, dir)
	m := buildCNN(t)
	loadParams(t, m, ref)
	trainStep(t, be, m, ref)
	for _, s := range []string{"running_mean", "running_var"} {
		assertClose(t, s, m.Param("bn1."+s).Value, ref["buffer.bn1."+s], refForwardTol)
	}
	c := ops.NewContext(be, ops.Options{})
	out, err := m.Forward1(c, ref["input"])
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "eval output", out, ref["output_eval"], refForwardTol)
}

// swinBlock adds one Swin V1 block on tokens x (B, H·W, C) with torch's
// module names.
func swinBlock(b *ops.Builder, x *ops.Node, dim, res, heads, ws, shift int) *ops.Node {
	h := b.LayerNorm("norm1", x, dim)
	h = b.Op(ops.OpReshape, "to_map", ops.Attrs{Shape: []int{-1, res, res, dim}}, h)
	if shift > 0 {
		h = b.Op(ops.OpRoll, "shift", ops.Attrs{Shifts: []int{-shift, -shift}, Axes: []int{1, 2}}, h)
	}
	h = b.Op(ops.OpWindowPartition, "partition", ops.Attrs{Window: ws}, h)
	h = b.Linear("attn.qkv", h, dim, 3*dim, true)
	h = b.Attention("attn", h, ops.Attrs{Heads: heads, Window: ws, ShiftSize: shift, Resolution: []int{res, res}})
	h = b.Linear("attn.proj", h, dim, dim, true)
	h = b.Op(ops.OpWindowReverse, "reverse", ops.Attrs{Window: ws, Resolution: []int{res, res}}, h)
	if shift > 0 {
		h = b.Op(ops.OpRoll, "unshift", ops.Attrs{Shifts: []int{shift, shift}, Axes: []int{1, 2}}, h)
	}
	h = b.Op(ops.OpReshape, "to_tokens", ops.Attrs{Shape: []int{-1, res * res, dim}}, h)
	x = b.Op(ops.OpAdd, "residual1", ops.Attrs{}, x, h)
	h = b.LayerNorm("norm2", x, dim)
	h = b.Linear("mlp.fc1", h, dim, 4*dim, true)
	h = b.Act(ops.OpGELU, "mlp.act", h)
	h = b.Linear("mlp.fc2", h, 4*dim, dim, true)
	return b.Op(ops.OpAdd, "residual2", ops.Attrs{}, x, h)
}

// patchMerging concatenates the four 2×2 neighbours (strided slices, as
// torch writes it) and reduces 4C → 2C.
func patchMerging(b *ops.Builder, x *ops.Node, res, dim int) *ops.Node {
	m := b.Op(ops.OpReshape, "to_map", ops.Attrs{Shape: []int{-1, res, res, dim}}, x)
	part := func(name string, h0, w0 int) *ops.Node {
		r := b.Op(ops.OpSlice, name+".rows", ops.Attrs{Axis: 1, Start: h0, Step: 2}, m)
		return b.Op(ops.OpSlice, name+".cols", ops.Attrs{Axis: 2, Start: w0, Step: 2}, r)
	}
	cat := b.Op(ops.OpConcat, "cat", ops.Attrs{Axis: -1}, part("x0", 0, 0), part("x1", 1, 0), part("x2", 0, 1), part("x3", 1, 1))
	h := b.Op(ops.OpReshape, "flatten", ops.Attrs{Shape: []int{-1, res * res / 4, 4 * dim}}, cat)
	h = b.LayerNorm("norm", h, 4*dim)
	return b.Linear("reduction", h, 4*dim, 2*dim, false)
}

// buildTinySwin mirrors TinySwin in scripts/torch_ref_ops.py.
func buildTinySwin(t *testing.T) *ops.Model {
	const dim, res, heads, ws = 16, 8, 2, 4
	b := ops.NewBuilder("tiny-swin", 2)
	x := b.Input("x")
	pe := b.Sub("patch_embed")
	h := pe.Conv2d("proj", x, 3, dim, 4, ops.Conv2dOptions{Stride: [2]int{4, 4}}, true)
	h = pe.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 2}, h)
	h = pe.Op(ops.OpPermute, "transpose", ops.Attrs{Perm: []int{0, 2, 1}}, h)
	h = pe.LayerNorm("norm", h, dim)
	h = swinBlock(b.Sub("blocks.0"), h, dim, res, heads, ws, 0)
	h = swinBlock(b.Sub("blocks.1"), h, dim, res, heads, ws, ws/2)
	h = patchMerging(b.Sub("downsample"), h, res, dim)
	h = b.Op(ops.OpMean, "pool", ops.Attrs{Axes: []int{1}}, h)
	y := b.Linear("head", h, 2*dim, 10, true)
	m, err := b.Build(y)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TorchRefSwin checks one training step of a two-block Swin with patch
// merging on backend be against PyTorch's results in dir (the swin
// directory of ops/testdata/torchref).
func TorchRefSwin(t *testing.T, be ops.Backend, dir string) {
	ref := refDir(t, dir)
	m := buildTinySwin(t)
	loadParams(t, m, ref)
	trainStep(t, be, m, ref)
}

// LoadNpy reads a .npy file as a float32 tensor.
func LoadNpy(t testing.TB, path string) *ops.Tensor { return loadNpy(t, path) }

// AssertClose reports the worst element of got outside atol + rtol·|want|.
func AssertClose(t testing.TB, what string, got, want *ops.Tensor, tl Tolerance) {
	t.Helper()
	assertClose(t, what, got, want, tol{atol: tl.Atol, rtol: tl.Rtol})
}

// TinySwin is the model of the swin reference (two blocks, patch merging,
// a 10-class head), with fresh parameters.
func TinySwin(t *testing.T) *ops.Model { return buildTinySwin(t) }

// SmallCNN is the model of the cnn reference, with fresh parameters.
func SmallCNN(t *testing.T) *ops.Model { return buildCNN(t) }
