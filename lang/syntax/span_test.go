package syntax

import (
	"fmt"
	"testing"

	"github.com/qpipe/qpipe/lang/source"
)

// TestSpanInvariants checks, over every test input (error files too, whose
// partial trees must be just as sound), that each node's span lies in the
// file with start <= end, positions agree with offsets, and each child
// lies inside its parent; likewise every comment and diagnostic.
func TestSpanInvariants(t *testing.T) {
	paths := append(testFiles(t, "testdata/parse/*.qpipe"), testFiles(t, "testdata/errors/*.qpipe")...)
	for _, path := range paths {
		text := readFile(t, path)
		f, ds := Parse(path, text)
		for _, msg := range spanProblems(f) {
			t.Errorf("%s: %s", path, msg)
		}
		for _, d := range ds {
			if msg := checkSpan(f.Source, d.Span); msg != "" {
				t.Errorf("%s: diagnostic %q: %s", path, d.Summary, msg)
			}
		}
	}
}

// spanProblems lists every broken span invariant in f.
func spanProblems(f *File) []string {
	var out []string
	var visit func(parent Node)
	visit = func(parent Node) {
		for _, c := range children(parent) {
			if msg := checkSpan(f.Source, c.Span()); msg != "" {
				out = append(out, fmt.Sprintf("%s %v: %s", kind(c), c.Span(), msg))
			}
			if !inside(c.Span(), parent.Span()) {
				out = append(out, fmt.Sprintf("%s %v is outside its parent %s %v", kind(c), c.Span(), kind(parent), parent.Span()))
			}
			visit(c)
		}
	}
	visit(f)
	for _, c := range f.Comments {
		if msg := checkSpan(f.Source, c.Sp); msg != "" {
			out = append(out, fmt.Sprintf("comment %q: %s", c.Text, msg))
		}
	}
	return out
}

// checkSpan describes what is wrong with sp in src, or returns "".
func checkSpan(src *source.File, sp source.Span) string {
	switch {
	case sp.File != src.Name:
		return fmt.Sprintf("names file %q, not %q", sp.File, src.Name)
	case sp.Start.Offset < 0 || sp.End.Offset > len(src.Text):
		return fmt.Sprintf("offsets [%d, %d) outside the file's %d bytes", sp.Start.Offset, sp.End.Offset, len(src.Text))
	case sp.Start.Offset > sp.End.Offset:
		return "starts after it ends"
	case src.Pos(sp.Start.Offset) != sp.Start || src.Pos(sp.End.Offset) != sp.End:
		return "line and column disagree with the offsets"
	}
	return ""
}

func inside(inner, outer source.Span) bool {
	return inner.Start.Offset >= outer.Start.Offset && inner.End.Offset <= outer.End.Offset
}

// TestSpanOfEveryNodeKind checks that nodes cover exactly their text: the
// source under each span, for one example of every kind.
func TestSpanOfEveryNodeKind(t *testing.T) {
	text := "cmd w k=v\nlet x = -(a + b)\nexpect t.acc >= 1.5% and s < 5ms\nrepeat 2 { c f(1, k=\"s\") }\nfor b in [1, 2..3] { c }\n"
	f, ds := ParseString("kinds.qpipe", text)
	if ds != nil {
		t.Fatal(ds)
	}
	var got []string
	Walk(f, func(n Node) bool {
		if _, ok := n.(*File); !ok {
			sp := n.Span()
			got = append(got, kind(n)+" "+text[sp.Start.Offset:sp.End.Offset])
		}
		return true
	})
	want := []string{
		"Command cmd w k=v", "Ident cmd", "Ident w", "Arg k=v", "Ident k", "Ident v",
		"Let let x = -(a + b)", "Ident x", "Unary -(a + b)", "Paren (a + b)", "Binary a + b", "Ident a", "Ident b",
		"Expect expect t.acc >= 1.5% and s < 5ms", "Binary t.acc >= 1.5% and s < 5ms", "Binary t.acc >= 1.5%",
		"Ref t.acc", "Ident t", "Ident acc", "Percent 1.5%", "Binary s < 5ms", "Ident s", "Quantity 5ms",
		"Repeat repeat 2 { c f(1, k=\"s\") }", "Number 2", "Block { c f(1, k=\"s\") }",
		"Command c f(1, k=\"s\")", "Ident c", "Call f(1, k=\"s\")", "Ident f", "Number 1", "Arg k=\"s\"", "Ident k", "String \"s\"",
		"For for b in [1, 2..3] { c }", "Ident b", "List [1, 2..3]", "Number 1", "Range 2..3", "Number 2", "Number 3",
		"Block { c }", "Command c", "Ident c",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("spans:\n%q\nwant\n%q", got, want)
	}
}
