package check

import (
	"fmt"
	"math"

	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/syntax"
)

// maxRange bounds how many integers a range may expand to.
const maxRange = 10000

// eval turns a word or argument expression into a Value, replacing the
// parameters in scope (lets, loop variables) by their values and folding
// constant arithmetic. An identifier that names no parameter stays a
// VIdent for the slot's type to judge; a reference to run-time state
// (teacher.accuracy) stays a VExpr.
func eval(st *State, e syntax.Expr) (Value, *diag.Diagnostic) {
	switch e := e.(type) {
	case *syntax.Number:
		return number(e), nil
	case *syntax.Percent:
		return Value{Kind: VFloat, Float: e.Value / 100, Unit: "%", Expr: e, Span: e.Sp}, nil
	case *syntax.Quantity:
		return quantity(e)
	case *syntax.String:
		return Value{Kind: VString, Str: e.Value, Expr: e, Span: e.Sp}, nil
	case *syntax.Ident:
		return ident(st, e), nil
	case *syntax.Paren:
		v, d := eval(st, e.X)
		v.Span, v.Expr = e.Sp, e
		return v, d
	}
	return evalCompound(st, e)
}

func evalCompound(st *State, e syntax.Expr) (Value, *diag.Diagnostic) {
	switch e := e.(type) {
	case *syntax.List:
		return evalList(st, e)
	case *syntax.Range:
		return evalRange(st, e)
	case *syntax.Call:
		return evalCall(st, e)
	case *syntax.Unary:
		return evalNeg(st, e)
	case *syntax.Binary:
		return evalBinary(st, e)
	}
	return Value{Kind: VExpr, Expr: e, Span: e.Span()}, nil
}

func number(e *syntax.Number) Value {
	if e.Kind == syntax.Int && e.Value <= math.MaxInt64 {
		return Value{Kind: VInt, Int: int64(e.Value), Expr: e, Span: e.Sp}
	}
	return Value{Kind: VFloat, Float: e.Value, Expr: e, Span: e.Sp}
}

// quantity stores the amount in the family's base unit (seconds, bytes).
func quantity(e *syntax.Quantity) (Value, *diag.Diagnostic) {
	u, ok := units[e.Unit]
	if !ok {
		return Value{}, diag.Errorf(e.Sp, fmt.Sprintf("unknown unit %q in %s", e.Unit, e.Text)).WithDetail(unitHelp)
	}
	return Value{Kind: VFloat, Float: e.Value * u.scale, Unit: e.Unit, Expr: e, Span: e.Sp}, nil
}

func ident(st *State, e *syntax.Ident) Value {
	if v, ok := st.Values[e.Name]; ok {
		v.Expr, v.Span = e, e.Sp
		return v
	}
	return Value{Kind: VIdent, Str: e.Name, Expr: e, Span: e.Sp}
}

func evalList(st *State, e *syntax.List) (Value, *diag.Diagnostic) {
	out := Value{Kind: VList, Expr: e, Span: e.Sp, List: make([]Value, 0, len(e.Elems))}
	for _, el := range e.Elems {
		v, d := eval(st, el)
		if d != nil {
			return Value{}, d
		}
		out.List = append(out.List, v)
	}
	return out, nil
}

// evalRange expands `a..b` (inclusive, integers) into a list.
func evalRange(st *State, e *syntax.Range) (Value, *diag.Diagnostic) {
	from, d := evalIntEnd(st, e.From)
	if d != nil {
		return Value{}, d
	}
	to, d := evalIntEnd(st, e.To)
	if d != nil {
		return Value{}, d
	}
	if to < from || to-from >= maxRange {
		return Value{}, diag.Errorf(e.Sp, fmt.Sprintf("range %d..%d is empty or too long", from, to)).
			WithDetail(fmt.Sprintf("a range counts up from its first to its last integer, at most %d of them", maxRange))
	}
	out := Value{Kind: VList, Expr: e, Span: e.Sp, List: make([]Value, 0, to-from+1)}
	for i := from; i <= to; i++ {
		out.List = append(out.List, Value{Kind: VInt, Int: i, Expr: e, Span: e.Sp})
	}
	return out, nil
}

func evalIntEnd(st *State, e syntax.Expr) (int64, *diag.Diagnostic) {
	v, d := eval(st, e)
	if d != nil {
		return 0, d
	}
	if v.Kind != VInt {
		return 0, diag.Errorf(e.Span(), "range ends must be integers, not "+valueNoun(v))
	}
	return v.Int, nil
}

// evalCall keeps the positional arguments; named ones are bound against
// the callable form when the value is typed.
func evalCall(st *State, e *syntax.Call) (Value, *diag.Diagnostic) {
	out := Value{Kind: VCall, Str: e.Name.Name, Expr: e, Span: e.Sp}
	for _, w := range e.Words {
		v, d := eval(st, w)
		if d != nil {
			return Value{}, d
		}
		out.List = append(out.List, v)
	}
	return out, nil
}

func evalNeg(st *State, e *syntax.Unary) (Value, *diag.Diagnostic) {
	v, d := eval(st, e.X)
	if d != nil || v.Kind == VExpr {
		return v, d
	}
	v.Expr, v.Span = e, e.Sp
	switch v.Kind {
	case VInt:
		v.Int = -v.Int
	case VFloat:
		v.Float = -v.Float
	default:
		return Value{}, diag.Errorf(e.Sp, "cannot negate "+valueNoun(v))
	}
	return v, nil
}
