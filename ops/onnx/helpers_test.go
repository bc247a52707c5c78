package onnx

import (
	"math"
	"testing"

	"github.com/qpipe/qpipe/ops"
	_ "github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/ops/data"
)

// readNpy loads a float32 .npy file as a qpipe tensor.
func readNpy(t *testing.T, path string) *ops.Tensor {
	t.Helper()
	a, err := data.ReadNpyFile(path)
	if err != nil {
		t.Fatalf("%v (regenerate with /usr/bin/python3 scripts/onnx_gen.py)", err)
	}
	if a.Descr != "<f4" {
		t.Fatalf("%s holds %s, want float32 (<f4)", path, a.Descr)
	}
	v := make([]float32, len(a.Data))
	for i, x := range a.Data {
		v[i] = float32(x)
	}
	x, err := ops.FromData(v, a.Shape...)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return x
}

func evalCtx(t testing.TB) *ops.Context {
	t.Helper()
	be, err := ops.NewBackend("cpu")
	if err != nil {
		t.Fatal(err)
	}
	return ops.NewContext(be, ops.Options{})
}

func forward(t *testing.T, m *ops.Model, x *ops.Tensor) *ops.Tensor {
	t.Helper()
	y, err := m.Forward1(evalCtx(t), x)
	if err != nil {
		t.Fatal(err)
	}
	return y.Clone()
}

func maxAbsDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}
