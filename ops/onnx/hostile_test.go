package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/qpipe/qpipe/internal/bounded"
	"github.com/qpipe/qpipe/ops/onnx/onnxpb"
)

// crafted returns an initializer "b" with the given dims and raw data,
// added to x by the tiny model.
func crafted(dims []int64, raw []byte) *onnxpb.ModelProto {
	b := &onnxpb.TensorProto{Name: ptr("b"), Dims: dims, DataType: ptr(int32(onnxpb.TensorProto_FLOAT)), RawData: raw}
	return tinyModel(17, []*onnxpb.NodeProto{node("/add", "Add", []string{"x", "b"}, "y")}, b)
}

// Declared sizes are checked against the data before anything is
// allocated: each of these used to end in "fatal error: out of memory" or
// a makeslice panic.
func TestImportRefusesCraftedSizesBeforeAllocating(t *testing.T) {
	dir := t.TempDir()
	four := f32bytes([]float32{1, 2, 3, 4})
	_, err := Import(writeModel(t, dir, crafted([]int64{1 << 20, 1 << 20}, four)), ImportOptions{})
	wantErr(t, err, `tensor "b"`, "has 16 bytes of data", "[1048576 1048576]", "4398046511104")
	_, err = Import(writeModel(t, dir, crafted([]int64{1 << 32, 1 << 32}, four)), ImportOptions{})
	wantErr(t, err, `tensor "b"`, "overflows")
	if !errors.Is(err, bounded.ErrTooLarge) {
		t.Errorf("overflow error does not wrap bounded.ErrTooLarge: %v", err)
	}
	_, err = Import(writeModel(t, dir, crafted([]int64{4, -1}, four)), ImportOptions{})
	wantErr(t, err, `tensor "b"`, "negative")

	mp := crafted([]int64{1, 4}, four)
	mp.Graph.Input[0].Type.GetTensorType().Shape.Dim[1].Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 1 << 40}
	_, err = Import(writeModel(t, dir, mp), ImportOptions{})
	wantErr(t, err, `input "x"`, "memory budget", "--max-memory")
}

func TestImportExternalDataLengthCheckedAgainstFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "w.bin"), make([]byte, 64), 0o644)
	ext := func(dims []int64, kv ...string) *onnxpb.ModelProto {
		mp := crafted(dims, nil)
		b := mp.Graph.Initializer[0]
		b.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
		for i := 0; i < len(kv); i += 2 {
			b.ExternalData = append(b.ExternalData, &onnxpb.StringStringEntryProto{Key: ptr(kv[i]), Value: ptr(kv[i+1])})
		}
		return mp
	}
	// length disagrees with the dims
	_, err := Import(writeModel(t, dir, ext([]int64{4}, "location", "w.bin", "length", "1099511627776")), ImportOptions{})
	wantErr(t, err, `tensor "b"`, "external data length 1099511627776", "need 16 bytes")
	// dims and length agree on 2^40 bytes, the file holds 64
	_, err = Import(writeModel(t, dir, ext([]int64{1 << 18, 1 << 20}, "location", "w.bin", "length", "1099511627776")), ImportOptions{})
	wantErr(t, err, `tensor "b"`, "1.0 TiB", "file holds only 64 B")
	// offset past the end
	_, err = Import(writeModel(t, dir, ext([]int64{4}, "location", "w.bin", "offset", "60")), ImportOptions{})
	wantErr(t, err, `tensor "b"`, "file holds only 4 B")
	// a device is not a data file
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.bin")); err == nil {
		_, err = Import(writeModel(t, dir, ext([]int64{4}, "location", "zero.bin")), ImportOptions{})
		wantErr(t, err, "model's folder")
	}
}

func TestImportRespectsMemoryBudget(t *testing.T) {
	dir := t.TempDir()
	path := writeModel(t, dir, crafted([]int64{1, 4}, f32bytes([]float32{1, 2, 3, 4})))
	if _, err := Import(path, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	defer bounded.SetBudget(bounded.SetBudget(100))
	_, err := Import(path, ImportOptions{})
	if !errors.Is(err, bounded.ErrTooLarge) {
		t.Fatalf("a model file over a 100-byte budget: %v", err)
	}
	wantErr(t, err, "memory budget of 100 B")
}

// FuzzImport feeds arbitrary bytes to the importer as an .onnx file, seeded
// with small models and crafted sizes (the exported CNNs are too large to
// mutate quickly). It must return a model or an error, never panic or
// allocate past the budget.
func FuzzImport(f *testing.F) {
	for _, mp := range []*onnxpb.ModelProto{crafted([]int64{1, 4}, f32bytes([]float32{1, 2, 3, 4})),
		crafted([]int64{1 << 20, 1 << 20}, nil), crafted([]int64{1 << 32, 1 << 32}, nil)} {
		b, _ := proto.Marshal(mp)
		f.Add(b)
	}
	defer bounded.SetBudget(bounded.SetBudget(64 << 20))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "f.onnx")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		Import(path, ImportOptions{})
	})
}
