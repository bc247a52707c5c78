package syntax

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/source"
)

// lowerer turns grammar structs into the AST, computing exact spans from
// the tokens each grammar node matched (elided blanks and comments left out).
type lowerer struct {
	file   *source.File
	elided map[lexer.TokenType]bool
	diags  diag.Diagnostics
}

func newLowerer(f *source.File) *lowerer {
	sym := recipeLexer.Symbols()
	return &lowerer{file: f, elided: map[lexer.TokenType]bool{
		sym["Comment"]: true, sym["Space"]: true, sym["Newline"]: true,
	}}
}

// span covers the first to the last significant token.
func (l *lowerer) span(toks []lexer.Token) source.Span {
	first, last := -1, -1
	for i, t := range toks {
		if l.elided[t.Type] {
			continue
		}
		if first < 0 {
			first = i
		}
		last = i
	}
	if first < 0 {
		return source.Span{}
	}
	start := toks[first].Pos.Offset
	end := toks[last].Pos.Offset + len(toks[last].Value)
	return l.file.Span(start, end)
}

func (l *lowerer) tokSpan(pos lexer.Position, text string) source.Span {
	return l.file.Span(pos.Offset, pos.Offset+len(text))
}

// items lowers a statement list. The grammar lets one statement follow
// another directly, so `expect a and` would read as `expect a` and a
// command `and`; a statement must end at a newline, ';', '}' or the end of
// the file, and one that does not is reported here. A fast run's
// statements are already lowered, and separated from each other.
func (l *lowerer) items(items []*gItem) []Stmt {
	var out []Stmt
	for i, it := range items {
		var ss []Stmt
		switch {
		case it.Fast != nil:
			ss = it.Fast.(*fastRun).stmts
		case it.Stmt != nil:
			ss = []Stmt{l.stmt(it.Stmt)}
		default:
			continue
		}
		if i > 0 && items[i-1].open() {
			l.diags = append(l.diags, unseparated(l.file, ss[0]))
		}
		out = append(out, ss...)
	}
	return out
}

// open reports whether the item is a statement not followed by its
// separator (a fast run knows whether its last one is).
func (it *gItem) open() bool {
	if it.Fast != nil {
		return it.Fast.(*fastRun).open
	}
	return it.Stmt != nil
}

// unseparated reports statement s, which follows another on its line with
// no separator.
func unseparated(src *source.File, s Stmt) *diag.Diagnostic {
	start := s.Span().Start.Offset
	end := start
	for end < len(src.Text) && (isWordByte(src.Text[end]) || end == start) {
		end++
	}
	word := string(src.Text[start:end])
	d := diag.Errorf(src.Span(start, end), fmt.Sprintf("unexpected %q, expected end of statement", word))
	if word == "and" || word == "or" {
		return d.WithDetail(fmt.Sprintf("'%s' needs a condition on both sides", word))
	}
	return d.WithDetail("statements end at a newline or ';'")
}

func isWordByte(c byte) bool {
	return c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func (l *lowerer) stmt(g *gStmt) Stmt {
	switch {
	case g.Let != nil:
		return &Let{Name: l.ident(g.Let.Name), Value: l.expr(g.Let.Value), Sp: l.span(g.Let.Tokens)}
	case g.Expect != nil:
		return &Expect{Cond: l.expr(g.Expect.Cond), Sp: l.span(g.Expect.Tokens)}
	case g.Repeat != nil:
		return &Repeat{Count: l.expr(g.Repeat.Count), Body: l.block(g.Repeat.Body), Sp: l.span(g.Repeat.Tokens)}
	case g.For != nil:
		return &For{Var: l.ident(g.For.Var), Over: l.expr(g.For.Over), Body: l.block(g.For.Body), Sp: l.span(g.For.Tokens)}
	}
	return l.command(g.Cmd)
}

func (l *lowerer) block(g *gBlock) *Block {
	return &Block{Stmts: l.items(g.Items), Sp: l.span(g.Tokens)}
}

func (l *lowerer) command(g *gCommand) *Command {
	c := &Command{Verb: l.ident(g.Verb), Sp: l.span(g.Tokens)}
	c.Words, c.Args = l.parts(g.Parts)
	return c
}

func (l *lowerer) parts(parts []*gPart) ([]Expr, []*Arg) {
	var words []Expr
	var args []*Arg
	for _, p := range parts {
		if p.Arg != nil {
			args = append(args, &Arg{Name: l.ident(p.Arg.Name), Value: l.expr(p.Arg.Value), Sp: l.span(p.Arg.Tokens)})
			continue
		}
		words = append(words, l.expr(p.Word))
	}
	return words, args
}

func (l *lowerer) ident(g *gIdent) *Ident {
	return &Ident{Name: g.Name, Sp: l.span(g.Tokens)}
}

func (l *lowerer) expr(g *gExpr) Expr {
	from := l.binaryExpr(g.From)
	if g.To == nil {
		return from
	}
	return &Range{From: from, To: l.binaryExpr(g.To), Sp: l.span(g.Tokens)}
}

func (l *lowerer) unary(g *gUnary) Expr {
	if g.Neg {
		return &Unary{Op: "-", X: l.unary(g.Operand), Sp: l.span(g.Tokens)}
	}
	return l.primary(g.Primary)
}

func (l *lowerer) primary(g *gPrimary) Expr {
	sp := l.span(g.Tokens)
	switch {
	case g.Percent != nil:
		return literal(tPercent, *g.Percent, sp)
	case g.Quantity != nil:
		return literal(tQuantity, *g.Quantity, sp)
	case g.Float != nil:
		return literal(tFloat, *g.Float, sp)
	case g.Int != nil:
		return literal(tInt, *g.Int, sp)
	case g.String != nil:
		return literal(tString, *g.String, sp)
	case g.List != nil:
		return l.list(g.List)
	case g.Paren != nil:
		return &Paren{X: l.expr(g.Paren), Sp: sp}
	}
	return l.ref(g.Ref)
}

// literal is the AST node of a literal token (lowerer and fast path).
func literal(typ lexer.TokenType, text string, sp source.Span) Expr {
	switch typ {
	case tPercent:
		v, _ := strconv.ParseFloat(strings.TrimSuffix(text, "%"), 64)
		return &Percent{Text: text, Value: v, Sp: sp}
	case tQuantity:
		return quantity(text, sp)
	case tFloat:
		v, _ := strconv.ParseFloat(text, 64)
		return &Number{Kind: Float, Text: text, Value: v, Sp: sp}
	case tInt:
		v, _ := strconv.ParseFloat(text, 64)
		return &Number{Kind: Int, Text: text, Value: v, Sp: sp}
	}
	return &String{Value: unquote(text), Sp: sp}
}

func (l *lowerer) list(g *gList) *List {
	out := &List{Sp: l.span(g.Tokens)}
	for _, e := range g.Elems {
		out.Elems = append(out.Elems, l.expr(e))
	}
	return out
}

func (l *lowerer) ref(g *gRef) Expr {
	parts := make([]*Ident, len(g.Parts))
	for i, p := range g.Parts {
		parts[i] = l.ident(p)
	}
	if g.Call != nil {
		name := &Ident{Name: dotted(parts), Sp: source.Join(parts[0].Sp, parts[len(parts)-1].Sp)}
		c := &Call{Name: name, Sp: l.span(g.Tokens)}
		c.Words, c.Args = l.parts(g.Call.Args)
		return c
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return &Ref{Parts: parts, Sp: l.span(g.Tokens)}
}

func dotted(parts []*Ident) string {
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = p.Name
	}
	return strings.Join(names, ".")
}

// quantity splits `5ms` into 5 and "ms", and `1e3us` into 1e3 and "us".
func quantity(text string, sp source.Span) *Quantity {
	n := numberPrefix(text)
	v, _ := strconv.ParseFloat(text[:n], 64)
	return &Quantity{Text: text, Value: v, Unit: text[n:], Sp: sp}
}

// numberPrefix is the length of the number at the start of text: digits,
// an optional fraction, and an exponent only when digits follow the 'e'.
func numberPrefix(text string) int {
	i := digits(text, 0)
	if i < len(text) && text[i] == '.' && digits(text, i+1) > i+1 {
		i = digits(text, i+1)
	}
	if i < len(text) && (text[i] == 'e' || text[i] == 'E') {
		j := i + 1
		if j < len(text) && (text[j] == '+' || text[j] == '-') {
			j++
		}
		if k := digits(text, j); k > j {
			i = k
		}
	}
	return i
}

func digits(text string, i int) int {
	for i < len(text) && text[i] >= '0' && text[i] <= '9' {
		i++
	}
	return i
}
