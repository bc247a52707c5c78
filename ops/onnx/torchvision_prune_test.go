package onnx

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/stdlib/compress"
	"github.com/qpipe/qpipe/stdlib/prune"
)

// TestTorchvisionPruneORT: `prune` on imported resnet18 and
// mobilenet_v3_small, magnitude (global and per layer) and structured,
// then `export onnx`: ONNX Runtime runs the pruned export within exportTol
// of qpipe's logits, and the exported weights carry the zeros (magnitude)
// or the smaller layers (structured). A magnitude-pruned resnet18 is then
// quantized to INT8 and its QDQ export checked the same way as the
// unpruned one (TestTorchvisionRoundTripORT: within 3 times qpipe's own
// rounding sensitivity), with its zeros kept.
func TestTorchvisionPruneORT(t *testing.T) {
	cases := []struct {
		key, scope        string
		ratio             float64
		structured, quant bool
	}{
		{zooKey("resnet18", 64, 17, "dyn"), prune.Global, 0.5, false, true},
		{zooKey("mobilenet_v3_small", 64, 13, "static"), prune.PerLayer, 0.3, false, false},
		{zooKey("resnet18", 64, 17, "dyn"), prune.PerLayer, 0.25, true, false},
		{zooKey("mobilenet_v3_small", 64, 13, "static"), prune.PerLayer, 0.25, true, false},
	}
	for _, c := range cases {
		name := c.key + "/magnitude_" + c.scope
		if c.structured {
			name = c.key + "/structured_" + c.scope
		}
		t.Run(name, func(t *testing.T) {
			m, _, x := importZoo(t, c.key)
			before := forward(t, m, x)
			if c.structured {
				checkStructured(t, m, c.ratio, c.scope)
			} else {
				rep, err := prune.Magnitude(m, c.ratio, c.scope)
				if err != nil {
					t.Fatal(err)
				}
				if s := rep.Sparsity(); s < c.ratio-0.01 || s > c.ratio+0.01 {
					t.Fatalf("sparsity %.4f after prune ratio=%g", s, c.ratio)
				}
				t.Logf("%d of %d weights zero over %d layers", rep.Zeros, rep.Total, len(rep.Layers))
			}
			if d := relErr(forward(t, m, x).Data, before.Data); d == 0 {
				t.Fatalf("pruning left the logits unchanged")
			}
			path := ortAgreesAt(t, m, x, exportTol, "pruned fp32")
			if !c.structured {
				exportedZeros(t, path, m)
			}
			if !c.quant {
				return
			}
			res, err := compress.QuantizeInt8(context.Background(), m, compress.Int8Options{Data: calibration(x, 16), Batches: 2, Batch: 8})
			if err != nil {
				t.Fatal(err)
			}
			sens := int8Sensitivity(t, m, x)
			t.Logf("quantized %d layers; rounding sensitivity %.2g", res.Layers, sens)
			exportedZeros(t, ortAgreesAt(t, m, x, min(0.05, max(3*sens, 1e-3)), "pruned int8 QDQ"), m)
		})
	}
}

// checkStructured removes channels and checks that the model shrank.
func checkStructured(t *testing.T, m *ops.Model, ratio float64, scope string) {
	t.Helper()
	rep, err := prune.Structured(m, ratio, scope)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Shrunk) == 0 || rep.ParamsAfter >= rep.ParamsBefore {
		t.Fatalf("structured pruning shrank %d layers, params %d -> %d (skipped %v)", len(rep.Shrunk), rep.ParamsBefore, rep.ParamsAfter, rep.Skipped)
	}
	t.Logf("structured: %d layers shrunk, %d kept whole, params %d -> %d", len(rep.Shrunk), len(rep.Skipped), rep.ParamsBefore, rep.ParamsAfter)
}

// exportedZeros checks that the exported file's weights (initializers
// of rank 2 and more: float, or int8 codes before DequantizeLinear) hold
// at least as many zeros as m's convolution and linear weights.
func exportedZeros(t *testing.T, path string, m *ops.Model) {
	t.Helper()
	want := prune.Measure(m).Zeros
	mp, err := readModel(path)
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for _, init := range mp.GetGraph().GetInitializer() {
		if len(init.GetDims()) < 2 {
			continue
		}
		k, err := tensorData(init, filepath.Dir(path))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range k.data {
			if v == 0 {
				got++
			}
		}
	}
	t.Logf("exported weights: %d zeros, the model %d", got, want)
	if got < want {
		t.Errorf("the export holds %d zero weights, the pruned model %d", got, want)
	}
}
