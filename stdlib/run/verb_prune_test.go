package run

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/modelio"
	"github.com/qpipe/qpipe/ops/onnx"
	"github.com/qpipe/qpipe/stdlib/prune"
)

const pruneRecipe = `model mlp
data mnist subset=1000
train epochs=1 lr=1e-3
snapshot trained
repeat 2 {
  prune magnitude ratio=0.5
  finetune epochs=1 lr=1e-3
}
distill from=trained epochs=1 lr=1e-3
export onnx "pruned.onnx"
quantize int8 batches=4
finetune epochs=1 lr=1e-4
export checkpoint "final.safetensors"
evaluate accuracy
expect accuracy >= 0.9999
`

// zeroOK checks that every masked weight is zero and returns the sparsity.
func zeroOK(t *testing.T, what string, m *ops.Model) float64 {
	t.Helper()
	masked := 0
	for _, w := range prune.Weights(m) {
		if !w.Param.Masked() {
			t.Fatalf("%s: %s has no mask", what, w.Param.Name)
		}
		for i, k := range w.Param.Mask() {
			if !k && w.Param.Value.Data[i] != 0 {
				t.Fatalf("%s: %s[%d] = %v, pruned", what, w.Param.Name, i, w.Param.Value.Data[i])
			}
			if !k {
				masked++
			}
		}
	}
	return prune.Measure(m).Sparsity()
}

func TestPruneMasksPersistThroughTrainingQuantizationExportAndResume(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	_, err := runRecipe(t, context.Background(), dir, pruneRecipe, nil)
	if err == nil || !strings.Contains(err.Error(), "accuracy >= 0.9999 is false") {
		t.Fatalf("the failing expect: %v", err)
	}
	rep, _ := ReadReport(out)
	p1, p2 := rep.Steps[4].Metrics, rep.Steps[6].Metrics
	if math.Abs(p1["sparsity"]-0.5) > 1e-3 || math.Abs(p2["sparsity"]-0.75) > 1e-3 {
		t.Fatalf("sparsity %v then %v, want 0.5 then the compound 0.75", p1["sparsity"], p2["sparsity"])
	}
	if _, ok := p2["sparsity_fc1"]; !ok {
		t.Errorf("no per-layer sparsity in %v", p2)
	}
	m, _, err := modelio.Load(filepath.Join(out, "final.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if s := zeroOK(t, "checkpoint after distill, quantize int8 and finetune", m); math.Abs(s-0.75) > 1e-3 {
		t.Errorf("checkpoint sparsity %v, want 0.75", s)
	}
	im, err := onnx.Import(filepath.Join(out, "pruned.onnx"), onnx.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s := prune.Measure(im).Sparsity(); math.Abs(s-0.75) > 1e-3 {
		t.Errorf("ONNX export sparsity %v, want 0.75", s)
	}
	// Run again after the failing expect: the state taken from the step
	// store keeps its masks, and a further finetune keeps the zeros.
	text := strings.Replace(pruneRecipe, "expect accuracy >= 0.9999", "finetune epochs=1 lr=1e-3\nexport checkpoint \"resumed.safetensors\"", 1)
	if _, err := runRecipe(t, context.Background(), dir, text, func(o *Options) { o.Resume = true }); err != nil {
		t.Fatal(err)
	}
	rep, _ = ReadReport(out)
	if rep.Steps[13].Status != StatusCached {
		t.Fatalf("step 13 %s, want cached", rep.Steps[13].Status)
	}
	m, _, err = modelio.Load(filepath.Join(out, "resumed.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if s := zeroOK(t, "resumed and finetuned", m); math.Abs(s-0.75) > 1e-3 {
		t.Errorf("sparsity after resume %v", s)
	}
}

func TestStructuredPruneShrinksTheModelAndRefusesEmptyLayers(t *testing.T) {
	dir := t.TempDir()
	rep, err := runRecipe(t, context.Background(), dir, `model cnn
data mnist subset=500
evaluate size
prune ratio=0.5 structured=true scope=layer
evaluate size
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	before, after := rep.Steps[2].Metrics["params"], rep.Steps[4].Metrics["params"]
	if after >= before/2 || rep.Steps[3].Metrics["channels_conv1"] != 16 {
		t.Errorf("params %v -> %v, conv1 channels %v", before, after, rep.Steps[3].Metrics["channels_conv1"])
	}
	if !strings.Contains(rep.Steps[3].Summary, "fc2 kept whole: its output is the model's output") {
		t.Errorf("summary %q does not say why fc2 kept its channels", rep.Steps[3].Summary)
	}
	_, err = runRecipe(t, context.Background(), t.TempDir(), "model cnn\ndata mnist subset=500\nprune ratio=0.99 structured=true scope=layer\n", nil)
	if err == nil || !strings.Contains(err.Error(), "recipe.qpipe:3:1: prune: ratio=0.99 would leave layer conv1 with no channel") {
		t.Fatalf("ratio 0.99: %v", err)
	}
}
