package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/planner"
)

// planOf runs `qpipe plan --format json` on text and decodes the plan.
func planOf(t *testing.T, text string, args ...string) (*planner.Plan, string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "r.qpipe")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	argv := append(append([]string{"plan", "--format", "json"}, args...), file)
	if code := Main(argv, &IO{Stdout: &out, Stderr: &errOut, Getenv: os.Getenv}); code != 0 {
		t.Fatalf("qpipe plan exited %d: %s", code, errOut.String())
	}
	var p planner.Plan
	if err := json.Unmarshal(out.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	return &p, errOut.String()
}

func planNode(t *testing.T, p *planner.Plan, label string) *planner.Node {
	t.Helper()
	for _, n := range p.Nodes {
		if n.Label == label {
			return n
		}
	}
	t.Fatalf("no node %s", label)
	return nil
}

// TestPlanCountsFLOPsAndParams checks the plan's model figures against a
// hand count of the zoo cnn on MNIST (1×28×28, 10 classes), then after
// removing half the channels of every layer (conv 32→16, conv 64→32, fc
// 128→64) and quantizing to 4 bits.
func TestPlanCountsFLOPsAndParams(t *testing.T) {
	p, _ := planOf(t, `model cnn
data mnist subset=500
prune magnitude ratio=0.5 structured=true scope=layer
quantize uniform bits=4
evaluate accuracy
`)
	const (
		params  = (9*32 + 32) + (32*9*64 + 64) + (3136*128 + 128) + (128*10 + 10)
		macs    = 32*28*28*9 + 64*14*14*32*9 + 3136*128 + 128*10
		pParams = (9*16 + 16) + (16*9*32 + 32) + (1568*64 + 64) + (64*10 + 10)
		pMACs   = 16*28*28*9 + 32*14*14*16*9 + 1568*64 + 64*10
	)
	if p.Model.Params == nil || *p.Model.Params != params || *p.Model.FLOPsPerImage != 2*macs {
		t.Fatalf("model binding = %+v, want %d params and %d FLOPs", p.Model, params, 2*macs)
	}
	if *p.Data.TrainImages != 500 || *p.Data.TestImages != 10000 {
		t.Errorf("data binding = %+v, want 500 training images (subset) and 10000 test", p.Data)
	}
	load := planNode(t, p, "1").Model
	if load == nil || load.Params != params || load.WeightBytes != 4*params || load.Bits != 32 {
		t.Errorf("model node = %+v", load)
	}
	pruned := planNode(t, p, "3").Model
	if pruned == nil || pruned.Params != pParams || pruned.FLOPsPerImage != 2*pMACs || !strings.Contains(pruned.Change, "params 421,642 → 105,866") {
		t.Fatalf("pruned = %+v, want %d params and %d FLOPs", pruned, pParams, 2*pMACs)
	}
	q := planNode(t, p, "4").Model
	if q.Bits != 4 || q.WeightBytes != pParams*4/8 || q.Params != pParams || !strings.Contains(q.Change, "(32 → 4 bits)") {
		t.Errorf("quantized = %+v", q)
	}
	ev := planNode(t, p, "5")
	if ev.Cost.FLOPs == nil || *ev.Cost.FLOPs != 2*pMACs*10000 {
		t.Errorf("evaluate cost = %v FLOPs, want the pruned model over 10000 test images", ev.Cost.FLOPs)
	}
}

// TestPlanSaysWhatItCannotKnow: a missing model file or a folder dataset
// does not fail the plan; it says unknown and why.
func TestPlanSaysWhatItCannotKnow(t *testing.T) {
	p, _ := planOf(t, "model \"nowhere/m.onnx\"\ndata mnist\nevaluate accuracy\n")
	if p.Model.Params != nil || !strings.Contains(p.Model.Unknown, "nowhere/m.onnx") {
		t.Errorf("missing model file: %+v", p.Model)
	}
	p, _ = planOf(t, "model cnn\ndata imagefolder \"pics/\"\nevaluate accuracy\n")
	if p.Data.TrainImages != nil || !strings.Contains(p.Data.Unknown, "read when the run opens it") ||
		!strings.Contains(p.Model.Unknown, "input shape from the dataset") {
		t.Errorf("folder dataset: data %+v, model %+v", p.Data, p.Model)
	}
	var out bytes.Buffer
	dir := t.TempDir()
	file := filepath.Join(dir, "r.qpipe")
	os.WriteFile(file, []byte("model cnn\ndata imagefolder \"pics/\"\ntrain\n"), 0o644)
	if code := Main([]string{"plan", file}, &IO{Stdout: &out, Stderr: &out, Getenv: os.Getenv}); code != 0 {
		t.Fatalf("plan exited %d: %s", code, out.String())
	}
	if !strings.Contains(out.String(), "FLOPs and params unknown (model cnn takes its input shape from the dataset") {
		t.Errorf("text plan does not say why:\n%s", out.String())
	}
}

// TestPlanOfAModelFileReadsIt: a checkpoint named by --model is read at
// plan time and counted like the zoo model it was saved from.
func TestPlanOfAModelFileReadsIt(t *testing.T) {
	zp, _ := planOf(t, "model mlp\ndata mnist\nevaluate accuracy\n")
	dir := t.TempDir()
	ck := filepath.Join(dir, "m.safetensors")
	var out bytes.Buffer
	rec := filepath.Join(dir, "save.qpipe")
	os.WriteFile(rec, []byte("model mlp\ndata digits\nexport checkpoint \"m.safetensors\"\n"), 0o644)
	if code := Main([]string{"run", "--no-cache", "--out", dir, rec}, &IO{Stdout: &out, Stderr: &out, Getenv: os.Getenv}); code != 0 {
		t.Skipf("cannot write a checkpoint here (digits missing?): %s", out.String())
	}
	p, _ := planOf(t, "data mnist\nevaluate accuracy\n", "--model", ck)
	if p.Model.Params == nil || *p.Model.Params != *zp.Model.Params || *p.Model.FLOPsPerImage != *zp.Model.FLOPsPerImage {
		t.Errorf("checkpoint: %+v, zoo mlp: %+v", p.Model, zp.Model)
	}
}

// TestPlanOfAnONNXFile: an ONNX model is read at plan time and counted at
// its own input shape. cnn_opset13.onnx (PyTorch's export) holds conv
// weights 8×1×3×3 and 16×8×3×3, fc 32×784 and 10×32: conv1 runs on 28×28,
// conv2 on 14×14 after a 2×2 max pool, fc1 on the 16×7×7 average pool.
func TestPlanOfAnONNXFile(t *testing.T) {
	path, _ := filepath.Abs(filepath.Join("..", "..", "ops", "onnx", "testdata", "cnn_opset13.onnx"))
	p, _ := planOf(t, "data mnist\nevaluate accuracy\n", "--model", path)
	const (
		params = (8*9 + 8) + (16*8*9 + 16) + (784*32 + 32) + (32*10 + 10)
		macs   = 8*28*28*9 + 16*14*14*8*9 + 784*32 + 32*10
	)
	if p.Model.Params == nil || *p.Model.Params != params || *p.Model.FLOPsPerImage != 2*macs {
		t.Fatalf("ONNX model = %+v, want %d params and %d FLOPs", p.Model, params, 2*macs)
	}
}
