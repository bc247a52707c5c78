package onnx

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
)

// mnistTensor returns n images of ds (all when n <= 0) as (n, 1, 28, 28).
func mnistTensor(t *testing.T, ds *data.Dataset, n int) *ops.Tensor {
	t.Helper()
	if n <= 0 || n > ds.Len() {
		n = ds.Len()
	}
	x, err := ops.FromData(ds.X[:n*ds.SampleSize()], n, ds.C, ds.H, ds.W)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func openMNIST(t *testing.T) *data.Splits {
	t.Helper()
	s, err := data.Open("mnist", data.Options{})
	if err != nil {
		t.Fatalf("MNIST: %v", err)
	}
	return s
}

// forwardBatched evaluates m over x in batches of 1000.
func forwardBatched(t *testing.T, m *ops.Model, x *ops.Tensor) *ops.Tensor {
	t.Helper()
	per := ops.Numel(x.Shape[1:])
	var out []float32
	var classes int
	for i := 0; i < x.Shape[0]; i += 1000 {
		n := min(1000, x.Shape[0]-i)
		xb, _ := ops.FromData(x.Data[i*per:(i+n)*per], append([]int{n}, x.Shape[1:]...)...)
		y := forward(t, m, xb)
		classes = y.Shape[1]
		out = append(out, y.Data...)
	}
	return ops.MustFromData(out, x.Shape[0], classes)
}

// TestQDQCNNAgreesWithORTOnMNIST: the CNN PyTorch trained for one epoch,
// imported, fake-quantized to int8 (per-channel weights, per-tensor
// inputs calibrated on 512 training images), prepared with
// RequantizeOutputs and exported as QDQ, runs in ONNX Runtime's integer
// kernels (its optimized graph has QLinearConv for both convolutions and
// QGemm for both linears, and no float Conv or Gemm) and gives the same
// top-1 class as qpipe's fake-quant evaluation of the prepared model on
// ≥ 99.5% of the 10,000 MNIST test images.
func TestQDQCNNAgreesWithORTOnMNIST(t *testing.T) {
	s := openMNIST(t)
	m := importTest(t, "cnn_opset13.onnx")
	fp32 := m.Clone()
	quantize(t, m, mnistTensor(t, s.Train, 512))
	x := mnistTensor(t, s.Test, 0)
	plain := forwardBatched(t, m, x) // before the output requantization
	r, err := RequantizeOutputs(m)
	if err != nil {
		t.Fatal(err)
	}
	// conv1's ReLU before the max pool (exact), conv2's ReLU and the average
	// pool (requantized; the pool itself stays float).
	if r.Exact != 1 || r.Requantized != 1 {
		t.Errorf("RequantizeOutputs: %+v, want 1 exact copy and 1 requantized output", r)
	}
	want := forwardBatched(t, m, x)
	path := export(t, m, []int{1, 1, 28, 28})
	checkModel(t, path)
	opt := filepath.Join(t.TempDir(), "cnn_int8_optimized.onnx")
	got, _ := runORTOpt(t, path, x, 0, opt)
	counts := opCounts(t, opt)
	t.Logf("onnxruntime's optimized graph: %v", counts)
	if counts["QLinearConv"]+counts["com.microsoft.QLinearConv"] < 1 || counts["com.microsoft.QGemm"] != 2 || counts["Gemm"]+counts["MatMul"] != 0 {
		t.Errorf("onnxruntime does not run the layers on integers: optimized graph %v, want QLinearConv for conv2, QGemm for fc1 and fc2, no float Gemm or MatMul", counts)
	}
	agree := top1Agreement(got, want)
	n := x.Shape[0]
	acc := func(y *ops.Tensor) float64 {
		c := 0
		for i, p := range ops.Argmax(y) {
			if p == s.Test.Y[i] {
				c++
			}
		}
		return float64(c) / float64(n)
	}
	t.Logf("CNN int8 QDQ: top-1 agreement onnxruntime vs qpipe fake-quant %d/%d (%.2f%%), max logit diff %.3g; vs qpipe without the output requantization %d/%d; accuracy fp32 %.4f, qpipe int8 %.4f (without requantization %.4f), onnxruntime int8 %.4f",
		agree, n, 100*float64(agree)/float64(n), maxAbsDiff(got.Data, want.Data), top1Agreement(got, plain), n,
		acc(forwardBatched(t, fp32, x)), acc(want), acc(plain), acc(got))
	if float64(agree) < 0.995*float64(n) {
		t.Errorf("top-1 agreement %d/%d below 99.5%%", agree, n)
	}
}

// TestORTLatencyFigures logs ONNX Runtime's median time per run (one
// thread, optimization level all) of the exported FP32 and INT8 QDQ CNN
// at batch 1 and 64. It asserts nothing about the times (machines are
// noisy); it fails only when a run fails.
func TestORTLatencyFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("timing figures only; -short skips them")
	}
	s := openMNIST(t)
	m := importTest(t, "cnn_opset13.onnx")
	fp32 := exportAs(t, m, "cnn_fp32")
	quantize(t, m, mnistTensor(t, s.Train, 512))
	if _, err := RequantizeOutputs(m); err != nil {
		t.Fatal(err)
	}
	int8 := exportAs(t, m, "cnn_int8")
	for _, batch := range []int{1, 64} {
		x := mnistTensor(t, s.Test, batch)
		iters := max(50, 4000/batch)
		_, f := runORT(t, fp32, x, iters)
		_, q := runORT(t, int8, x, iters)
		t.Logf("onnxruntime CNN batch %d (median of %d runs): fp32 %.4f ms, int8 QDQ %.4f ms (int8/fp32 %.2f)", batch, iters, f, q, q/f)
	}
	for _, p := range []string{fp32, int8} {
		st, _ := os.Stat(p)
		t.Logf("%s: %d bytes", filepath.Base(p), st.Size())
	}
}

func exportAs(t *testing.T, m *ops.Model, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".onnx")
	if err := Export(m, path, ExportOptions{InputShape: []int{1, 1, 28, 28}}); err != nil {
		t.Fatal(err)
	}
	return path
}
