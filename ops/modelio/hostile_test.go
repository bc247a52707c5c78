package modelio

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/internal/bounded"
	"github.com/qpipe/qpipe/ops"
)

// craftedFile builds a safetensors file from a JSON header and n data bytes.
func craftedFile(js string, n int) []byte {
	b := make([]byte, 8+len(js)+n)
	binary.LittleEndian.PutUint64(b, uint64(len(js)))
	copy(b[8:], js)
	return b
}

func TestDecodeSafetensorsRefusesCraftedShapes(t *testing.T) {
	for js, want := range map[string]string{
		`{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}}`: "overflows",
		`{"w":{"dtype":"F32","shape":[1048576,1048576],"data_offsets":[0,16]}}`:       "needs 4398046511104 bytes",
		`{"w":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}`:                    "negative",
		`{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,1099511627776]}}`:          "needs 16 bytes",
	} {
		_, err := DecodeSafetensors(craftedFile(js, 16))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `"w"`) {
			t.Errorf("%s: err = %v, want %q", js, err, want)
		}
	}
	b := craftedFile(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, 16)
	binary.LittleEndian.PutUint64(b, 1<<40)
	if _, err := DecodeSafetensors(b); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("header length 2^40: %v", err)
	}
}

func TestReadSafetensorsRespectsBudget(t *testing.T) {
	p := filepath.Join(t.TempDir(), "w.safetensors")
	if err := WriteSafetensors(p, []Tensor{{Name: "w", Shape: []int{64}, Data: make([]float32, 64)}}, nil); err != nil {
		t.Fatal(err)
	}
	defer bounded.SetBudget(bounded.SetBudget(100))
	if _, err := ReadSafetensors(p); !errors.Is(err, bounded.ErrTooLarge) {
		t.Fatalf("a 300-byte file over a 100-byte budget: %v", err)
	}
}

func TestLoadWithoutArchitectureFileSaysWhy(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.safetensors")
	m := ops.NewModel("tiny")
	m.AddParam("w", ops.New(2), true)
	if err := Save(p, m, Meta{}); err != nil {
		t.Fatal(err)
	}
	os.Remove(ArchPath(p))
	_, _, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), "m.json beside it, which is missing") || !strings.Contains(err.Error(), "export checkpoint") {
		t.Fatalf("err = %v", err)
	}
}
