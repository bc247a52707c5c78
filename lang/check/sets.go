package check

import (
	"fmt"

	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/syntax"
)

// setValue reads `--set name=text` as a value of the let's type: the text
// is parsed with the recipe's own expression syntax (so 4, 1e-3, 50%, 5ms,
// [2, 3] and relu all work); a let holding a string takes the text as is
// when it does not parse as a string. An integer let takes integers only,
// a number let any number, a percent or quantity let the same family.
func setValue(s *syntax.Let, old Value, text string) (Value, *diag.Diagnostic) {
	v, ok := parseSet(text)
	if old.Kind == VString && (!ok || v.Kind != VString) {
		v, ok = Value{Kind: VString, Str: text}, true
	}
	if !ok || !sameKind(old, v) {
		return Value{}, diag.Errorf(s.Name.Sp, fmt.Sprintf("--set %s=%s: %s is %s", s.Name.Name, text, s.Name.Name, letKind(old))).
			WithDetail(fmt.Sprintf("the let at line %d gives %s; --set must give a value of the same kind", s.Sp.Start.Line, valueText(old)))
	}
	v.Span, v.Expr = s.Value.Span(), s.Value
	return v, nil
}

// parseSet parses text as a constant expression.
func parseSet(text string) (Value, bool) {
	f, ds := syntax.ParseString("--set", "let x = "+text)
	if ds.HasErrors() || len(f.Stmts) != 1 {
		return Value{}, false
	}
	let, ok := f.Stmts[0].(*syntax.Let)
	if !ok {
		return Value{}, false
	}
	v, d := eval(NewState(), let.Value)
	return v, d == nil && v.Kind != VExpr
}

// sameKind says whether a --set value may replace a let's value.
func sameKind(old, v Value) bool {
	switch old.Kind {
	case VFloat:
		return (v.Kind == VFloat || v.Kind == VInt) && unitFamily(old.Unit) == unitFamily(v.Unit)
	case VIdent, VCall:
		return v.Kind == VIdent || v.Kind == VCall
	}
	return old.Kind == v.Kind
}

func letKind(v Value) string {
	switch v.Kind {
	case VInt:
		return "an integer"
	case VFloat:
		if f := unitFamily(v.Unit); f != 0 {
			return "a " + shortFamily(f)
		}
		return "a number"
	case VIdent:
		return "a name"
	}
	return valueNoun(v)
}
