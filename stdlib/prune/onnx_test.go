package prune

import (
	"math"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/onnx"
)

// TestStructuredOnAnImportedONNXCNN prunes the PyTorch-exported cnn
// (ops/onnx/testdata) and checks it computes what the original computes
// with the removed channels zeroed.
func TestStructuredOnAnImportedONNXCNN(t *testing.T) {
	load := func() *ops.Model {
		m, err := onnx.Import("../../ops/onnx/testdata/cnn_opset17.onnx", onnx.ImportOptions{})
		if err != nil {
			t.Skipf("ONNX fixture: %v", err)
		}
		return m
	}
	m, ref := load(), load()
	rep, err := Structured(m, 0.25, PerLayer)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Shrunk) != 3 {
		t.Fatalf("shrunk %d layers of the imported cnn, want conv1, conv2 and fc1 (skipped %+v)", len(rep.Shrunk), rep.Skipped)
	}
	t.Logf("shrunk %d layers, skipped %v", len(rep.Shrunk), rep.Skipped)
	zeroRemoved(t, ref, rep)
	x := ops.New(2, 1, 28, 28)
	for i := range x.Data {
		x.Data[i] = float32(math.Sin(float64(i)/7))*0.5 + 0.5
	}
	got, want := forward(t, m, x), forward(t, ref, x)
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-4 {
			t.Fatalf("output %d: pruned %v, reference %v", i, got[i], want[i])
		}
	}
	if rep.ParamsAfter >= rep.ParamsBefore {
		t.Errorf("params %d -> %d", rep.ParamsBefore, rep.ParamsAfter)
	}
}
