package stdlib

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
)

// FuzzCheck: no recipe text makes the checker panic, and a text it
// accepts without errors stays accepted by the incremental Checker.
func FuzzCheck(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.qpipe")
	for _, file := range files {
		text, _ := os.ReadFile(file)
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		rec, ds := check.CheckSource("fuzz.qpipe", text, Env(), check.Options{})
		if ds.HasErrors() {
			return
		}
		c := check.NewChecker(Env(), check.Options{})
		for _, s := range rec.File.Stmts {
			if _, sds := c.Stmt(s); sds.HasErrors() {
				t.Fatalf("Check accepted the file but Stmt rejects %v: %v", s.Span(), sds)
			}
		}
	})
}
