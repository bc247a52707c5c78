package format

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/lang/syntax"
	"github.com/qpipe/qpipe/stdlib"
)

// seedGlobs are the recipes the fuzzer starts from: this package's layout
// cases, the parser's golden and error cases, the standard library's valid
// and broken recipes, and the examples.
var seedGlobs = []string{
	"testdata/*.qpipe",
	"../syntax/testdata/*/*.qpipe",
	"../../stdlib/testdata/*/*.qpipe",
	"../../examples/*.qpipe",
	"../../examples/*/*.qpipe",
}

// FuzzParseCheckFormat parses arbitrary text, checks it against the
// standard library's signatures, and formats it. Nothing may panic; every
// diagnostic (parser's and checker's) and every node span lies inside the
// file, children inside parents; text without syntax errors formats to
// text that parses to the same tree with the same comments, and
// formatting that again changes nothing.
//
// The test imports stdlib; stdlib must never import lang/format (check
// with go list -deps ./stdlib).
//
// Bounded run for CI:
//
//	go test ./lang/format -run='^$' -fuzz='^FuzzParseCheckFormat$' -fuzztime=30s
func FuzzParseCheckFormat(f *testing.F) {
	for _, glob := range seedGlobs {
		paths, _ := filepath.Glob(glob)
		for _, p := range paths {
			if text, err := os.ReadFile(p); err == nil {
				f.Add(text)
			}
		}
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		file, ds := syntax.Parse("fuzz.qpipe", text)
		if msg := diagsOutside(ds, len(text)); msg != "" {
			t.Fatal(msg)
		}
		if msg := nodesOutside(file, len(text)); msg != "" {
			t.Fatal(msg)
		}
		_, cds := check.Check(file, stdlib.Env(), check.Options{})
		if msg := diagsOutside(cds, len(text)); msg != "" {
			t.Fatalf("checker: %s", msg)
		}
		if ds.HasErrors() {
			return
		}
		out := Source(file)
		if msg := sameTree(text, out); msg != "" {
			t.Fatalf("formatting changed the recipe %q:\n%s", text, msg)
		}
		if again, _ := Bytes("fuzz.qpipe", out); string(again) != string(out) {
			t.Fatalf("not idempotent:\n%q\n%q", out, again)
		}
	})
}

// diagsOutside describes the first diagnostic whose span is not inside a
// file of size n, or returns "".
func diagsOutside(ds diag.Diagnostics, n int) string {
	for _, d := range ds {
		if !spanInside(d.Span, n) {
			return fmt.Sprintf("diagnostic %q has span %+v outside [0, %d]", d.Summary, d.Span, n)
		}
	}
	return ""
}

// nodesOutside describes the first node whose span is not inside a file
// of size n and inside its parent's span, or returns "".
func nodesOutside(parent syntax.Node, n int) string {
	for _, c := range childrenOf(parent) {
		sp := c.Span()
		if !spanInside(sp, n) || !within(sp, parent.Span()) {
			return fmt.Sprintf("%T span %v-%v not inside its parent %T %v-%v or the file",
				c, sp.Start, sp.End, parent, parent.Span().Start, parent.Span().End)
		}
		if msg := nodesOutside(c, n); msg != "" {
			return msg
		}
	}
	return ""
}

// childrenOf lists a node's direct children, using Walk's own idea of them.
func childrenOf(n syntax.Node) []syntax.Node {
	var out []syntax.Node
	syntax.Walk(n, func(c syntax.Node) bool {
		if c == n {
			return true
		}
		out = append(out, c)
		return false
	})
	return out
}

func spanInside(sp source.Span, n int) bool {
	return sp.Start.Offset >= 0 && sp.Start.Offset <= sp.End.Offset && sp.End.Offset <= n
}

func within(inner, outer source.Span) bool {
	return inner.Start.Offset >= outer.Start.Offset && inner.End.Offset <= outer.End.Offset
}
