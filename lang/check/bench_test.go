package check

import (
	"fmt"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/syntax"
)

// recipe10k is a 10,000-statement recipe over the test vocabulary: a mix
// of commands with arguments, lets, expects and small loops.
func recipe10k() []byte {
	var b strings.Builder
	b.WriteString("load alpha\nfeed\nname t\n")
	n := 3
	for i := 0; n < 10000; i++ {
		fmt.Fprintf(&b, "let p%d = %d\n", i, i%50+1)
		fmt.Fprintf(&b, "fit epochs=p%d lr=1e-3 opt=adamw keep=50%% budget=5ms eps=[0.1, 0.2]\n", i)
		b.WriteString("measure acc time bytes\n")
		b.WriteString("expect acc >= t.acc - 0.5% and time < 10ms\n")
		b.WriteString("swap gelu with relu\n")
		n += 5
	}
	return []byte(b.String())
}

// BenchmarkParseCheck10k times syntax.Parse plus Check of 10,000
// statements; BenchmarkCheck10k the checker alone on the parsed file.
func BenchmarkParseCheck10k(b *testing.B) {
	text := recipe10k()
	for b.Loop() {
		f, ds := syntax.Parse("bench.qpipe", text)
		if len(ds) > 0 {
			b.Fatal(ds)
		}
		if _, ds := Check(f, env, Options{}); len(ds) > 0 {
			b.Fatal(ds)
		}
	}
}

// BenchmarkParse10k is the parse half of BenchmarkParseCheck10k.
func BenchmarkParse10k(b *testing.B) {
	text := recipe10k()
	for b.Loop() {
		if _, ds := syntax.Parse("bench.qpipe", text); len(ds) > 0 {
			b.Fatal(ds)
		}
	}
}

func BenchmarkCheck10k(b *testing.B) {
	f, ds := syntax.Parse("bench.qpipe", recipe10k())
	if len(ds) > 0 {
		b.Fatal(ds)
	}
	if got := len(f.Stmts); got != 10003 {
		b.Fatalf("statements = %d", got)
	}
	for b.Loop() {
		if _, ds := Check(f, env, Options{}); len(ds) > 0 {
			b.Fatal(ds)
		}
	}
}

// BenchmarkParseCheck1k times Parse plus Check of 1,000 statements, what
// an LSP keystroke on a large recipe costs (budget: 20 ms).
func BenchmarkParseCheck1k(b *testing.B) {
	lines := strings.SplitAfter(string(recipe10k()), "\n")
	text := []byte(strings.Join(lines[:len(lines)/10], ""))
	for b.Loop() {
		f, ds := syntax.Parse("bench.qpipe", text)
		if len(ds) > 0 {
			b.Fatal(ds)
		}
		if _, ds := Check(f, env, Options{}); len(ds) > 0 {
			b.Fatal(ds)
		}
	}
}
