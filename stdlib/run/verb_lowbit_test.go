package run

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/modelio"
)

// TestQuantizeLog2EndToEnd: quantize log2 with ratio=0.5 prunes about half
// the inner weights and reports it; evaluate measures the integer engine
// (its accuracy matches the fake-quant accuracy) with packed 3-bit codes;
// the checkpoint round-trips the codes and masks; a later train keeps the
// pruned weights at zero.
func TestQuantizeLog2EndToEnd(t *testing.T) {
	dir := t.TempDir()
	rep, err := runRecipe(t, context.Background(), dir, `data digits subset=400
model cnn
train epochs=2 lr=0.01
evaluate accuracy size
quantize log2 bits=3 ratio=0.5 epochs=1 lr=1e-3
evaluate accuracy size latency runs=2
export checkpoint "q.safetensors"
export safetensors "packed.safetensors"
train epochs=1 lr=0.01
export checkpoint "t.safetensors"
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	float, q, ev := rep.Steps[3].Metrics, rep.Steps[4].Metrics, rep.Steps[5].Metrics
	if s := q["sparsity"]; s < 0.3 || s > 0.9 {
		t.Errorf("sparsity %v", s)
	}
	inner := 0
	for k, v := range q {
		if strings.HasPrefix(k, "sparsity_") && v > 0.45 && v < 0.6 {
			inner++
		}
	}
	if inner == 0 {
		t.Errorf("no inner layer near ratio 0.5: %v", q)
	}
	if d := ev["accuracy"] - q["fake_quant_accuracy"]; math.Abs(d) > 0.01 {
		t.Errorf("integer engine accuracy %v, fake-quant %v", ev["accuracy"], q["fake_quant_accuracy"])
	}
	if ev["size_bytes"] != q["packed_size_bytes"] || ev["size_bytes"] >= float["size_bytes"]/5 {
		t.Errorf("packed size %v (quantize said %v), float %v", ev["size_bytes"], q["packed_size_bytes"], float["size_bytes"])
	}
	if !strings.Contains(rep.Steps[4].Summary, "first/last") || !strings.Contains(rep.Steps[4].Summary, "integer engine") {
		t.Errorf("summary %q", rep.Steps[4].Summary)
	}
	// The packed export is the packed size plus the header and its names.
	info, err := os.Stat(filepath.Join(dir, "out", "packed.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if n := float64(info.Size()); n < ev["size_bytes"] || n > ev["size_bytes"]+4096 {
		t.Errorf("packed safetensors %v bytes; packed size %v", n, ev["size_bytes"])
	}
	m1, _, err := modelio.Load(filepath.Join(dir, "out", "q.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	m2, _, err := modelio.Load(filepath.Join(dir, "out", "t.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	for _, fq := range m1.FindKind(ops.OpLog2Quant) {
		mask := m1.Param(fq.Params["mask"]).Value
		w1, w2 := quantizedWeight(t, m1, fq), quantizedWeight(t, m2, m2.NodeByName(fq.Name))
		zeros := 0
		for i, v := range w1 {
			if (v == 0) != (mask.Data[i] == 0) {
				t.Fatalf("%s[%d]: loaded checkpoint gives %v, mask %v", fq.Name, i, v, mask.Data[i])
			}
			if mask.Data[i] == 0 && w2[i] != 0 {
				t.Fatalf("%s[%d]: pruned weight is %v after train", fq.Name, i, w2[i])
			}
			if v == 0 {
				zeros++
			}
		}
		if zeros == 0 {
			t.Errorf("%s has no zero weight", fq.Name)
		}
	}
}

// quantizedWeight evaluates a log2_quant node's output on a loaded model.
func quantizedWeight(t *testing.T, m *ops.Model, fq *ops.Node) []float32 {
	t.Helper()
	var out []float32
	hook := func(n *ops.Node, _ []*ops.Tensor, y *ops.Tensor) {
		if n.Name == fq.Name {
			out = append([]float32(nil), y.Data...)
		}
	}
	be, err := ops.NewBackend("cpu")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.ForwardObserved(ops.NewContext(be, ops.Options{}), hook, ops.New(1, 1, 28, 28)); err != nil {
		t.Fatal(err)
	}
	return out
}

// The card recipe's shape on a small model: distill with no from= learns
// from the trained model before the replace (the baseline), and the log2
// step that follows runs.
func TestDistillDefaultsToBaseline(t *testing.T) {
	rep, err := runRecipe(t, context.Background(), t.TempDir(), `data digits subset=400
model cnn
train epochs=3 optimizer=adamw lr=2e-3
replace relu with gelu
distill iterations=1
quantize log2 bits=3
evaluate accuracy
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := rep.Steps[4].Summary; !strings.HasPrefix(s, "distill from baseline") {
		t.Errorf("distill summary %q; want the baseline as teacher", s)
	}
	if a := rep.Steps[6].Metrics["accuracy"]; a < 0.5 {
		t.Errorf("accuracy after log2 %v", a)
	}
}

// A model with no linear or conv2d layer: a located error, nothing written.
func TestQuantizeNoQuantizableLayer(t *testing.T) {
	dir := t.TempDir()
	b := ops.NewBuilder("pool", 1)
	x := b.Input("x")
	y := b.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, b.Op(ops.OpAvgPool2d, "pool", ops.Attrs{Kernel: []int{14, 14}, Stride: []int{14, 14}}, x))
	m, err := b.Build(y)
	if err != nil {
		t.Fatal(err)
	}
	if err := modelio.Save(filepath.Join(dir, "pool.safetensors"), m, modelio.Meta{Input: [3]int{1, 28, 28}}); err != nil {
		t.Fatal(err)
	}
	_, err = runRecipe(t, context.Background(), dir, "data digits subset=50\nmodel \"pool.safetensors\"\nquantize log2 bits=3\nexport checkpoint \"q.safetensors\"\n", nil)
	if err == nil || !strings.Contains(err.Error(), "recipe.qpipe:3:1") || !strings.Contains(err.Error(), "no linear or conv2d layer") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "q.safetensors")); !os.IsNotExist(err) {
		t.Errorf("a model was written after the failed quantize: %v", err)
	}
}
