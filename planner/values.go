package planner

import (
	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/lang/syntax"
)

// scope holds the names bound where a statement runs: `let` parameters
// (after --set) and the loop variables of the enclosing branches.
type scope map[string]check.Value

// show renders a value for people. A value the recipe wrote with literals
// only is shown exactly as written (`1e-3`, `0.5%`, `percentile(99.9)`);
// one that mentions a bound name is shown resolved (`bits=bits` in the
// branch bits=3 shows `3`); a default is rendered from its kind.
func (s scope) show(src *source.File, v check.Value) string {
	if v.Expr == nil {
		return v.String()
	}
	if s.mentions(v.Expr) {
		if b, ok := s.bound(v.Expr); ok {
			return b.String()
		}
		if v.Kind != check.VExpr && v.Kind != check.VNone {
			return v.String()
		}
	}
	if src != nil && v.Expr.Span().IsValid() {
		return spanText(src, v.Expr.Span())
	}
	return v.String()
}

// mentions reports whether e refers to a bound name.
func (s scope) mentions(e syntax.Expr) bool {
	found := false
	syntax.Walk(e, func(n syntax.Node) bool {
		if id, ok := n.(*syntax.Ident); ok {
			if _, bound := s[id.Name]; bound {
				found = true
			}
		}
		return !found
	})
	return found
}

// bound returns the value of e when e is a bound name (in parentheses or
// not).
func (s scope) bound(e syntax.Expr) (check.Value, bool) {
	switch e := e.(type) {
	case *syntax.Ident:
		v, ok := s[e.Name]
		return v, ok
	case *syntax.Paren:
		return s.bound(e.X)
	}
	return check.Value{}, false
}

// resolve returns the bound value when v was written as a bound name,
// else v itself.
func (s scope) resolve(v check.Value) check.Value {
	if v.Expr != nil {
		if b, ok := s.bound(v.Expr); ok {
			return b
		}
	}
	return v
}

// spanText is the recipe text under a span.
func spanText(src *source.File, sp source.Span) string {
	if src == nil {
		return ""
	}
	start, end := sp.Start.Offset, sp.End.Offset
	if start < 0 || end > len(src.Text) || start > end {
		return ""
	}
	return string(src.Text[start:end])
}

// plainName is a value used as a name: an identifier's or string's text.
func plainName(v check.Value) string {
	switch v.Kind {
	case check.VIdent, check.VString:
		return v.Str
	}
	return v.String()
}
