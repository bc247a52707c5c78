package compress

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/onnx"
	"github.com/qpipe/qpipe/ops/onnx/onnxpb"
	"google.golang.org/protobuf/proto"
)

// ortRun runs an ONNX file in ONNX Runtime (scripts/ort/run.js) on x.
func ortRun(t *testing.T, model string, x *ops.Tensor) []float32 {
	t.Helper()
	script, _ := filepath.Abs(filepath.Join("..", "..", "scripts", "ort", "run.js"))
	if _, err := os.Stat(filepath.Join(filepath.Dir(script), "node_modules", "onnxruntime-node")); err != nil {
		t.Fatal("onnxruntime-node is not installed: cd scripts/ort && npm ci --ignore-scripts")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "x.f32"), filepath.Join(dir, "y.f32")
	raw := make([]byte, 4*len(x.Data))
	for i, v := range x.Data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	if err := os.WriteFile(in, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	dims := []string{}
	for _, d := range x.Shape {
		dims = append(dims, strconv.Itoa(d))
	}
	cmd := exec.Command("node", script, model, in, strings.Join(dims, ","), out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("onnxruntime: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	y := make([]float32, len(b)/4)
	for i := range y {
		y[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return y
}

// The exported log2 model (int8 QDQ, or dequantized float weights) gives
// qpipe's fake-quant outputs in ONNX Runtime; QDQ stores the power-of-two
// codes exactly.
func TestLog2ONNXExportMatchesInONNXRuntime(t *testing.T) {
	m, ds := trained(t, ops.OpReLU)
	lowbit(t, m, LowBitOptions{Method: MethodLog2, Bits: 3, Ratio: 0.5, RatioSet: true, Data: ds, Batch: 32, Batches: 4})
	want := logits(t, m, ds, 256)
	x, _ := ops.FromData(append([]float32(nil), ds.X[:256*64]...), 256, 1, 8, 8)
	for _, repr := range []string{ReprQDQ, ReprDequantized} {
		t.Run(repr, func(t *testing.T) {
			form, _, err := ONNXForm(m, repr)
			if err != nil {
				t.Fatal(err)
			}
			if len(form.FindKind(ops.OpLog2Quant)) != 0 || len(m.FindKind(ops.OpLog2Quant)) != 1 {
				t.Fatal("ONNXForm left a log2 node or changed its input")
			}
			// The form computes what the fake-quant model computes.
			if d := maxDiff(logits(t, form, ds, 256).Data, want.Data); d > 1e-5 {
				t.Fatalf("%s form differs from the fake-quant model by %v", repr, d)
			}
			path := filepath.Join(t.TempDir(), "m.onnx")
			if err := onnx.Export(form, path, onnx.ExportOptions{InputShape: []int{1, 1, 8, 8}}); err != nil {
				t.Fatal(err)
			}
			if repr == ReprQDQ && !hasPowerOfTwoInitializer(t, path) {
				t.Fatal("no int8 initializer holds the power-of-two codes {0, ±1, ±2, ±4}")
			}
			got := ortRun(t, path, x)
			gt, _ := ops.FromData(got, 256, 4)
			top1, _ := agreement(want, gt)
			d := maxDiff(got, want.Data)
			t.Logf("%s: max |ORT - qpipe| %.3g, top-1 agreement %.4f", repr, d, top1)
			if top1 < 0.99 || d > 0.05*maxAbsF(want.Data) {
				t.Fatalf("%s: ORT top-1 agreement %.4f, max diff %v", repr, top1, d)
			}
		})
	}
}

func maxDiff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

func maxAbsF(a []float32) float64 { return float64(maxAbs(a)) }

// hasPowerOfTwoInitializer: some int8 initializer with more than 1000
// values (fc1's weight) holds only 3-bit log2 codes, with all of them used.
func hasPowerOfTwoInitializer(t *testing.T, path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var mp onnxpb.ModelProto
	if err := proto.Unmarshal(b, &mp); err != nil {
		t.Fatal(err)
	}
	for _, in := range mp.GetGraph().GetInitializer() {
		if in.GetDataType() != int32(onnxpb.TensorProto_INT8) || len(in.GetRawData()) < 1000 {
			continue
		}
		seen := map[int8]bool{}
		ok := true
		for _, c := range in.GetRawData() {
			v := int8(c)
			seen[v] = true
			ok = ok && (v == 0 || v == 1 || v == -1 || v == 2 || v == -2 || v == 4 || v == -4)
		}
		if ok && len(seen) == 7 {
			return true
		}
	}
	return false
}
