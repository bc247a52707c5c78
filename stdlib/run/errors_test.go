package run

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/ops/modelio"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

// writeIDX writes a tiny MNIST-named IDX dataset of n images of h×w.
func writeIDX(t *testing.T, dir string, n, h, w int) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	px, labels := make([]byte, n*h*w), make([]byte, n)
	for i := range labels {
		labels[i] = byte(i % 3)
		px[i*h*w+i%(h*w)] = 255
	}
	os.WriteFile(filepath.Join(dir, "train-images-idx3-ubyte"), data.EncodeIDX([]int{n, h, w}, px), 0o644)
	os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte"), data.EncodeIDX([]int{n}, labels), 0o644)
	os.WriteFile(filepath.Join(dir, "t10k-images-idx3-ubyte"), data.EncodeIDX([]int{n, h, w}, px), 0o644)
	os.WriteFile(filepath.Join(dir, "t10k-labels-idx1-ubyte"), data.EncodeIDX([]int{n}, labels), 0o644)
}

func TestShapeMismatchNamesTheLine(t *testing.T) {
	dir := t.TempDir()
	writeIDX(t, filepath.Join(dir, "small"), 12, 14, 14)
	m, err := zoo.Build("mlp", zoo.Shape{C: 1, H: 28, W: 28}, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := modelio.Save(filepath.Join(dir, "m.safetensors"), m, modelio.Meta{Zoo: "mlp", Input: [3]int{1, 28, 28}, Classes: 3}); err != nil {
		t.Fatal(err)
	}
	_, err = runRecipe(t, context.Background(), dir, "model \"m.safetensors\"\ndata idx \"small\"\nevaluate accuracy\n", nil)
	if err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, "recipe.qpipe")+":3:1: evaluate: ") || !strings.Contains(err.Error(), "shape") {
		t.Fatalf("err = %v", err)
	}
	// The same dataset sizes a zoo model to its 14x14 images and 3 classes.
	rep, err := runRecipe(t, context.Background(), t.TempDir(), "model mlp\ndata idx \""+filepath.Join(dir, "small")+"\"\ntrain epochs=1\nevaluate accuracy size\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Steps[3].Metrics["params"]; got != 14*14*256+256+256*128+128+128*3+3 {
		t.Errorf("params %v for a 14x14, 3-class mlp", got)
	}
}

func TestMissingDatasetSaysHowToGetIt(t *testing.T) {
	dir := t.TempDir()
	_, err := runRecipe(t, context.Background(), dir, "model mlp\ndata idx \"nowhere\"\n", nil)
	if err == nil || !strings.Contains(err.Error(), "recipe.qpipe:2:1: data: dataset idx is not on this machine") ||
		!strings.Contains(err.Error(), "name the files like MNIST's") {
		t.Fatalf("err = %v", err)
	}
}
