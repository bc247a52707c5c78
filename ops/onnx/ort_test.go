package onnx

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/onnx/onnxpb"
)

// Helpers that run the outside checkers: ONNX Runtime (onnxruntime-node,
// scripts/ort/run.js) and onnx.checker (Debian's python3-onnx). Missing
// tools fail the test with the line that installs them.

const ortHint = "install Node.js and npm (apt-get install -y nodejs npm), then: cd scripts/ort && npm ci --ignore-scripts"

func ortScript(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node not found: %s", ortHint)
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "scripts", "ort"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node")); err != nil {
		t.Fatalf("onnxruntime-node is not installed in %s: %s", dir, ortHint)
	}
	return filepath.Join(dir, "run.js")
}

type ortResult struct {
	Dims     []int   `json:"dims"`
	MsPerRun float64 `json:"ms_per_run"` // median
	MsMean   float64 `json:"ms_mean"`
}

// runORT runs model on x in ONNX Runtime (graph optimization level all);
// bench > 0 also times bench runs and returns their median in ms.
func runORT(t *testing.T, model string, x *ops.Tensor, bench int) (*ops.Tensor, float64) {
	t.Helper()
	return runORTOpt(t, model, x, bench, "")
}

// runORTOpt is runORT that also writes the graph ONNX Runtime runs after
// its optimizations to optimized (when not empty).
func runORTOpt(t *testing.T, model string, x *ops.Tensor, bench int, optimized string) (*ops.Tensor, float64) {
	t.Helper()
	script := ortScript(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "x.f32"), filepath.Join(dir, "y.f32")
	if err := os.WriteFile(in, f32bytes(x.Data), 0o644); err != nil {
		t.Fatal(err)
	}
	dims := make([]string, len(x.Shape))
	for i, d := range x.Shape {
		dims[i] = strconv.Itoa(d)
	}
	args := []string{script, model, in, strings.Join(dims, ","), out}
	if bench > 0 || optimized != "" {
		args = append(args, strconv.Itoa(bench))
	}
	if optimized != "" {
		args = append(args, optimized)
	}
	cmd := exec.Command("node", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("onnxruntime on %s: %v\n%s", filepath.Base(model), err, stderr.String())
	}
	var r ortResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("onnxruntime output %q: %v", b, err)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	y, err := ops.FromData(f32values(raw), r.Dims...)
	if err != nil {
		t.Fatal(err)
	}
	return y, r.MsPerRun
}

// opCounts counts the op types of an ONNX file's graph ("com.microsoft."
// prefixes contrib ops), e.g. ONNX Runtime's optimized model.
func opCounts(t *testing.T, path string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var mp onnxpb.ModelProto
	if err := proto.Unmarshal(b, &mp); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	c := map[string]int{}
	for _, n := range mp.GetGraph().GetNode() {
		op := n.GetOpType()
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			op = d + "." + op
		}
		c[op]++
	}
	return c
}

func f32bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func f32values(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// checkModel runs onnx.checker.check_model (full_check: shape inference
// too) on an exported file.
func checkModel(t *testing.T, path string) {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		py = "python3"
	}
	code := "import sys, onnx; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)"
	b, err := exec.Command(py, "-c", code, path).CombinedOutput()
	if err != nil {
		if strings.Contains(string(b), "No module named") {
			t.Fatalf("python3-onnx is missing: apt-get install -y python3-onnx\n%s", b)
		}
		t.Fatalf("onnx.checker rejects %s: %v\n%s", filepath.Base(path), err, b)
	}
}
