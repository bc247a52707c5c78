package format

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the formatter's output")

// TestGolden pins the layout of every testdata/*.qpipe file to its
// .golden twin, and checks that formatting a golden file changes nothing.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.qpipe")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			got := formatFile(t, path)
			golden := strings.TrimSuffix(path, ".qpipe") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./lang/format -update)", err)
			}
			if string(got) != string(want) {
				t.Errorf("format %s:\n--- got\n%s--- want\n%s", path, got, want)
			}
			again, ds := Bytes(golden, want)
			if ds.HasErrors() || string(again) != string(want) {
				t.Errorf("formatting %s again changed it:\n%s%v", golden, again, ds)
			}
		})
	}
}

func formatFile(t *testing.T, path string) []byte {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, ds := Bytes(filepath.Base(path), text)
	if ds.HasErrors() {
		t.Fatalf("%s has syntax errors: %v", path, ds)
	}
	assertSameTree(t, text, out)
	return out
}
