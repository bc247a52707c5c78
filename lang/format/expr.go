package format

import (
	"strings"

	"github.com/qpipe/qpipe/lang/syntax"
)

// expr writes an expression on one line. Binary trees need no added
// parentheses: the parser builds them by precedence from flat text, and
// explicit parentheses are Paren nodes.
func (p *printer) expr(b *strings.Builder, e syntax.Expr) {
	switch e := e.(type) {
	case *syntax.Ident:
		b.WriteString(e.Name)
	case *syntax.Ref:
		b.WriteString(e.Dotted())
	case *syntax.Number:
		b.WriteString(e.Text)
	case *syntax.Percent:
		b.WriteString(e.Text)
	case *syntax.Quantity:
		b.WriteString(e.Text)
	case *syntax.String:
		b.WriteString(p.text(e))
	case *syntax.List:
		b.WriteByte('[')
		p.exprList(b, e.Elems)
		b.WriteByte(']')
	case *syntax.Call:
		b.WriteString(e.Name.Name)
		b.WriteByte('(')
		p.callArgs(b, e)
		b.WriteByte(')')
	default:
		p.operator(b, e)
	}
}

// operator writes ranges, unary and binary operations and parentheses.
func (p *printer) operator(b *strings.Builder, e syntax.Expr) {
	switch e := e.(type) {
	case *syntax.Range:
		p.expr(b, e.From)
		b.WriteString("..")
		p.expr(b, e.To)
	case *syntax.Unary:
		b.WriteString(e.Op)
		p.expr(b, e.X)
	case *syntax.Binary:
		p.expr(b, e.X)
		b.WriteString(" " + e.Op + " ")
		p.expr(b, e.Y)
	case *syntax.Paren:
		b.WriteByte('(')
		p.expr(b, e.X)
		b.WriteByte(')')
	}
}

func (p *printer) exprList(b *strings.Builder, elems []syntax.Expr) {
	for i, x := range elems {
		if i > 0 {
			b.WriteString(", ")
		}
		p.expr(b, x)
	}
}

// callArgs writes a call's words and args, in source order.
func (p *printer) callArgs(b *strings.Builder, c *syntax.Call) {
	for i, part := range parts(c.Words, c.Args) {
		if i > 0 {
			b.WriteString(", ")
		}
		p.part(b, part)
	}
}

// part writes a word or a name=value arg.
func (p *printer) part(b *strings.Builder, n syntax.Node) {
	if a, ok := n.(*syntax.Arg); ok {
		p.arg(b, a)
		return
	}
	p.expr(b, n.(syntax.Expr))
}

func (p *printer) arg(b *strings.Builder, a *syntax.Arg) {
	b.WriteString(a.Name.Name)
	b.WriteByte('=')
	p.expr(b, a.Value)
}

// text is a node's source text, for literals written as the user wrote them.
func (p *printer) text(n syntax.Node) string {
	sp := n.Span()
	return string(p.src.Text[sp.Start.Offset:sp.End.Offset])
}
