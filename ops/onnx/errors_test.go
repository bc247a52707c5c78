package onnx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/onnx/onnxpb"
)

// tinyModel is x (batch, 4) → nodes → y, at the given opset.
func tinyModel(opset int64, nodes []*onnxpb.NodeProto, inits ...*onnxpb.TensorProto) *onnxpb.ModelProto {
	return &onnxpb.ModelProto{IrVersion: ptr(int64(8)),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: ptr(""), Version: ptr(opset)}},
		Graph: &onnxpb.GraphProto{Name: ptr("tiny"), Node: nodes, Initializer: inits,
			Input:  []*onnxpb.ValueInfoProto{valueInfo("x", []int{1, 4}, true)},
			Output: []*onnxpb.ValueInfoProto{valueInfo("y", []int{1, 4}, true)}}}
}

func node(name, op string, in []string, out string) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{Name: ptr(name), OpType: ptr(op), Input: in, Output: []string{out}}
}

func writeModel(t *testing.T, dir string, mp *onnxpb.ModelProto) string {
	t.Helper()
	b, err := proto.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "m.onnx")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

func TestImportErrorsNameNodeAndOp(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name  string
		nodes []*onnxpb.NodeProto
		want  []string
	}{
		{"unsupported op", []*onnxpb.NodeProto{node("/head/nms", "NonMaxSuppression", []string{"x"}, "y")},
			[]string{`node "/head/nms" (NonMaxSuppression)`, "unsupported op"}},
		{"fold-only op on a computed tensor", []*onnxpb.NodeProto{node("/blk/Mod", "Mod", []string{"x", "x"}, "y")},
			[]string{`node "/blk/Mod" (Mod)`, "Mod of a computed tensor is not supported"}},
		{"missing input", []*onnxpb.NodeProto{node("/r", "Relu", []string{"nope"}, "y")},
			[]string{`node "/r" (Relu)`, `input "nope"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Import(writeModel(t, dir, tinyModel(17, c.nodes)), ImportOptions{})
			wantErr(t, err, c.want...)
		})
	}
}

func TestImportRejectsBadFilesAndOpsets(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.onnx")
	os.WriteFile(bad, []byte("this is not protobuf \xff\xff\xff"), 0o644)
	_, err := Import(bad, ImportOptions{})
	wantErr(t, err, "bad.onnx")
	_, err = Import(filepath.Join(dir, "missing.onnx"), ImportOptions{})
	wantErr(t, err, "missing.onnx")
	relu := []*onnxpb.NodeProto{node("/r", "Relu", []string{"x"}, "y")}
	_, err = Import(writeModel(t, dir, tinyModel(5, relu)), ImportOptions{})
	wantErr(t, err, `node "/r" (Relu)`, "opset 5", "from opset 6")
	_, err = Import(writeModel(t, dir, tinyModel(18, relu)), ImportOptions{})
	wantErr(t, err, "opset 18", "1-17")
	sp := []*onnxpb.NodeProto{node("/sp", "Softplus", []string{"x"}, "y")}
	if _, err := Import(writeModel(t, dir, tinyModel(1, sp)), ImportOptions{}); err != nil {
		t.Errorf("Softplus at opset 1 (unchanged since): %v", err)
	}
	m, err := Import(writeModel(t, dir, tinyModel(13, relu)), ImportOptions{})
	if err != nil || m.KindCounts()[ops.OpReLU] != 1 {
		t.Fatalf("tiny relu model: %v", err)
	}
}

// TestImportExternalDataStaysInFolder: external data must be a relative
// path that resolves inside the model's folder.
func TestImportExternalDataStaysInFolder(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "model")
	os.Mkdir(dir, 0o755)
	data := f32bytes([]float32{1, 2, 3, 4})
	os.WriteFile(filepath.Join(root, "outside.bin"), data, 0o644)
	os.WriteFile(filepath.Join(dir, "inside.bin"), data, 0o644)
	os.Symlink(filepath.Join(root, "outside.bin"), filepath.Join(dir, "link.bin"))
	ext := func(loc string) *onnxpb.TensorProto {
		return &onnxpb.TensorProto{Name: ptr("b"), Dims: []int64{4}, DataType: ptr(int32(onnxpb.TensorProto_FLOAT)),
			DataLocation: onnxpb.TensorProto_EXTERNAL.Enum(),
			ExternalData: []*onnxpb.StringStringEntryProto{{Key: ptr("location"), Value: ptr(loc)}}}
	}
	add := []*onnxpb.NodeProto{node("/add", "Add", []string{"x", "b"}, "y")}
	for _, loc := range []string{"../outside.bin", filepath.Join(root, "outside.bin"), "link.bin"} {
		_, err := Import(writeModel(t, dir, tinyModel(17, add, ext(loc))), ImportOptions{})
		wantErr(t, err, `tensor "b"`, "model's folder")
	}
	m, err := Import(writeModel(t, dir, tinyModel(17, add, ext("inside.bin"))), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	y := forward(t, m, ops.MustFromData([]float32{10, 20, 30, 40}, 1, 4))
	if maxAbsDiff(y.Data, []float32{11, 22, 33, 44}) != 0 {
		t.Fatalf("external bias read wrong: %v", y.Data)
	}
}

func TestExportErrorsNameNode(t *testing.T) {
	b := ops.NewBuilder("att", 1)
	x := b.Input("x")
	y := b.Attention("blocks.0.attn", b.Linear("blocks.0.qkv", x, 8, 24, true), ops.Attrs{Heads: 2})
	m, err := b.Build(y)
	if err != nil {
		t.Fatal(err)
	}
	// The integer kinds have no ONNX form.
	if _, err := m.ConvertInt8(ops.Int8Options{InputScales: map[string]float32{"blocks.0.qkv": 0.05}}); err != nil {
		t.Fatal(err)
	}
	err = Export(m, filepath.Join(t.TempDir(), "a.onnx"), ExportOptions{InputShape: []int{1, 4, 8}})
	wantErr(t, err, "blocks.0.qkv", "qlinear", "no ONNX export")
	// Attention exports, but its shape must fit its heads.
	b = ops.NewBuilder("att", 1)
	x = b.Input("x")
	y = b.Attention("blocks.0.attn", b.Linear("qkv", x, 8, 24, true), ops.Attrs{Heads: 2, Window: 3})
	if m, err = b.Build(y); err != nil {
		t.Fatal(err)
	}
	err = Export(m, filepath.Join(t.TempDir(), "a.onnx"), ExportOptions{InputShape: []int{1, 4, 8}})
	wantErr(t, err, "blocks.0.attn", "attention")
	err = Export(m, filepath.Join(t.TempDir(), "a.onnx"), ExportOptions{})
	wantErr(t, err, "InputShape")
}

func TestCanHold(t *testing.T) {
	cases := []struct {
		s    QuantScheme
		want Holding
	}{
		{QuantScheme{Bits: 8, PerChannel: true}, AsQDQ},
		{QuantScheme{Bits: 8, Activation: true}, AsQDQ},
		{QuantScheme{Bits: 4}, AsQDQ},
		{QuantScheme{Bits: 4, Log2: true}, AsDequantizedFloat},
		{QuantScheme{Bits: 4, Log2: true, Activation: true}, NotHeld},
		{QuantScheme{Bits: 16}, NotHeld},
	}
	for _, c := range cases {
		if got, why := CanHold(c.s); got != c.want || why == "" {
			t.Errorf("CanHold(%+v) = %s (%q), want %s", c.s, got, why, c.want)
		}
	}
}
