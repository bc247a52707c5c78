package syntax

import (
	"strings"
	"testing"
)

// deepCase builds "let x = <open*n> 1 <close*n>" between two statements
// that must survive recovery.
func deepCase(open, close string, n int) string {
	return "let a = 1\nlet x = " + strings.Repeat(open, n) + "1" + strings.Repeat(close, n) + "\nlet b = 2\n"
}

// Nesting past the limits is a located error on every parse path, and the
// statements around it still parse; 300,000 levels used to overflow the
// stack ("fatal error: stack overflow").
func TestDepthGuardLocatesAndRecovers(t *testing.T) {
	cases := []struct {
		name, text, summary string
		col, survive        int
	}{
		{"parens", deepCase("(", ")", 300000), "nesting too deep", 9 + MaxDepth, 2},
		{"lists", deepCase("[", "]", 20000), "nesting too deep", 9 + MaxDepth, 2},
		// an unclosed bracket takes the rest of the file with it
		{"unclosed", "let a = 1\nlet x = " + strings.Repeat("(", 20000) + "1\nlet b = 2\n", "nesting too deep", 9 + MaxDepth, 1},
		{"plus", "let a = 1\nlet x = 1" + strings.Repeat("+1", 20000) + "\nlet b = 2\n", "expression too deep", 10 + 2*MaxOperators, 2},
		{"minus", "let a = 1\nlet x = " + strings.Repeat("-", 20000) + "1\nlet b = 2\n", "expression too deep", 9 + MaxOperators, 2},
		{"mixed", "let a = 1\nlet x = " + strings.Repeat("1+(", 20000) + "1" + strings.Repeat(")", 20000) + "\nlet b = 2\n", "too deep", 0, 2},
	}
	for _, c := range cases {
		for _, fast := range []bool{true, false} {
			f, ds := parse("deep.qpipe", []byte(c.text), fast)
			if len(ds) != 1 || !strings.Contains(ds[0].Summary, c.summary) {
				t.Errorf("%s (fast=%v): diagnostics %v, want one %q", c.name, fast, ds, c.summary)
				continue
			}
			if s := ds[0].Span.Start; s.Line != 2 || c.col != 0 && s.Column != c.col {
				t.Errorf("%s: error at %d:%d, want 2:%d", c.name, s.Line, s.Column, c.col)
			}
			if len(f.Stmts) != c.survive {
				t.Errorf("%s: %d statements survive, want %d", c.name, len(f.Stmts), c.survive)
			}
		}
	}
}

func TestDepthGuardDeepBlocks(t *testing.T) {
	n := 1000
	text := "let a = 1\n" + strings.Repeat("repeat 2 {\n", n) + "evaluate\n" + strings.Repeat("}\n", n) + "let b = 2\n"
	f, ds := Parse("blocks.qpipe", []byte(text))
	if len(ds) != 1 || ds[0].Span.Start.Line != 2+MaxDepth || ds[0].Span.Start.Column != 10 {
		t.Fatalf("diagnostics %v, want one at %d:10", ds, 2+MaxDepth)
	}
	if len(f.Stmts) != 2 {
		t.Fatalf("%d statements survive, want 2", len(f.Stmts))
	}
}

// Recipes at the limits still parse: the guard counts operators per list
// element and per statement, not per file.
func TestDepthGuardAllowsLimits(t *testing.T) {
	ok := []string{
		deepCase("(", ")", MaxDepth),
		"let x = 1" + strings.Repeat("+1", MaxOperators) + "\n",
		"let x = [" + strings.Repeat("-1, ", 5000) + "-1]\n",
		strings.Repeat("let x = 1"+strings.Repeat("+1", 900)+"\n", 5),
	}
	for i, text := range ok {
		if _, ds := Parse("ok.qpipe", []byte(text)); len(ds) != 0 {
			t.Errorf("case %d: %v", i, ds)
		}
	}
}

// FuzzParseDeep parses arbitrary text built from a seed repeated at depth:
// it must never panic or overflow the stack, and every diagnostic must lie
// inside the text.
func FuzzParseDeep(f *testing.F) {
	for _, s := range []string{"(", "[", "-", "1+", "{\n", "repeat 2 {\n", "f(", "not ", "[1, "} {
		f.Add(s, 20000)
	}
	f.Fuzz(func(t *testing.T, unit string, n int) {
		if len(unit) == 0 || len(unit) > 16 || n < 0 {
			return
		}
		n %= 50000
		text := "let x = " + strings.Repeat(unit, n) + "1\n"
		_, ds := Parse("fuzz.qpipe", []byte(text))
		for _, d := range ds {
			if d.Span.End.Offset > len(text) {
				t.Fatalf("diagnostic %v past the end", d)
			}
		}
	})
}
