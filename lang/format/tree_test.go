package format

import (
	"fmt"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/syntax"
)

// shape prints a tree without positions, words and args as separate
// lists, so two texts that differ only in layout have the same shape.
// It is written independently of the printer it checks.
func shape(n syntax.Node) string {
	switch n := n.(type) {
	case *syntax.File:
		return "(file" + stmtShapes(n.Stmts) + ")"
	case *syntax.Block:
		return "(block" + stmtShapes(n.Stmts) + ")"
	case *syntax.Command:
		return "(cmd " + n.Verb.Name + exprShapes(n.Words) + argShapes(n.Args) + ")"
	case *syntax.Let:
		return "(let " + n.Name.Name + " " + shape(n.Value) + ")"
	case *syntax.Expect:
		return "(expect " + shape(n.Cond) + ")"
	case *syntax.Repeat:
		return "(repeat " + shape(n.Count) + " " + shape(n.Body) + ")"
	case *syntax.For:
		return "(for " + n.Var.Name + " " + shape(n.Over) + " " + shape(n.Body) + ")"
	}
	return exprShape(n)
}

func exprShape(n syntax.Node) string {
	switch n := n.(type) {
	case *syntax.Ident:
		return n.Name
	case *syntax.Ref:
		return "(ref " + n.Dotted() + ")"
	case *syntax.Number:
		return fmt.Sprintf("(num %d %s %g)", n.Kind, n.Text, n.Value)
	case *syntax.Percent:
		return fmt.Sprintf("(pct %s %g)", n.Text, n.Value)
	case *syntax.Quantity:
		return fmt.Sprintf("(qty %s %g %s)", n.Text, n.Value, n.Unit)
	case *syntax.String:
		return fmt.Sprintf("(str %q)", n.Value)
	case *syntax.List:
		return "(list" + exprShapes(n.Elems) + ")"
	case *syntax.Range:
		return "(range " + shape(n.From) + " " + shape(n.To) + ")"
	case *syntax.Call:
		return "(call " + n.Name.Name + exprShapes(n.Words) + argShapes(n.Args) + ")"
	case *syntax.Unary:
		return "(" + n.Op + " " + shape(n.X) + ")"
	case *syntax.Binary:
		return "(" + n.Op + " " + shape(n.X) + " " + shape(n.Y) + ")"
	case *syntax.Paren:
		return "(paren " + shape(n.X) + ")"
	}
	return fmt.Sprintf("(unknown %T)", n)
}

func stmtShapes(stmts []syntax.Stmt) string {
	var b strings.Builder
	for _, s := range stmts {
		b.WriteString(" " + shape(s))
	}
	return b.String()
}

func exprShapes(es []syntax.Expr) string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString(" " + shape(e))
	}
	return b.String()
}

func argShapes(args []*syntax.Arg) string {
	var b strings.Builder
	for _, a := range args {
		b.WriteString(" (arg " + a.Name.Name + " " + shape(a.Value) + ")")
	}
	return b.String()
}

// commentTexts lists the comments, trailing blanks dropped.
func commentTexts(f *syntax.File) []string {
	out := make([]string, len(f.Comments))
	for i, c := range f.Comments {
		out[i] = strings.TrimRight(c.Text, " \t\r")
	}
	return out
}

// sameTree reports how the formatted text differs from the original in
// tree or comments, or "" when it does not.
func sameTree(orig, formatted []byte) string {
	a, _ := syntax.Parse("orig", orig)
	b, ds := syntax.Parse("formatted", formatted)
	if ds.HasErrors() {
		return fmt.Sprintf("formatted text does not parse: %v\n%s", ds, formatted)
	}
	if sa, sb := shape(a), shape(b); sa != sb {
		return fmt.Sprintf("tree changed:\n%s\n%s", sa, sb)
	}
	if ca, cb := commentTexts(a), commentTexts(b); fmt.Sprint(ca) != fmt.Sprint(cb) {
		return fmt.Sprintf("comments changed:\n%q\n%q", ca, cb)
	}
	return ""
}

func assertSameTree(t *testing.T, orig, formatted []byte) {
	t.Helper()
	if msg := sameTree(orig, formatted); msg != "" {
		t.Error(msg)
	}
}
