package syntax

import "github.com/alecthomas/participle/v2/lexer"

// The fast path's blocks: `repeat COUNT { ... }` and `for NAME in OVER
// { ... }` with the header on one line, as gRepeat, gFor and gBlock read
// them, and a body of statements the fast path reads (blocks nest). A
// statement in the body must be followed by a separator or the '}'; any
// other body gives up on the whole block, and the grammar reads it.

// repeat reads gRepeat.
func (r *fastReader) repeat() Stmt {
	t := r.next()
	count := r.expr()
	if count == nil {
		return nil
	}
	body := r.block()
	if body == nil {
		return nil
	}
	return &Repeat{Count: count, Body: body, Sp: r.spanFrom(t)}
}

// forStmt reads gFor.
func (r *fastReader) forStmt() Stmt {
	t := r.next()
	v := r.ident()
	if v == nil || !isIdent(r.peek(), "in") {
		return nil
	}
	r.next()
	over := r.expr()
	if over == nil {
		return nil
	}
	body := r.block()
	if body == nil {
		return nil
	}
	return &For{Var: v, Over: over, Body: body, Sp: r.spanFrom(t)}
}

// block reads gBlock: '{', separators and statements, '}'.
func (r *fastReader) block() *Block {
	t := r.peek()
	if !isPunct(t, "{") {
		return nil
	}
	r.next()
	b := &Block{}
	for r.separators(); !r.accept("}"); r.separators() {
		s := r.stmt()
		if s == nil || !atStmtEnd(r.peek()) {
			return nil
		}
		b.Stmts = append(b.Stmts, s)
	}
	b.Sp = r.spanFrom(t)
	return b
}

// isIdent reports whether t is the name (or keyword) s.
func isIdent(t *lexer.Token, s string) bool { return t.Type == tIdent && t.Value == s }
