package outfile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestConfineRefusesEscapes(t *testing.T) {
	root := t.TempDir()
	out := filepath.Join(root, "out")
	elsewhere := filepath.Join(root, "elsewhere")
	os.MkdirAll(out, 0o755)
	os.MkdirAll(elsewhere, 0o755)
	os.Symlink(elsewhere, filepath.Join(out, "link"))
	os.MkdirAll(filepath.Join(out, "sub"), 0o755)
	os.Symlink(filepath.Join(out, "sub"), filepath.Join(out, "inlink"))
	for rel, want := range map[string]string{
		"/etc/x":           "absolute",
		"../x":             "outside",
		"a/../../x":        "outside",
		"link/x.onnx":      "symbolic link",
		"link/new/x.onnx":  "symbolic link",
		"":                 "empty",
		"sub/../link/y.st": "symbolic link",
	} {
		if _, err := Confine(out, rel); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Confine(%q) = %v, want an error mentioning %q", rel, err, want)
		}
	}
	for _, rel := range []string{"x.onnx", "new/dir/x.onnx", "inlink/x.onnx", "./a/../b.onnx"} {
		if p, err := Confine(out, rel); err != nil || !strings.HasPrefix(p, out) {
			t.Errorf("Confine(%q) = %q, %v", rel, p, err)
		}
	}
	// an output folder that does not exist yet, under a link, is fine
	if _, err := Confine(filepath.Join(out, "inlink", "later"), "x"); err != nil {
		t.Errorf("new root: %v", err)
	}
}

func TestWriteRespectsUmaskAndIsAtomic(t *testing.T) {
	dir := t.TempDir()
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	p := filepath.Join(dir, "m.onnx")
	if err := Write(p, []byte("one")); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v under umask 022, want 0644", st.Mode().Perm())
	}
	syscall.Umask(0o077)
	if err := Write(p, []byte("two")); err != nil {
		t.Fatal(err)
	}
	st, _ = os.Stat(p)
	if b, _ := os.ReadFile(p); string(b) != "two" || st.Mode().Perm() != 0o600 {
		t.Errorf("second write: %q mode %v, want two 0600", b, st.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestReplaceFollowsLinkAndKeepsMode(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.qpipe")
	os.WriteFile(target, []byte("old"), 0o640)
	link := filepath.Join(dir, "link.qpipe")
	os.Symlink("real.qpipe", link)
	if err := Replace(link, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the link became a regular file")
	}
	st, _ := os.Stat(target)
	if b, _ := os.ReadFile(target); string(b) != "new" || st.Mode().Perm() != 0o640 {
		t.Errorf("target: %q mode %v, want new 0640", b, st.Mode().Perm())
	}
}
