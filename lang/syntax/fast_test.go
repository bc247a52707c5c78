package syntax

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/diag"
)

// agree checks Parse with and without the fast path give the same tree
// and the same diagnostics, and so does the fast path over chunks as small
// as they come (a chunk ends at every newline outside brackets).
func agree(t *testing.T, text []byte) {
	t.Helper()
	g, es := parse("t.qpipe", text, false)
	agreeWith(t, text, g, es, chunkTokens)
	agreeWith(t, text, g, es, 1)
}

func agreeWith(t *testing.T, text []byte, g *File, es diag.Diagnostics, chunk int) {
	t.Helper()
	f, ds := parseChunked("t.qpipe", text, chunk)
	if a, b := Dump(f), Dump(g); a != b {
		t.Fatalf("%q (chunks of %d): fast path tree:\n%s\ngrammar tree:\n%s", text, chunk, a, b)
	}
	if a, b := fmt.Sprint(ds), fmt.Sprint(es); a != b {
		t.Fatalf("%q (chunks of %d): fast path diagnostics:\n%s\ngrammar diagnostics:\n%s", text, chunk, a, b)
	}
}

func recipes(t testing.TB) [][]byte {
	var out [][]byte
	for _, glob := range []string{"testdata/*/*.qpipe", "../../stdlib/testdata/*/*.qpipe", "../../examples/*.qpipe", "../format/testdata/*.qpipe"} {
		paths, _ := filepath.Glob(glob)
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
	}
	return out
}

// TestFastPathAgrees compares the fast path with the grammar on every
// recipe in the repository, every line alone and every line cut short.
func TestFastPathAgrees(t *testing.T) {
	seen := map[string]bool{}
	files := recipes(t)
	if !testing.Short() {
		files = append(files, recipe10k())
	}
	for _, text := range files {
		agree(t, text)
		for _, line := range strings.Split(string(text), "\n") {
			if seen[line] {
				continue
			}
			seen[line] = true
			for i := range len(line) + 1 {
				agree(t, []byte(line[:i]))
			}
		}
	}
}

// FuzzFastPath compares the fast path with the grammar on any input:
//
//	go test ./lang/syntax -run='^$' -fuzz='^FuzzFastPath$' -fuzztime=1m
func FuzzFastPath(f *testing.F) {
	for _, text := range recipes(f) {
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text []byte) { agree(t, text) })
}
