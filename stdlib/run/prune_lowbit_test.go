package run

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/modelio"
	"github.com/qpipe/qpipe/ops/onnx/onnxpb"
	"github.com/qpipe/qpipe/stdlib/compress"
	"google.golang.org/protobuf/proto"
)

// pruneLowBitRecipe prunes half the weights, then quantizes with the
// low-bit QUANTIZE step (QAT), exports every format and fine-tunes; its
// last line fails so that a resume can follow.
const pruneLowBitRecipe = `data digits subset=300
model cnn
train epochs=1 lr=0.01
prune magnitude ratio=0.5
QUANTIZE
export checkpoint "q.safetensors"
export safetensors "packed.safetensors"
export onnx "q.onnx" REPR
finetune epochs=1 lr=1e-3
export checkpoint "t.safetensors"
evaluate accuracy
expect accuracy >= 1.5
`

// TestPruneMasksSurviveLowBitQuantization: magnitude pruning then quantize
// uniform (LSQ) or log2 with QAT keeps every pruned weight exactly zero in
// the fake-quant model's quantized weights, in the checkpoint, after a
// finetune, after --resume, in the packed safetensors codes and in the
// ONNX export.
func TestPruneMasksSurviveLowBitQuantization(t *testing.T) {
	for _, c := range []struct{ name, quantize, repr string }{
		{"uniform4_lsq", "quantize uniform bits=4 method=lsq epochs=1 lr=1e-3", ""},
		{"log2_3", "quantize log2 bits=3 epochs=1 lr=1e-3", "representation=dequantized"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			text := strings.NewReplacer("QUANTIZE", c.quantize, "REPR", c.repr).Replace(pruneLowBitRecipe)
			_, err := runRecipe(t, context.Background(), dir, text, nil)
			if err == nil || !strings.Contains(err.Error(), "accuracy >= 1.5 is false") {
				t.Fatalf("the failing expect: %v", err)
			}
			q := loadModel(t, filepath.Join(out, "q.safetensors"))
			masks := prunedMasks(t, q)
			for _, f := range []string{"q.safetensors", "t.safetensors"} {
				checkQuantizedZeros(t, f, loadModel(t, filepath.Join(out, f)), masks)
			}
			checkPackedZeros(t, filepath.Join(out, "packed.safetensors"), masks)
			checkONNXZeros(t, filepath.Join(out, "q.onnx"), masks)

			resumed := strings.Replace(text, "expect accuracy >= 1.5", "finetune epochs=1 lr=1e-3\nexport checkpoint \"r.safetensors\"", 1)
			if _, err := runRecipe(t, context.Background(), dir, resumed, func(o *Options) { o.Resume = true }); err != nil {
				t.Fatal(err)
			}
			rep, _ := ReadReport(out)
			if rep.Steps[10].Status != StatusCached {
				t.Fatalf("step 10 %s, want cached (taken from the step store)", rep.Steps[10].Status)
			}
			checkQuantizedZeros(t, "r.safetensors", loadModel(t, filepath.Join(out, "r.safetensors")), masks)
		})
	}
}

func loadModel(t *testing.T, path string) *ops.Model {
	t.Helper()
	m, _, err := modelio.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// prunedMasks returns the pruning masks of m's weights by parameter name,
// checking that quantization kept one on every conv/linear weight and that
// about half the weights are pruned.
func prunedMasks(t *testing.T, m *ops.Model) map[string][]bool {
	t.Helper()
	masks := map[string][]bool{}
	pruned, total := 0, 0
	for _, p := range m.Masked() {
		masks[p.Name] = p.Mask()
		for _, k := range p.Mask() {
			if !k {
				pruned++
			}
		}
		total += len(p.Mask())
	}
	if len(masks) != 4 {
		t.Fatalf("masked parameters %v after quantization, want the cnn's 4 weights", len(masks))
	}
	if s := float64(pruned) / float64(total); math.Abs(s-0.5) > 1e-3 {
		t.Fatalf("pruned fraction %v, want 0.5", s)
	}
	return masks
}

// checkQuantizedZeros evaluates every weight quantizer of m and requires
// a zero wherever the weight is pruned, and the stored weight zero too.
func checkQuantizedZeros(t *testing.T, what string, m *ops.Model, masks map[string][]bool) {
	t.Helper()
	quant := map[string]*ops.Node{}
	for _, fq := range m.FindKind(ops.OpFakeQuant, ops.OpLog2Quant) {
		if pn := m.Node(fq.Inputs[0]); pn != nil && pn.Kind == ops.OpParam {
			quant[pn.Params["value"]] = fq
		}
	}
	for name, keep := range masks {
		p, fq := m.Param(name), quant[name]
		if p == nil || fq == nil {
			t.Fatalf("%s: weight %s or its quantizer missing", what, name)
		}
		if !p.Masked() {
			t.Fatalf("%s: %s lost its mask", what, name)
		}
		q := quantizedWeight(t, m, fq)
		for i, k := range keep {
			if !k && (p.Value.Data[i] != 0 || q[i] != 0) {
				t.Fatalf("%s: pruned %s[%d] is %v, quantized %v", what, name, i, p.Value.Data[i], q[i])
			}
		}
		if fq.Kind == ops.OpLog2Quant {
			lm := m.Param(fq.Params["mask"]).Value.Data
			for i, k := range keep {
				if !k && lm[i] != 0 {
					t.Fatalf("%s: pruned %s[%d] open in the log2 mask", what, name, i)
				}
			}
		}
	}
}

// checkPackedZeros decodes the packed safetensors export and requires a
// zero code at every pruned weight.
func checkPackedZeros(t *testing.T, path string, masks map[string][]bool) {
	t.Helper()
	f, err := modelio.ReadSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]compress.CodesMeta
	if err := json.Unmarshal([]byte(f.Metadata["qpipe_codes"]), &meta); err != nil {
		t.Fatal(err)
	}
	for name, keep := range masks {
		cm, ok := meta[name]
		if !ok {
			t.Fatalf("packed export: %s has no codes (%v)", name, f.Metadata["qpipe_codes"])
		}
		w, err := compress.DecodeWeights(f.Tensors[name+".codes"].U8, f.Tensors[name+".scale"].Data, cm)
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range keep {
			if !k && w[i] != 0 {
				t.Fatalf("packed export: pruned %s[%d] decodes to %v", name, i, w[i])
			}
		}
	}
}

// checkONNXZeros reads the ONNX export's initializers and requires, for
// each pruned weight, one initializer of its size named after it
// (int8 QDQ codes or float values) that is zero wherever the weight is
// pruned. (Our importer reads no QuantizeLinear, so the file is parsed.)
func checkONNXZeros(t *testing.T, path string, masks map[string][]bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var mp onnxpb.ModelProto
	if err := proto.Unmarshal(b, &mp); err != nil {
		t.Fatal(err)
	}
	for name, keep := range masks {
		var found []string
		for _, init := range mp.GetGraph().GetInitializer() {
			vals := initValues(init)
			if len(vals) != len(keep) || (init.GetName() != name && !strings.HasPrefix(init.GetName(), name+"_")) {
				continue
			}
			found = append(found, init.GetName())
			for i, k := range keep {
				if !k && vals[i] != 0 {
					t.Fatalf("ONNX export: pruned %s[%d] is %v in %s", name, i, vals[i], init.GetName())
				}
			}
		}
		if len(found) != 1 {
			var all []string
			for _, init := range mp.GetGraph().GetInitializer() {
				all = append(all, fmt.Sprint(init.GetName(), len(initValues(init))))
			}
			t.Fatalf("ONNX export: initializers %v for %s, want one (all: %v)", found, name, all)
		}
	}
}

// initValues decodes an INT8 or FLOAT initializer (nil for other types).
func initValues(init *onnxpb.TensorProto) []float32 {
	raw := init.GetRawData()
	switch onnxpb.TensorProto_DataType(init.GetDataType()) {
	case onnxpb.TensorProto_INT8:
		out := make([]float32, len(raw))
		for i, c := range raw {
			out[i] = float32(int8(c))
		}
		return out
	case onnxpb.TensorProto_FLOAT:
		if len(raw) == 0 {
			return init.GetFloatData()
		}
		out := make([]float32, len(raw)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		return out
	}
	return nil
}
