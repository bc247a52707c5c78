package syntax

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/parse/*.golden from Dump")

// TestParseGolden pins the tree (syntax.Dump, spans included) of every
// testdata/parse/*.qpipe file to its .golden twin; these files have no
// syntax errors.
func TestParseGolden(t *testing.T) {
	for _, path := range testFiles(t, "testdata/parse/*.qpipe") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, ds := Parse(filepath.Base(path), readFile(t, path))
			if ds != nil {
				t.Fatalf("unexpected diagnostics:\n%v", ds)
			}
			got := Dump(f)
			golden := strings.TrimSuffix(path, ".qpipe") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want := string(readFile(t, golden))
			if got != want {
				t.Errorf("Dump(%s):\n--- got\n%s--- want\n%s", path, got, want)
			}
		})
	}
}

func testFiles(t *testing.T, glob string) []string {
	t.Helper()
	paths, err := filepath.Glob(glob)
	if err != nil || len(paths) == 0 {
		t.Fatalf("no files match %s: %v", glob, err)
	}
	return paths
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./lang/syntax -update to create golden files)", err)
	}
	return b
}
