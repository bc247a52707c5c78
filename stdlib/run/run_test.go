package run

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

const tiny = `model mlp
data mnist subset=2000
train epochs=1 lr=1e-3
evaluate accuracy size latency runs=3
expect accuracy >= 0.5
export checkpoint "final.safetensors"
`

func TestTinyRunEndToEnd(t *testing.T) {
	dir := t.TempDir()
	rep, err := runRecipe(t, context.Background(), dir, tiny, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "out", "report.json"))
	t.Logf("%s", b)
	_ = rep
}
