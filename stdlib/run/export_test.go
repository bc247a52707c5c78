package run

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// An export cannot leave --out through a directory symlink: the plan is
// refused before anything runs, and nothing lands in the link's target.
func TestExportConfinedByResolvedPath(t *testing.T) {
	dir := t.TempDir()
	out, elsewhere := filepath.Join(dir, "out"), filepath.Join(dir, "elsewhere")
	os.MkdirAll(out, 0o755)
	os.MkdirAll(elsewhere, 0o755)
	os.Symlink(elsewhere, filepath.Join(out, "link"))
	rec, path := checked(t, dir, "r.qpipe", "model mlp\ndata digits subset=20\nexport checkpoint \"link/x.safetensors\"\n", nil)
	r, err := New(Options{Recipe: rec, Path: path, OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	ds := r.Preflight()
	if len(ds) != 1 || !strings.Contains(ds[0].Summary, "leads outside the output directory") || ds[0].Span.Start.Line != 3 {
		t.Fatalf("preflight = %v", ds)
	}
	if _, err := ExportPath(out, "link/new/dir/x.onnx"); err == nil {
		t.Error("a new directory under the link was accepted")
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("files written outside: %v", entries)
	}
}

// max_size is measured on the bytes written, for every format, before
// they reach their names; the files get the umask's mode.
func TestExportMaxSizeAndMode(t *testing.T) {
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	for _, format := range []string{"checkpoint", "safetensors", "onnx"} {
		dir := t.TempDir()
		_, err := runRecipe(t, context.Background(), dir, "model mlp\ndata digits subset=20\nexport "+format+" \"m.x\" max_size=1KB\n", nil)
		if err == nil || !strings.Contains(err.Error(), "export "+format+" at line 3 would write") ||
			!strings.Contains(err.Error(), "more than max_size 1000 B") {
			t.Errorf("%s: err = %v", format, err)
		}
		entries, _ := os.ReadDir(filepath.Join(dir, "out"))
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "m.") || strings.HasPrefix(e.Name(), ".qpipe-export") {
				t.Errorf("%s: %s left behind", format, e.Name())
			}
		}
		dir = t.TempDir()
		if _, err := runRecipe(t, context.Background(), dir, "model mlp\ndata digits subset=20\nexport "+format+" \"sub/m.x\" max_size=10MB\n", nil); err != nil {
			t.Fatalf("%s within max_size: %v", format, err)
		}
		st, err := os.Stat(filepath.Join(dir, "out", "sub", "m.x"))
		if err != nil || st.Mode().Perm() != 0o640 {
			t.Errorf("%s: %v, mode %v under umask 027, want 0640", format, err, st.Mode().Perm())
		}
		if rst, _ := os.Stat(filepath.Join(dir, "out", "report.json")); rst.Mode().Perm() != 0o640 {
			t.Errorf("report.json mode %v, want 0640", rst.Mode().Perm())
		}
	}
}
