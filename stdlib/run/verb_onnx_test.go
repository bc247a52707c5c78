package run

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestONNXRoundTrip exports a trained model as ONNX, imports the file in a
// second run and requires the same test accuracy and loss from it.
func TestONNXRoundTrip(t *testing.T) {
	dir := t.TempDir()
	first, err := runRecipe(t, context.Background(), dir,
		"data digits subset=300\nmodel cnn\ntrain epochs=1 lr=0.01\nevaluate accuracy\nexport onnx \"net.onnx\"\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	onnxPath := filepath.Join(dir, "out", "net.onnx")
	if info, err := os.Stat(onnxPath); err != nil || info.Size() == 0 {
		t.Fatalf("no ONNX file written: %v", err)
	}
	second, err := runRecipe(t, context.Background(), filepath.Join(dir, "out"),
		"data digits subset=300\nmodel \"net.onnx\"\nevaluate accuracy\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := first.Steps[3].Metrics, second.Steps[2].Metrics
	if a["accuracy"] != b["accuracy"] {
		t.Errorf("accuracy after import %v, before export %v", b["accuracy"], a["accuracy"])
	}
	if d := a["loss"] - b["loss"]; d > 1e-5 || d < -1e-5 {
		t.Errorf("loss after import %v, before export %v", b["loss"], a["loss"])
	}
	if !strings.Contains(second.Steps[1].Summary, "input 1x28x28, 10 classes") {
		t.Errorf("imported model summary %q", second.Steps[1].Summary)
	}
}

func TestONNXImportOfBadFileNamesIt(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.onnx"), []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := runRecipe(t, context.Background(), dir, "data digits subset=50\nmodel \"bad.onnx\"\n", nil)
	if err == nil || !strings.Contains(err.Error(), "bad.onnx") {
		t.Fatalf("error %v does not name the file", err)
	}
}
