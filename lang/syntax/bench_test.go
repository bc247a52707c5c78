package syntax

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// recipe10k generates a 10,000-statement recipe mixing every statement
// kind and value kind, with comments and blocks.
func recipe10k() []byte {
	var b strings.Builder
	b.WriteString("# generated benchmark recipe\nmodel swin-micro\ndata fashion-mnist\nsnapshot teacher\n")
	n := 3
	for i := 0; n < 10000; i++ {
		switch i % 8 {
		case 0:
			fmt.Fprintf(&b, "train epochs=%d lr=1e-3 optimizer=adamw # step %d\n", i%7+1, i)
		case 1:
			b.WriteString("replace gelu with relu; distill from=teacher iterations=3 alpha=0.9\n")
			n++
		case 2:
			b.WriteString("quantize int8 weights=per_channel calibrate=percentile(99.99) budget=5ms\n")
		case 3:
			fmt.Fprintf(&b, "let p%d = (%d + 2) * 3 - 1.5\n", i, i)
		case 4:
			b.WriteString("expect accuracy >= teacher.accuracy - 0.5% and size < 2MB\n")
		case 5:
			b.WriteString("for bits in [2, 3, 4] {\n  quantize log2 bits=bits\n  evaluate accuracy latency\n}\n")
			n += 2
		case 6:
			b.WriteString("repeat 3 {\n  prune ratio=10% schedule=1..5\n}\n")
			n++
		case 7:
			b.WriteString("export onnx \"out/model.onnx\"\n")
		}
		n++
	}
	return []byte(b.String())
}

// BenchmarkParse10k parses a generated 10,000-statement recipe.
func BenchmarkParse10k(b *testing.B) {
	text := recipe10k()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, ds := Parse("bench.qpipe", text); ds != nil {
			b.Fatal(ds)
		}
	}
}

// BenchmarkParseRecipe parses the design's example recipe (13 lines), the
// size a language server reparses on every keystroke.
func BenchmarkParseRecipe(b *testing.B) {
	text, err := os.ReadFile("testdata/parse/design.qpipe")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, ds := Parse("design.qpipe", text); ds != nil {
			b.Fatal(ds)
		}
	}
}

// recipe1k is the first tenth of recipe10k's lines: about 1,000
// statements, a large recipe a language server reparses on a keystroke.
func recipe1k() []byte {
	lines := strings.SplitAfter(string(recipe10k()), "\n")
	return []byte(strings.Join(lines[:len(lines)/10], ""))
}

// BenchmarkParse1k and BenchmarkParse1kGrammarOnly decide whether the
// fast path may go: the grammar alone must parse (and lang/check's
// BenchmarkParseCheck1k check) 1,000 statements within 20 ms.
func BenchmarkParse1k(b *testing.B) {
	text := recipe1k()
	for b.Loop() {
		if _, ds := parse("bench.qpipe", text, true); ds != nil {
			b.Fatal(ds)
		}
	}
}

func BenchmarkParse1kGrammarOnly(b *testing.B) {
	text := recipe1k()
	for b.Loop() {
		if _, ds := parse("bench.qpipe", text, false); ds != nil {
			b.Fatal(ds)
		}
	}
}
