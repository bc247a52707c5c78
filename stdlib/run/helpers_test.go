package run

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
	_ "github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/stdlib"
)

// checked parses and checks recipe text written to dir/name.
func checked(t testing.TB, dir, name, text string, sets map[string]string) (*check.Recipe, string) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	rec, ds := check.CheckSource(path, []byte(text), stdlib.Env(), check.Options{Sets: sets})
	if ds.HasErrors() {
		t.Fatalf("recipe does not check:\n%v", ds)
	}
	return rec, path
}

// runRecipe runs text with seed 1 into dir/out and returns the report.
func runRecipe(t *testing.T, ctx context.Context, dir, text string, mod func(*Options)) (*Report, error) {
	t.Helper()
	rec, path := checked(t, dir, "recipe.qpipe", text, nil)
	o := Options{Recipe: rec, Path: path, Seed: 1, OutDir: filepath.Join(dir, "out"), Store: testStore(t, dir)}
	if mod != nil {
		mod(&o)
	}
	r, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return r.Run(ctx)
}

// testStore is the step store in dir/cache.
func testStore(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := OpenStore(filepath.Join(dir, "cache"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
