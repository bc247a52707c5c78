package run

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/modelio"
	"github.com/qpipe/qpipe/stdlib/compress"
)

// adcordaLowBitRecipe prunes, quantizes with QUANTIZE and runs AdCorDA on
// the fake-quant model, exporting before and after.
const adcordaLowBitRecipe = `data digits subset=400
model cnn
train epochs=3 lr=1e-3
prune magnitude ratio=0.5
QUANTIZE
export checkpoint "q.safetensors"
adcorda steps=5 eps=0.1 step_size=0.02 epochs=1 lr=1e-2
export checkpoint "a.safetensors"
export safetensors "packed.safetensors"
evaluate accuracy
`

// TestAdCorDAOnLowBitModels runs AdCorDA on pruned quantize uniform
// (4-bit LSQ) and log2 (4-bit) models: both stages go through the
// fake-quantized forward (the correction finds and fixes misclassified
// samples, CORAL is positive), training moves the weights through the
// straight-through rounding (quantized weights change), pruned weights
// and log2-masked weights stay zero, and the packed codes exported
// afterwards decode to exactly the fake-quant weights.
func TestAdCorDAOnLowBitModels(t *testing.T) {
	for _, c := range []struct{ name, quantize string }{
		{"uniform4_lsq", "quantize uniform bits=4 method=lsq epochs=1 lr=1e-3"},
		{"log2_4", "quantize log2 bits=4 epochs=1 lr=1e-3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			rep, err := runRecipe(t, context.Background(), dir, strings.Replace(adcordaLowBitRecipe, "QUANTIZE", c.quantize, 1), nil)
			if err != nil {
				t.Fatal(err)
			}
			a := rep.Steps[6].Metrics
			if a["misclassified"] == 0 || a["corrected"] == 0 || a["corrected"]+a["uncorrected"] != a["misclassified"] || a["coral"] <= 0 {
				t.Fatalf("adcorda metrics %v", a)
			}
			t.Logf("adcorda: %s; fake-quant accuracy after quantize %.3f, evaluate %.3f", rep.Steps[6].Summary,
				rep.Steps[4].Metrics["fake_quant_accuracy"], rep.Steps[9].Metrics["accuracy"])
			before, after := loadModel(t, filepath.Join(out, "q.safetensors")), loadModel(t, filepath.Join(out, "a.safetensors"))
			masks := prunedMasks(t, before)
			checkQuantizedZeros(t, "after adcorda", after, masks)
			changed := 0
			for _, fq := range after.FindKind(ops.OpFakeQuant, ops.OpLog2Quant) {
				if fq.Attrs.Tag != compress.RoleWeight {
					continue
				}
				qa, qb := quantizedWeight(t, after, fq), quantizedWeight(t, before, before.NodeByName(fq.Name))
				for i := range qa {
					if qa[i] != qb[i] {
						changed++
					}
				}
				if fq.Kind == ops.OpLog2Quant {
					checkLog2MaskHolds(t, after, fq, qa)
				}
			}
			if changed == 0 {
				t.Fatal("adcorda changed no quantized weight: no gradient through the rounding")
			}
			checkPackedMatchesFakeQuant(t, filepath.Join(out, "packed.safetensors"), after)
		})
	}
}

// checkLog2MaskHolds requires the log2 quantizer's output to be zero
// wherever its frozen mask is.
func checkLog2MaskHolds(t *testing.T, m *ops.Model, fq *ops.Node, q []float32) {
	t.Helper()
	mask, zeros := m.Param(fq.Params["mask"]).Value.Data, 0
	for i, k := range mask {
		if k == 0 {
			zeros++
			if q[i] != 0 {
				t.Fatalf("%s[%d] = %v behind a zero log2 mask", fq.Name, i, q[i])
			}
		}
	}
	if zeros == 0 {
		t.Errorf("%s: log2 mask has no zero", fq.Name)
	}
}

// checkPackedMatchesFakeQuant decodes every packed weight and requires it
// to equal (to float rounding) what m's weight quantizer computes.
func checkPackedMatchesFakeQuant(t *testing.T, path string, m *ops.Model) {
	t.Helper()
	f, err := modelio.ReadSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]compress.CodesMeta
	if err := json.Unmarshal([]byte(f.Metadata["qpipe_codes"]), &meta); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fq := range m.FindKind(ops.OpFakeQuant, ops.OpLog2Quant) {
		name := m.Node(fq.Inputs[0]).Params["value"]
		cm, ok := meta[name]
		if !ok || fq.Attrs.Tag != compress.RoleWeight {
			continue
		}
		got, err := compress.DecodeWeights(f.Tensors[name+".codes"].U8, f.Tensors[name+".scale"].Data, cm)
		if err != nil {
			t.Fatal(err)
		}
		want := quantizedWeight(t, m, fq)
		for i := range want {
			if d := got[i] - want[i]; d > 1e-6*max(1, abs32(want[i])) || -d > 1e-6*max(1, abs32(want[i])) {
				t.Fatalf("%s[%d]: packed code decodes to %v, fake-quant weight %v", name, i, got[i], want[i])
			}
		}
		n++
	}
	if n != 4 {
		t.Fatalf("compared %d packed weights, want the cnn's 4", n)
	}
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}
