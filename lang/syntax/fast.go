package syntax

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/qpipe/qpipe/lang/source"
)

// The fast path. participle tries each alternative of the grammar on a
// fresh copy of its parse context and fills the structs by reflection:
// dozens of allocations a token. Most statements are simple, so gItem
// first tries parseFast, a participle custom production
// (participle.ParseTypeWith) that reads a run of statements by recursive
// descent over participle's own PeekingLexer and builds the AST (ast.go)
// directly: no grammar structs, no lowering. lower.go passes the run's
// statements through.
//
// The algorithm: read one statement (a command, let, expect, or a repeat
// or for whose header is on one line and whose body holds only such
// statements); accept it only if a separator, '}' or the end of the file
// follows; take the separators after it; go on while the next statement
// reads the same way. The first statement that does not ends the run with
// the lexer put back where it starts, and the grammar reads it; a run of
// no statements is participle.NextMatch.
//
// The contract with the grammar: a statement is accepted only when the
// grammar would read the same tokens into the same tree. Each rule below
// mirrors one grammar struct and takes no alternative the grammar would
// not; the only lookahead is one token to tell `name=value` from a word
// (which the grammar also decides by the '='). Anything the fast path
// does not know — a bracket spanning lines, a comparison chain (the
// lowerer reports it), a syntax error — gives up on the whole statement.
// Operators are nested by precedence exactly as binary.go does. Syntax
// errors never come from here: Parse reports them with the grammar alone
// (exactParser). TestFastPathAgrees and FuzzFastPath check that both read
// every input alike.
//
// Spans come straight from the tokens: parseValid's lexer (stream.go)
// gives byte columns, as source.Pos counts them, and no token read here
// spans lines.

// fastNode is the interface type participle's custom production returns;
// its only implementation is *fastRun.
type fastNode interface{ fastNode() }

// fastRun is a run of statements read by the fast path. open says the last
// one has no separator after it (it ends at '}' or the end of the file).
type fastRun struct {
	stmts []Stmt
	open  bool
}

func (*fastRun) fastNode() {}

// parseFast is the custom production: a run of statements, or NextMatch.
func parseFast(lx *lexer.PeekingLexer) (fastNode, error) {
	r := fastReader{lx: lx}
	run := &fastRun{}
	for !run.open {
		s := r.stmtAtEnd()
		if s == nil {
			break
		}
		run.stmts = append(run.stmts, s)
		run.open = !r.separators()
	}
	if len(run.stmts) == 0 {
		return nil, participle.NextMatch
	}
	return run, nil
}

// noFast is the custom production of exactParser: never a match.
func noFast(*lexer.PeekingLexer) (fastNode, error) { return nil, participle.NextMatch }

// fastReader reads statements over the parser's lexer. last is the last
// token taken, where the node being read ends.
type fastReader struct {
	lx   *lexer.PeekingLexer
	last *lexer.Token
}

func (r *fastReader) peek() *lexer.Token { return r.lx.Peek() }

func (r *fastReader) next() *lexer.Token {
	r.last = r.lx.Next()
	return r.last
}

// accept takes the punctuation p if it comes next.
func (r *fastReader) accept(p string) bool {
	if isPunct(r.peek(), p) {
		r.next()
		return true
	}
	return false
}

// separators takes every newline and ';' that comes next and reports
// whether there was one.
func (r *fastReader) separators() bool {
	sep := false
	for t := r.peek(); t.Type == tNewline || isPunct(t, ";"); t = r.peek() {
		r.next()
		sep = true
	}
	return sep
}

// stmtAtEnd reads a statement followed by the end of a statement, or
// puts the lexer back and returns nil.
func (r *fastReader) stmtAtEnd() Stmt {
	cp := r.lx.MakeCheckpoint()
	s := r.stmt()
	if s == nil || !atStmtEnd(r.peek()) {
		r.lx.LoadCheckpoint(cp)
		return nil
	}
	return s
}

func atStmtEnd(t *lexer.Token) bool {
	switch t.Type {
	case lexer.EOF, tNewline:
		return true
	case tPunct:
		return t.Value == ";" || t.Value == "}"
	}
	return false
}

// isPunct reports whether t is the punctuation p.
func isPunct(t *lexer.Token, p string) bool { return t.Type == tPunct && t.Value == p }

// tokSpan is the span of one token.
func tokSpan(t *lexer.Token) source.Span {
	return source.Span{File: t.Pos.Filename, Start: tokPos(t, 0), End: tokPos(t, len(t.Value))}
}

// spanFrom covers the token from to the last token taken.
func (r *fastReader) spanFrom(from *lexer.Token) source.Span {
	return source.Span{File: from.Pos.Filename, Start: tokPos(from, 0), End: tokPos(r.last, len(r.last.Value))}
}

func tokPos(t *lexer.Token, skip int) source.Pos {
	return source.Pos{Offset: t.Pos.Offset + skip, Line: t.Pos.Line, Column: t.Pos.Column + skip}
}

// stmt reads gStmt: nil means "leave it to the grammar".
func (r *fastReader) stmt() Stmt {
	t := r.peek()
	if t.Type != tIdent {
		return nil
	}
	switch t.Value {
	case "let":
		return r.let()
	case "expect":
		r.next()
		if c := r.expr(); c != nil {
			return &Expect{Cond: c, Sp: r.spanFrom(t)}
		}
		return nil
	case "repeat":
		return r.repeat()
	case "for":
		return r.forStmt()
	}
	return r.command()
}

// let reads gLet: 'let' NAME '=' expr.
func (r *fastReader) let() Stmt {
	t := r.next()
	name := r.ident()
	if name == nil || !r.accept("=") {
		return nil
	}
	v := r.expr()
	if v == nil {
		return nil
	}
	return &Let{Name: name, Value: v, Sp: r.spanFrom(t)}
}

// command reads gCommand: a verb, then words and arguments.
func (r *fastReader) command() Stmt {
	t := r.peek()
	c := &Command{Verb: r.ident()}
	for startsPart(r.peek()) {
		if !r.part(&c.Words, &c.Args) {
			return nil
		}
	}
	c.Sp = r.spanFrom(t)
	return c
}

// startsPart reports whether t can begin a word or an argument.
func startsPart(t *lexer.Token) bool {
	switch t.Type {
	case tIdent, tInt, tFloat, tString, tPercent, tQuantity:
		return true
	case tPunct:
		return t.Value == "[" || t.Value == "("
	case tOp:
		return t.Value == "-"
	}
	return false
}

// part reads gPart into words or args: `name=value` when a name and '='
// come next, otherwise a word.
func (r *fastReader) part(words *[]Expr, args *[]*Arg) bool {
	if t := r.peek(); t.Type == tIdent {
		cp := r.lx.MakeCheckpoint()
		r.next()
		if r.accept("=") {
			v := r.expr()
			if v == nil {
				return false
			}
			name := &Ident{Name: t.Value, Sp: tokSpan(t)}
			*args = append(*args, &Arg{Name: name, Value: v, Sp: r.spanFrom(t)})
			return true
		}
		r.lx.LoadCheckpoint(cp)
	}
	w := r.expr()
	if w == nil {
		return false
	}
	*words = append(*words, w)
	return true
}

func (r *fastReader) ident() *Ident {
	t := r.peek()
	if t.Type != tIdent {
		return nil
	}
	r.next()
	return &Ident{Name: t.Value, Sp: tokSpan(t)}
}

// expr reads gExpr: an operator expression, optionally `..` another.
func (r *fastReader) expr() Expr {
	from := r.binary(1)
	if from == nil || r.peek().Type != tRange {
		return from
	}
	r.next()
	to := r.binary(1)
	if to == nil {
		return nil
	}
	return &Range{From: from, To: to, Sp: source.Join(from.Span(), to.Span())}
}

// binary reads gBinary by precedence climbing, as binary.go nests it: an
// operand, then every operator binding at least as tightly as minPrec.
// A chained comparison goes to the grammar, whose lowerer reports it.
func (r *fastReader) binary(minPrec int) Expr {
	x := r.unary()
	compared := false
	for x != nil && isBinaryOp(r.peek()) && precedence(r.peek().Value) >= minPrec {
		op := r.next()
		prec := precedence(op.Value)
		if prec == 3 && compared {
			return nil
		}
		compared = prec == 3
		y := r.binary(prec + 1)
		if y == nil {
			return nil
		}
		x = &Binary{Op: op.Value, OpSp: tokSpan(op), X: x, Y: y, Sp: source.Join(x.Span(), y.Span())}
	}
	return x
}

// isBinaryOp reports whether t is one of gBinOp's operators.
func isBinaryOp(t *lexer.Token) bool {
	switch t.Type {
	case tOp:
		return true // every Op token is a binary operator
	case tIdent:
		return t.Value == "and" || t.Value == "or"
	}
	return false
}

// unary reads gUnary: '-' operand, or a primary.
func (r *fastReader) unary() Expr {
	t := r.peek()
	if t.Type != tOp || t.Value != "-" {
		return r.primary()
	}
	r.next()
	x := r.unary()
	if x == nil {
		return nil
	}
	return &Unary{Op: "-", X: x, Sp: source.Join(tokSpan(t), x.Span())}
}

// primary reads gPrimary.
func (r *fastReader) primary() Expr {
	t := r.peek()
	switch t.Type {
	case tIdent:
		return r.ref()
	case tInt, tFloat, tString, tPercent, tQuantity:
		r.next()
		return literal(t.Type, t.Value, tokSpan(t))
	}
	switch {
	case isPunct(t, "["):
		return r.list()
	case isPunct(t, "("):
		r.next()
		x := r.expr()
		if x == nil || !r.accept(")") {
			return nil
		}
		return &Paren{X: x, Sp: r.spanFrom(t)}
	}
	return nil
}

// list reads `[a, b, c]` with an optional trailing comma, all on one line
// (the grammar takes lists spanning lines).
func (r *fastReader) list() Expr {
	t := r.next() // '['
	l := &List{}
	for !r.accept("]") {
		e := r.expr()
		if e == nil {
			return nil
		}
		l.Elems = append(l.Elems, e)
		if r.accept("]") {
			break
		}
		if !r.accept(",") {
			return nil
		}
	}
	l.Sp = r.spanFrom(t)
	return l
}

// ref reads gRef: a dotted name, optionally called.
func (r *fastReader) ref() Expr {
	first := r.ident()
	name, parts := first, []*Ident(nil)
	if isPunct(r.peek(), ".") {
		if parts = r.dotted(first); parts == nil {
			return nil
		}
		last := parts[len(parts)-1]
		name = &Ident{Name: dotted(parts), Sp: source.Join(first.Sp, last.Sp)}
	}
	if isPunct(r.peek(), "(") {
		return r.call(name)
	}
	if parts == nil {
		return first
	}
	return &Ref{Parts: parts, Sp: name.Sp}
}

// dotted reads the `.name` parts after first; nil if one is not a name.
func (r *fastReader) dotted(first *Ident) []*Ident {
	parts := []*Ident{first}
	for isPunct(r.peek(), ".") {
		r.next()
		id := r.ident()
		if id == nil {
			return nil
		}
		parts = append(parts, id)
	}
	return parts
}

// call reads gCall, `(part, part)` on one line with no trailing comma.
func (r *fastReader) call(name *Ident) Expr {
	r.next() // '('
	c := &Call{Name: name}
	if !r.accept(")") {
		for {
			if !r.part(&c.Words, &c.Args) {
				return nil
			}
			if r.accept(")") {
				break
			}
			if !r.accept(",") {
				return nil
			}
		}
	}
	c.Sp = source.Join(name.Sp, tokSpan(r.last))
	return c
}
