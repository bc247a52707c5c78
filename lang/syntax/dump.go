package syntax

import (
	"fmt"
	"strings"
)

// Dump prints the tree, one node a line with its span, for golden tests
// and `qpipe parse`-style debugging.
func Dump(f *File) string {
	var b strings.Builder
	depth := map[Node]int{}
	Walk(f, func(n Node) bool {
		d := depth[n]
		for _, c := range children(n) {
			depth[c] = d + 1
		}
		if _, ok := n.(*File); ok {
			return true
		}
		sp := n.Span()
		fmt.Fprintf(&b, "%s%s %d:%d-%d:%d%s\n", strings.Repeat("  ", d-1), kind(n),
			sp.Start.Line, sp.Start.Column, sp.End.Line, sp.End.Column, label(n))
		return true
	})
	for _, c := range f.Comments {
		fmt.Fprintf(&b, "Comment %d:%d-%d:%d %q\n", c.Sp.Start.Line, c.Sp.Start.Column, c.Sp.End.Line, c.Sp.End.Column, c.Text)
	}
	return b.String()
}

func kind(n Node) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", n), "*syntax.")
}

func label(n Node) string {
	switch n := n.(type) {
	case *Ident:
		return " " + n.Name
	case *Number:
		return fmt.Sprintf(" %s=%g", n.Text, n.Value)
	case *Percent:
		return fmt.Sprintf(" %s=%g", n.Text, n.Value)
	case *Quantity:
		return fmt.Sprintf(" %g %s", n.Value, n.Unit)
	case *String:
		return fmt.Sprintf(" %q", n.Value)
	case *Unary:
		return " " + n.Op
	case *Binary:
		return " " + n.Op
	}
	return ""
}
