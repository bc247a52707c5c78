package stdlib

import (
	"fmt"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/syntax"
)

// recipe10k is 10,000 statements of the real vocabulary, in the shape of
// the paper recipes.
func recipe10k() []byte {
	var b strings.Builder
	b.WriteString("model resnet20\ndata mnist\nsnapshot teacher\n")
	n := 3
	for i := 0; n < 10000; i++ {
		fmt.Fprintf(&b, "let e%d = %d\n", i, i%5+1)
		b.WriteString("replace gelu with relu\n")
		fmt.Fprintf(&b, "distill from=teacher iterations=3 epochs=e%d temperature=4 alpha=0.9\n", i)
		b.WriteString("evaluate accuracy latency size\n")
		b.WriteString("expect accuracy >= teacher.accuracy - 0.5%\n")
		n += 5
	}
	return []byte(b.String())
}

func BenchmarkParseCheck10k(b *testing.B) {
	text := recipe10k()
	for b.Loop() {
		if _, ds := check.CheckSource("bench.qpipe", text, Env(), check.Options{}); len(ds) > 0 {
			b.Fatal(ds)
		}
	}
}

func BenchmarkCheck10k(b *testing.B) {
	f, ds := syntax.Parse("bench.qpipe", recipe10k())
	if len(ds) > 0 || len(f.Stmts) != 10003 {
		b.Fatalf("%d statements, %v", len(f.Stmts), ds)
	}
	for b.Loop() {
		if _, ds := check.Check(f, Env(), check.Options{}); len(ds) > 0 {
			b.Fatal(ds)
		}
	}
}
