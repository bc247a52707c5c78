package format

import (
	"os"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/syntax"
)

// BenchmarkSource10k prints a parsed recipe of about 10,000 statements
// (testdata/design.qpipe repeated); parsing is outside the timing.
func BenchmarkSource10k(b *testing.B) {
	design, err := os.ReadFile("testdata/design.qpipe")
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Repeat(string(design)+"\n", 10000/12)
	f, ds := syntax.ParseString("bench.qpipe", text)
	if ds != nil {
		b.Fatal(ds)
	}
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		Source(f)
	}
}
