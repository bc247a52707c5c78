package modelio

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/ops"
	_ "github.com/qpipe/qpipe/ops/cpu"
)

// tinyModel is linear → gelu → batch-norm-free classifier with a layer
// norm, enough to carry trainable parameters and a GELU to rewrite.
func tinyModel(t *testing.T, seed uint64) *ops.Model {
	t.Helper()
	b := ops.NewBuilder("tiny", seed)
	x := b.Input("x")
	h := b.Linear("fc1", x, 6, 8, true)
	h = b.Act(ops.OpGELU, "act", h)
	h = b.LayerNorm("norm", h, 8)
	y := b.Linear("head", h, 8, 3, true)
	m, err := b.Build(y)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func forward(t *testing.T, m *ops.Model) []float32 {
	t.Helper()
	be, _ := ops.NewBackend("cpu")
	c := ops.NewContext(be, ops.Options{})
	x := ops.New(2, 6)
	for i := range x.Data {
		x.Data[i] = float32(i)/5 - 1
	}
	y, err := m.Forward1(c, x)
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), y.Data...)
}

func TestRoundTripBitExact(t *testing.T) {
	m := tinyModel(t, 1)
	// Odd bit patterns must survive: -0, NaN payload, denormal, infinity.
	w := m.Param("fc1.bias").Value.Data
	w[0], w[1], w[2], w[3] = float32(math.Copysign(0, -1)), math.Float32frombits(0x7fc00123), math.Float32frombits(1), float32(math.Inf(-1))
	path := filepath.Join(t.TempDir(), "model.safetensors")
	meta := Meta{Zoo: "tiny", Input: [3]int{1, 2, 3}, Classes: 3, Extra: map[string]string{"epoch": "4"}}
	if err := Save(path, m, meta); err != nil {
		t.Fatal(err)
	}
	got, gotMeta, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if gotMeta.Zoo != "tiny" || gotMeta.Input != meta.Input || gotMeta.Classes != 3 || gotMeta.Extra["epoch"] != "4" {
		t.Errorf("meta %+v", gotMeta)
	}
	if len(got.Params()) != len(m.Params()) {
		t.Fatalf("%d params, want %d", len(got.Params()), len(m.Params()))
	}
	for i, p := range m.Params() {
		q := got.Params()[i]
		if q.Name != p.Name || q.Trainable != p.Trainable || !ops.SameShape(q.Value.Shape, p.Value.Shape) {
			t.Fatalf("param %d: %s %v vs %s %v", i, q.Name, q.Value.Shape, p.Name, p.Value.Shape)
		}
		for j := range p.Value.Data {
			if math.Float32bits(p.Value.Data[j]) != math.Float32bits(q.Value.Data[j]) {
				t.Fatalf("%s[%d]: bits %08x, want %08x", p.Name, j, math.Float32bits(q.Value.Data[j]), math.Float32bits(p.Value.Data[j]))
			}
		}
	}
}

// A rewritten graph (GELU → ReLU, a fake-quant node inserted) loads with
// the rewrite and computes the same outputs.
func TestRewrittenModelRoundTrips(t *testing.T) {
	m := tinyModel(t, 2)
	act := m.NodeByName("act")
	m.ReplaceKind(act, ops.OpReLU, act.Span)
	scale, _ := m.AddParam("act.quant.scale", ops.MustFromData([]float32{0.05}, 1), false)
	m.InsertAfter(act, &ops.Node{Kind: ops.OpFakeQuant, Name: "act.quant",
		Attrs: ops.Attrs{QMin: 0, QMax: 255, Bits: 8}, Params: map[string]string{"scale": scale.Name}})
	want := forward(t, m)
	path := filepath.Join(t.TempDir(), "rw.safetensors")
	if err := Save(path, m, Meta{}); err != nil {
		t.Fatal(err)
	}
	got, _, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.NodeByName("act").Kind != ops.OpReLU || got.NodeByName("act.quant").Kind != ops.OpFakeQuant {
		t.Fatalf("kinds after load: %v", got.KindCounts())
	}
	out := forward(t, got)
	for i := range want {
		if out[i] != want[i] {
			t.Fatalf("output %d: %v, want %v", i, out[i], want[i])
		}
	}
}

// The bytes follow the published layout: a little-endian length, a JSON
// header padded to 8 bytes, then the packed little-endian data.
func TestSafetensorsLayout(t *testing.T) {
	b, err := EncodeSafetensors([]Tensor{{Name: "a", Shape: []int{2}, Data: []float32{1, -2}}, {Name: "s", Shape: []int{}, Data: []float32{0.5}}}, map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b)
	if n%8 != 0 || int(n)+8+12 != len(b) {
		t.Fatalf("header length %d, file %d bytes", n, len(b))
	}
	var h map[string]any
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	a := h["a"].(map[string]any)
	if a["dtype"] != "F32" || a["data_offsets"].([]any)[1].(float64) != 8 || h["__metadata__"].(map[string]any)["k"] != "v" {
		t.Fatalf("header %v", h)
	}
	if math.Float32frombits(binary.LittleEndian.Uint32(b[8+n+4:])) != -2 {
		t.Fatal("data not little-endian float32 in order")
	}
	f, err := DecodeSafetensors(b)
	if err != nil || f.Tensors["s"].Data[0] != 0.5 || len(f.Tensors["s"].Shape) != 0 {
		t.Fatalf("decode: %v %v", f, err)
	}
}

// saveTiny writes a model and returns the weights path and its bytes.
func saveTiny(t *testing.T) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := Save(path, tinyModel(t, 3), Meta{}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	return path, b
}

// rewrite replaces the weights file and drops the recorded checksum so
// the structural checks are the ones that fire.
func rewrite(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ap := ArchPath(path)
	var arch map[string]any
	raw, _ := os.ReadFile(ap)
	json.Unmarshal(raw, &arch)
	delete(arch, "weights_sha256")
	raw, _ = json.Marshal(arch)
	os.WriteFile(ap, raw, 0o644)
}

func header(t *testing.T, b []byte) map[string]any {
	n := binary.LittleEndian.Uint64(b)
	var h map[string]any
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func withHeader(t *testing.T, b []byte, h map[string]any, data []byte) []byte {
	hj, _ := json.Marshal(h)
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hj)))
	return append(append(out, hj...), data...)
}

func dataOf(b []byte) []byte { return b[8+binary.LittleEndian.Uint64(b):] }

func TestCorruptFilesAreErrors(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(t *testing.T, b []byte) []byte
		want   []string
	}{
		{"truncated data", func(t *testing.T, b []byte) []byte { return b[:len(b)-10] }, []string{"truncated", `"head.bias"`}},
		{"truncated header", func(t *testing.T, b []byte) []byte { return b[:40] }, []string{"bad header", "header length"}},
		{"shorter than 8 bytes", func(t *testing.T, b []byte) []byte { return b[:5] }, []string{"truncated"}},
		{"garbage header", func(t *testing.T, b []byte) []byte {
			c := append([]byte(nil), b...)
			copy(c[8:], "{nope")
			return c
		}, []string{"bad header"}},
		{"dtype mismatch", func(t *testing.T, b []byte) []byte {
			h := header(t, b)
			h["fc1.weight"].(map[string]any)["dtype"] = "F16"
			return withHeader(t, b, h, dataOf(b))
		}, []string{"dtype mismatch", `"fc1.weight"`, "F16"}},
		{"missing tensor", func(t *testing.T, b []byte) []byte {
			f, _ := DecodeSafetensors(b)
			var ts []Tensor
			for _, n := range f.Order {
				if n != "norm.weight" {
					ts = append(ts, f.Tensors[n])
				}
			}
			out, _ := EncodeSafetensors(ts, nil)
			return out
		}, []string{"missing tensor", `"norm.weight"`}},
		{"extra tensor", func(t *testing.T, b []byte) []byte {
			f, _ := DecodeSafetensors(b)
			ts := []Tensor{{Name: "ghost", Shape: []int{1}, Data: []float32{1}}}
			for _, n := range f.Order {
				ts = append(ts, f.Tensors[n])
			}
			out, _ := EncodeSafetensors(ts, nil)
			return out
		}, []string{"extra tensor", `"ghost"`}},
		{"shape mismatch", func(t *testing.T, b []byte) []byte {
			h := header(t, b)
			h["fc1.weight"].(map[string]any)["shape"] = []int{6, 8}
			return withHeader(t, b, h, dataOf(b))
		}, []string{"shape", `"fc1.weight"`, "[6 8]", "[8 6]"}},
		{"offsets do not fit shape", func(t *testing.T, b []byte) []byte {
			h := header(t, b)
			h["fc1.weight"].(map[string]any)["shape"] = []int{8, 7}
			return withHeader(t, b, h, dataOf(b))
		}, []string{"bad header", `"fc1.weight"`}},
		{"trailing bytes", func(t *testing.T, b []byte) []byte { return append(append([]byte(nil), b...), 1, 2, 3, 4) }, []string{"4 bytes follow"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path, b := saveTiny(t)
			rewrite(t, path, c.mutate(t, b))
			_, _, err := Load(path)
			if err == nil {
				t.Fatal("loaded a corrupt file")
			}
			for _, w := range append(c.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestMismatchedPairIsAnError(t *testing.T) {
	path, _ := saveTiny(t)
	other := filepath.Join(t.TempDir(), "o.safetensors")
	m := tinyModel(t, 9)
	if err := Save(other, m, Meta{}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(other)
	os.WriteFile(path, b, 0o644) // same shapes, different weights, old architecture file
	_, _, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), "not saved together") || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v", err)
	}
	os.Remove(ArchPath(path))
	if _, _, err := Load(path); err == nil || !strings.Contains(err.Error(), "m.json") {
		t.Fatalf("missing architecture file: %v", err)
	}
}

func TestLoadWeightsLeavesModelOnError(t *testing.T) {
	path, _ := saveTiny(t)
	m := tinyModel(t, 3)
	if err := LoadWeights(path, m); err != nil {
		t.Fatal(err)
	}
	b := ops.NewBuilder("wider", 1)
	x := b.Input("x")
	wide, _ := b.Build(b.Linear("fc1", x, 6, 9, true))
	before := append([]float32(nil), wide.Param("fc1.weight").Value.Data...)
	err := LoadWeights(path, wide)
	if err == nil || !strings.Contains(err.Error(), `"fc1.weight"`) {
		t.Fatalf("error %v", err)
	}
	for i, v := range wide.Param("fc1.weight").Value.Data {
		if v != before[i] {
			t.Fatal("a failed load changed the model")
		}
	}
}

func TestAtomicWriteLeavesNoTemporaries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	for range 2 {
		if err := Save(path, tinyModel(t, 1), Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("directory holds %v, want the weights and the architecture only", names)
	}
	if err := Save(filepath.Join(dir, "missing", "m.safetensors"), tinyModel(t, 1), Meta{}); err == nil {
		t.Fatal("saving into a missing directory succeeded")
	}
}

// FuzzDecodeSafetensors feeds arbitrary bytes to the safetensors decoder:
// it returns a file or an error, never panics, and a file it returns holds
// exactly the values its shapes declare.
func FuzzDecodeSafetensors(f *testing.F) {
	b, _ := EncodeSafetensors([]Tensor{{Name: "a", Shape: []int{2, 1}, Data: []float32{1, 2}}}, map[string]string{"x": "y"})
	f.Add(b)
	f.Add([]byte("\x10\x00\x00\x00\x00\x00\x00\x00{}              "))
	f.Add(craftedFile(`{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}}`, 16))
	f.Add(craftedFile(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,1099511627776]}}`, 16))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := DecodeSafetensors(b)
		if err != nil {
			return
		}
		for _, name := range file.Order {
			if tn := file.Tensors[name]; ops.Numel(tn.Shape) != len(tn.Data) {
				t.Fatalf("tensor %q: shape %v with %d values", name, tn.Shape, len(tn.Data))
			}
		}
	})
}
