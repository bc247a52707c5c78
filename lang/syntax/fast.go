package syntax

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The fast path. participle tries each alternative of the grammar on a
// fresh copy of its parse context and fills the structs by reflection:
// dozens of allocations a token. Most statements are simple, so gItem
// first tries fastStmt, a participle custom production
// (participle.ParseTypeWith) that reads a command, let or expect
// statement by recursive descent over participle's own PeekingLexer and
// fills the same grammar structs the tags in grammar.go describe.
//
// It accepts only what it can read without backtracking further than the
// grammar does (one token, to tell `name=value` from a word), and only a
// statement followed by a separator, '}' or the end of the file. Given
// that, the grammar would read the statement the same way: each of its
// alternatives is decided by the first token, and a statement cannot
// continue past a separator. On anything else (a block, a bracket spanning
// lines, a syntax error) it returns participle.NextMatch with the lexer
// untouched and the grammar reads the statement. Syntax errors never come
// from here: Parse reports them with the grammar alone (exactParser).
// TestFastPathAgrees and FuzzFastPath check both read every input alike.

// fastNode is the interface type participle's custom production returns;
// its only implementation is *fastItem.
type fastNode interface{ fastNode() }

// fastItem is a simple statement and the separator after it, if any, read
// with it to halve the items participle handles.
type fastItem struct {
	stmt *gStmt
	sep  bool
}

func (*fastItem) fastNode() {}

// parseFast is the custom production: a whole simple statement, or
// NextMatch.
func parseFast(lx *lexer.PeekingLexer) (fastNode, error) {
	cp := lx.MakeCheckpoint()
	s := readStmt(lx)
	if s == nil || !atStmtEnd(lx.Peek()) {
		lx.LoadCheckpoint(cp)
		return nil, participle.NextMatch
	}
	item := &fastItem{stmt: s}
	if t := lx.Peek(); t.Type == tNewline || isPunct(t, ";") {
		lx.Next()
		item.sep = true
	}
	return item, nil
}

// noFast is the custom production of exactParser: never a match.
func noFast(*lexer.PeekingLexer) (fastNode, error) { return nil, participle.NextMatch }

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

// accept consumes the punctuation p if it comes next.
func accept(lx *lexer.PeekingLexer, p string) bool {
	if isPunct(lx.Peek(), p) {
		lx.Next()
		return true
	}
	return false
}

// readStmt reads gStmt's Cmd, Let or Expect alternative; nil means
// "leave it to the grammar" (the lexer may have moved).
func readStmt(lx *lexer.PeekingLexer) *gStmt {
	t := lx.Peek()
	if t.Type != tIdent {
		return nil
	}
	start := lx.RawCursor()
	switch t.Value {
	case "repeat", "for":
		return nil
	case "let":
		lx.Next()
		name := readIdent(lx)
		if name == nil || !accept(lx, "=") {
			return nil
		}
		v := readExpr(lx)
		if v == nil {
			return nil
		}
		return &gStmt{Let: &gLet{Tokens: lx.Range(start, lx.RawCursor()), Name: name, Value: v}}
	case "expect":
		lx.Next()
		c := readExpr(lx)
		if c == nil {
			return nil
		}
		return &gStmt{Expect: &gExpect{Tokens: lx.Range(start, lx.RawCursor()), Cond: c}}
	}
	cmd := &gCommand{Verb: readIdent(lx)}
	for startsPart(lx.Peek()) {
		p := readPart(lx)
		if p == nil {
			return nil
		}
		cmd.Parts = append(cmd.Parts, p)
	}
	cmd.Tokens = lx.Range(start, lx.RawCursor())
	return &gStmt{Cmd: cmd}
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

// readPart reads gPart: `name=value` when a name and '=' come next,
// otherwise a word.
func readPart(lx *lexer.PeekingLexer) *gPart {
	if lx.Peek().Type == tIdent {
		cp := lx.MakeCheckpoint()
		start := lx.RawCursor()
		name := readIdent(lx)
		if accept(lx, "=") {
			v := readExpr(lx)
			if v == nil {
				return nil
			}
			return &gPart{Arg: &gArg{Tokens: lx.Range(start, lx.RawCursor()), Name: name, Value: v}}
		}
		lx.LoadCheckpoint(cp)
	}
	w := readExpr(lx)
	if w == nil {
		return nil
	}
	return &gPart{Word: w}
}

func readIdent(lx *lexer.PeekingLexer) *gIdent {
	t := lx.Peek()
	if t.Type != tIdent {
		return nil
	}
	start := lx.RawCursor()
	lx.Next()
	return &gIdent{Tokens: lx.Range(start, lx.RawCursor()), Name: t.Value}
}

// readExpr reads gExpr: an operator expression, optionally `..` another.
func readExpr(lx *lexer.PeekingLexer) *gExpr {
	start := lx.RawCursor()
	from := readBinary(lx)
	if from == nil {
		return nil
	}
	e := &gExpr{From: from}
	if lx.Peek().Type == tRange {
		lx.Next()
		if e.To = readBinary(lx); e.To == nil {
			return nil
		}
	}
	e.Tokens = lx.Range(start, lx.RawCursor())
	return e
}

// binaryOps are gBinOp's operators.
var binaryOps = map[string]bool{
	"and": true, "or": true, "==": true, "!=": true, "<=": true, ">=": true,
	"<": true, ">": true, "+": true, "-": true, "*": true, "/": true,
}

func isBinaryOp(t *lexer.Token) bool {
	return (t.Type == tOp || t.Type == tIdent) && binaryOps[t.Value]
}

func readBinary(lx *lexer.PeekingLexer) *gBinary {
	left := readUnary(lx)
	if left == nil {
		return nil
	}
	b := &gBinary{Left: left}
	for isBinaryOp(lx.Peek()) {
		op := lx.Next()
		right := readUnary(lx)
		if right == nil {
			return nil
		}
		b.Rest = append(b.Rest, &gBinOp{Pos: op.Pos, Op: op.Value, Right: right})
	}
	return b
}

func readUnary(lx *lexer.PeekingLexer) *gUnary {
	start := lx.RawCursor()
	if t := lx.Peek(); t.Type == tOp && t.Value == "-" {
		lx.Next()
		x := readUnary(lx)
		if x == nil {
			return nil
		}
		return &gUnary{Tokens: lx.Range(start, lx.RawCursor()), Neg: true, Operand: x}
	}
	p := readPrimary(lx)
	if p == nil {
		return nil
	}
	return &gUnary{Tokens: lx.Range(start, lx.RawCursor()), Primary: p}
}

// readPrimary reads gPrimary. A literal's text points into the token.
func readPrimary(lx *lexer.PeekingLexer) *gPrimary {
	start := lx.RawCursor()
	t := lx.Peek()
	p := &gPrimary{}
	switch t.Type {
	case tIdent:
		if p.Ref = readRef(lx); p.Ref == nil {
			return nil
		}
	case tInt, tFloat, tString, tPercent, tQuantity:
		lx.Next()
		literalField(p, t.Type, &t.Value)
	case tPunct:
		switch t.Value {
		case "[":
			if p.List = readList(lx); p.List == nil {
				return nil
			}
		case "(":
			lx.Next()
			if p.Paren = readExpr(lx); p.Paren == nil || !accept(lx, ")") {
				return nil
			}
		default:
			return nil
		}
	default:
		return nil
	}
	p.Tokens = lx.Range(start, lx.RawCursor())
	return p
}

func literalField(p *gPrimary, typ lexer.TokenType, text *string) {
	switch typ {
	case tInt:
		p.Int = text
	case tFloat:
		p.Float = text
	case tString:
		p.String = text
	case tPercent:
		p.Percent = text
	case tQuantity:
		p.Quantity = text
	}
}

// readList reads `[a, b, c]` with an optional trailing comma, all on one
// line (the grammar takes lists spanning lines).
func readList(lx *lexer.PeekingLexer) *gList {
	start := lx.RawCursor()
	lx.Next() // '['
	l := &gList{}
	for !accept(lx, "]") {
		e := readExpr(lx)
		if e == nil {
			return nil
		}
		l.Elems = append(l.Elems, e)
		if accept(lx, "]") {
			break
		}
		if !accept(lx, ",") {
			return nil
		}
	}
	l.Tokens = lx.Range(start, lx.RawCursor())
	return l
}

// readRef reads a dotted name, optionally called.
func readRef(lx *lexer.PeekingLexer) *gRef {
	start := lx.RawCursor()
	r := &gRef{Parts: []*gIdent{readIdent(lx)}}
	for isPunct(lx.Peek(), ".") {
		lx.Next()
		id := readIdent(lx)
		if id == nil {
			return nil
		}
		r.Parts = append(r.Parts, id)
	}
	if isPunct(lx.Peek(), "(") {
		if r.Call = readCall(lx); r.Call == nil {
			return nil
		}
	}
	r.Tokens = lx.Range(start, lx.RawCursor())
	return r
}

// readCall reads `(part, part)` on one line, no trailing comma.
func readCall(lx *lexer.PeekingLexer) *gCall {
	start := lx.RawCursor()
	lx.Next() // '('
	c := &gCall{}
	if !accept(lx, ")") {
		for {
			p := readPart(lx)
			if p == nil {
				return nil
			}
			c.Args = append(c.Args, p)
			if accept(lx, ")") {
				break
			}
			if !accept(lx, ",") {
				return nil
			}
		}
	}
	c.Tokens = lx.Range(start, lx.RawCursor())
	return c
}
