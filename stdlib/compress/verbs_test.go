package compress_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/stdlib"
	"github.com/qpipe/qpipe/stdlib/run"
)

// fashionIDX writes the first nTrain training and nTest test images of
// Fashion-MNIST as IDX files in dir/fashion, so a recipe can read a small
// test split with `data idx "fashion"`.
func fashionIDX(t *testing.T, dir string, nTrain, nTest int) {
	t.Helper()
	sp, err := data.Open("fashion-mnist", data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "fashion")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(prefix string, ds *data.Dataset, n int) {
		px, labels := make([]byte, n*784), make([]byte, n)
		for i := range n {
			labels[i] = byte(ds.Y[i])
			for j, v := range ds.Sample(i) {
				px[i*784+j] = byte(math.Round(float64(v) * 255))
			}
		}
		for name, b := range map[string][]byte{prefix + "-images-idx3-ubyte": data.EncodeIDX([]int{n, 28, 28}, px),
			prefix + "-labels-idx1-ubyte": data.EncodeIDX([]int{n}, labels)} {
			if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write("train", sp.Train, nTrain)
	write("t10k", sp.Test, nTest)
}

// runRecipe checks and runs recipe text with seed 1 (in a folder holding
// the fashion IDX slice) and returns its report.
func runRecipe(t *testing.T, text string) (*run.Report, error) {
	t.Helper()
	dir := t.TempDir()
	fashionIDX(t, dir, 192, 128)
	path := filepath.Join(dir, "r.qpipe")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	rec, ds := check.CheckSource(path, []byte(text), stdlib.Env(), check.Options{})
	if ds.HasErrors() {
		t.Fatalf("recipe does not check:\n%v", ds)
	}
	store, err := run.OpenStore(filepath.Join(dir, "cache"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := run.New(run.Options{Recipe: rec, Path: path, Seed: 1, OutDir: filepath.Join(dir, "out"), Store: store})
	if err != nil {
		t.Fatal(err)
	}
	return r.Run(context.Background())
}

// TestVerbsReplaceDistillQuantize runs the paper's pipeline through the
// executor on a small slice of Fashion-MNIST: the verbs report their
// figures, and evaluate after quantize measures the integer engine, whose
// accuracy agrees with the fake-quant model's.
func TestVerbsReplaceDistillQuantize(t *testing.T) {
	rep, err := runRecipe(t, `model swin-micro
data idx "fashion"
train epochs=1 lr=1e-3 batch=32
snapshot teacher
replace gelu with relu scope="stages.*"
distill from=teacher iterations=2 epochs=1 lr=1e-4 batch=32 teacher=previous
quantize int8 calibrate=percentile(99.9) batches=2
evaluate accuracy latency size runs=2
`)
	if err != nil {
		t.Fatal(err)
	}
	steps := map[string]map[string]float64{}
	for _, s := range rep.Steps {
		steps[s.Verb] = s.Metrics
	}
	if got := steps["replace"]["replaced"]; got != 4 {
		t.Errorf("replaced %v activations; want 4", got)
	}
	d := steps["distill"]
	for _, k := range []string{"accuracy_round_1", "accuracy_round_2", "loss_round_2", "distill_loss_round_2"} {
		if v, ok := d[k]; !ok || math.IsNaN(v) {
			t.Errorf("distill metric %s = %v, %v", k, v, ok)
		}
	}
	q := steps["quantize"]
	if q["quantized_layers"] != 19 || q["fused_relu"] != 4 || q["int8_outputs"] < 4 || q["quantized_attention"] != 4 || q["int8_attention"] != 4 {
		t.Errorf("quantize metrics %v; want 19 layers, 4 fused ReLUs, 4 attention nodes on the integer kernel", q)
	}
	if fake, integer := q["fake_quant_accuracy"], steps["evaluate"]["accuracy"]; math.Abs(fake-integer) > 0.02 {
		t.Errorf("integer engine accuracy %.4f vs fake-quant %.4f", integer, fake)
	}
}

func TestVerbReplaceScopeMatchingNothingFails(t *testing.T) {
	_, err := runRecipe(t, "model swin-micro\ndata idx \"fashion\"\nreplace gelu with relu scope=\"blocks.9.*\"\n")
	if err == nil || !strings.Contains(err.Error(), `"blocks.9.*"`) {
		t.Fatalf("got %v; want an error naming the pattern", err)
	}
}
