package onnx

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// exportTol bounds the logit difference between qpipe and ONNX Runtime
// on an exported FP32 model.
const exportTol = 1e-4

func importTest(t *testing.T, file string) *ops.Model {
	t.Helper()
	m, err := Import(filepath.Join("testdata", file), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func export(t *testing.T, m *ops.Model, shape []int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), m.Name+".onnx")
	if err := Export(m, path, ExportOptions{InputShape: shape}); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExportFP32RoundTripAndORT: an imported model exported again passes
// onnx.checker, re-imports to the same logits and node kinds, and ONNX
// Runtime computes what qpipe computes.
func TestExportFP32RoundTripAndORT(t *testing.T) {
	for _, model := range []string{"cnn", "swin"} {
		t.Run(model, func(t *testing.T) {
			m := importTest(t, model+"_opset13.onnx")
			x := readNpy(t, filepath.Join("testdata", model+"_x.npy"))
			want := forward(t, m, x)
			path := export(t, m, x.Shape)
			checkModel(t, path)
			back, err := Import(path, ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(forward(t, back, x).Data, want.Data); d > 1e-5 {
				t.Errorf("re-imported logits differ by %.3g", d)
			}
			if a, b := fmt.Sprint(m.KindCounts()), fmt.Sprint(back.KindCounts()); a != b {
				t.Errorf("kinds after round trip %s, want %s", b, a)
			}
			got, _ := runORT(t, path, x, 0)
			d := maxAbsDiff(got.Data, want.Data)
			t.Logf("%s FP32: max |onnxruntime - qpipe| = %.3g", model, d)
			if d > exportTol {
				t.Errorf("onnxruntime logits differ by %.3g > %g", d, exportTol)
			}
		})
	}
}

// TestExportQDQSwinORT: the Swin-like model with int8 fake quantization on
// every linear layer (weights per channel, inputs per tensor) exports as
// QDQ that onnx.checker and ONNX Runtime accept, with logits close to
// qpipe's fake-quant evaluation.
func TestExportQDQSwinORT(t *testing.T) {
	m := importTest(t, "swin_opset17.onnx")
	x := readNpy(t, filepath.Join("testdata", "swin_x.npy"))
	quantize(t, m, x)
	want := forward(t, m, x)
	path := export(t, m, x.Shape)
	checkModel(t, path)
	got, _ := runORT(t, path, x, 0)
	d := maxAbsDiff(got.Data, want.Data)
	agree := top1Agreement(got, want)
	t.Logf("swin QDQ: max |onnxruntime - qpipe fake-quant| = %.3g, top-1 agreement %d/%d", d, agree, x.Shape[0])
	if d > 0.05 || agree < x.Shape[0]-1 {
		t.Errorf("QDQ logits differ by %.3g, top-1 agreement %d/%d", d, agree, x.Shape[0])
	}
}

func top1Agreement(a, b *ops.Tensor) int {
	pa, pb := ops.Argmax(a), ops.Argmax(b)
	n := 0
	for i := range pa {
		if pa[i] == pb[i] {
			n++
		}
	}
	return n
}

// quantize inserts int8 fake quantization into every linear and conv2d
// layer the way a quantize verb does: weights per output channel
// (max|W_c|/127, [-127, 127]), inputs per tensor (max|x|/127 on calib,
// [-128, 127]).
func quantize(t *testing.T, m *ops.Model, calib *ops.Tensor) {
	t.Helper()
	layers := m.FindKind(ops.OpLinear, ops.OpConv2d)
	amax := map[int]float32{}
	be, _ := ops.NewBackend("cpu")
	_, err := m.ForwardObserved(ops.NewContext(be, ops.Options{}), func(n *ops.Node, in []*ops.Tensor, _ *ops.Tensor) {
		if n.Kind == ops.OpLinear || n.Kind == ops.OpConv2d {
			for _, v := range in[0].Data {
				amax[n.ID] = max(amax[n.ID], float32(math.Abs(float64(v))))
			}
		}
	}, calib)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range layers {
		w := m.Param(n.Params["weight"]).Value
		rows := w.Shape[0]
		per := w.Numel() / rows
		scale := ops.New(rows)
		for r := range rows {
			for _, v := range w.Data[r*per : (r+1)*per] {
				scale.Data[r] = max(scale.Data[r], float32(math.Abs(float64(v)))/127)
			}
		}
		wn, err := m.ExposeParam(n, "weight")
		if err != nil {
			t.Fatal(err)
		}
		wq := addFakeQuant(t, m, n.Name+".weight_quant", scale, ops.Attrs{QMin: -127, QMax: 127, Axis: 0, Bits: 8, Tag: "weight"})
		m.InsertAfter(wn, wq)
		aq := addFakeQuant(t, m, n.Name+".input_quant", ops.MustFromData([]float32{amax[n.ID] / 127}, 1), ops.Attrs{QMin: -128, QMax: 127, Bits: 8, Tag: "input"})
		m.InsertBefore(n, 0, aq)
	}
}

func addFakeQuant(t *testing.T, m *ops.Model, name string, scale *ops.Tensor, a ops.Attrs) *ops.Node {
	if _, err := m.AddParam(name+".scale", scale, false); err != nil {
		t.Fatal(err)
	}
	return &ops.Node{Kind: ops.OpFakeQuant, Name: name, Attrs: a, Params: map[string]string{"scale": name + ".scale"}}
}
