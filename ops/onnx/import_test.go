package onnx

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// importTol is the largest logit difference accepted between qpipe on an
// imported model and PyTorch on the same inputs (float32 both sides,
// different summation orders).
const importTol = 1e-4

type meta struct {
	Gelu      int `json:"gelu"`
	GeluTanh  int `json:"gelu_tanh"`
	LayerNorm int `json:"layernorm"`
	Linear    int `json:"linear"`
}

func readMeta(t *testing.T, model string) meta {
	b, err := os.ReadFile(filepath.Join("testdata", model+"_meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m meta
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestImportMatchesPyTorch: logits of every imported test model equal
// PyTorch's on the recorded inputs, at batch 16 (the probe batches are 2
// and 3, so this also checks the dynamic batch).
func TestImportMatchesPyTorch(t *testing.T) {
	for _, model := range []string{"cnn", "swin"} {
		x := readNpy(t, filepath.Join("testdata", model+"_x.npy"))
		want := readNpy(t, filepath.Join("testdata", model+"_logits.npy"))
		for _, opset := range []int{13, 17} {
			t.Run(fmt.Sprintf("%s_opset%d", model, opset), func(t *testing.T) {
				m, err := Import(filepath.Join("testdata", fmt.Sprintf("%s_opset%d.onnx", model, opset)), ImportOptions{})
				if err != nil {
					t.Fatal(err)
				}
				got := forward(t, m, x)
				if !ops.SameShape(got.Shape, want.Shape) {
					t.Fatalf("logits shape %v, want %v", got.Shape, want.Shape)
				}
				d := maxAbsDiff(got.Data, want.Data)
				t.Logf("%s opset %d: %d nodes, max |qpipe - torch| = %.3g", model, opset, len(m.Nodes), d)
				if d > importTol {
					t.Fatalf("max logit difference %.3g > %g", d, importTol)
				}
				// Another batch size: rows are independent samples.
				x5, _ := ops.FromData(x.Data[:5*ops.Numel(x.Shape[1:])], append([]int{5}, x.Shape[1:]...)...)
				got5 := forward(t, m, x5)
				if d5 := maxAbsDiff(got5.Data, want.Data[:len(got5.Data)]); d5 > importTol {
					t.Fatalf("at batch 5: max logit difference %.3g > %g", d5, importTol)
				}
			})
		}
	}
}

// TestImportFindsEveryGELU: the decomposed GELUs (erf and tanh forms) and
// LayerNorms of the Swin-like model come back as single nodes, as many
// as the PyTorch model has modules, so `replace gelu with relu` finds them.
func TestImportFindsEveryGELU(t *testing.T) {
	want := readMeta(t, "swin")
	for _, opset := range []int{13, 17} {
		m, err := Import(filepath.Join("testdata", fmt.Sprintf("swin_opset%d.onnx", opset)), ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		k := m.KindCounts()
		if k[ops.OpGELU] != want.Gelu || k[ops.OpGELUTanh] != want.GeluTanh || k[ops.OpLayerNorm] != want.LayerNorm || k[ops.OpLinear] != want.Linear {
			t.Errorf("opset %d: gelu %d gelu_tanh %d layernorm %d linear %d, want %+v", opset,
				k[ops.OpGELU], k[ops.OpGELUTanh], k[ops.OpLayerNorm], k[ops.OpLinear], want)
		}
		for _, n := range m.FindKind(ops.OpGELU, ops.OpGELUTanh) {
			if want := "mlp.act"; len(n.Name) < len(want) || n.Name[len(n.Name)-len(want):] != want {
				t.Errorf("GELU node named %q, want a module path ending in %q", n.Name, want)
			}
		}
	}
}
