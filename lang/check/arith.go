package check

import (
	"fmt"

	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/syntax"
)

// evalBinary folds constant arithmetic (+ - * /) in let values and
// arguments. Quantities add to quantities of the same family and scale by
// plain numbers; comparisons belong in expect.
func evalBinary(st *State, e *syntax.Binary) (Value, *diag.Diagnostic) {
	if v, ok := dashedName(st, e); ok {
		return v, nil
	}
	x, d := eval(st, e.X)
	if d != nil {
		return Value{}, d
	}
	y, d := eval(st, e.Y)
	if d != nil {
		return Value{}, d
	}
	if x.Kind == VExpr || y.Kind == VExpr {
		return Value{Kind: VExpr, Expr: e, Span: e.Sp}, nil
	}
	switch e.Op {
	case "+", "-", "*", "/":
	default:
		return Value{}, diag.Errorf(e.OpSp, fmt.Sprintf("%q is not allowed here", e.Op)).
			WithDetail("comparisons and and/or belong in expect; values take + - * / only")
	}
	if d := arithOperand(x); d != nil {
		return Value{}, d
	}
	if d := arithOperand(y); d != nil {
		return Value{}, d
	}
	return arith(e, x, y)
}

// arithOperand rejects what arithmetic cannot use; an identifier here is
// a parameter nobody defined.
func arithOperand(v Value) *diag.Diagnostic {
	switch v.Kind {
	case VInt, VFloat:
		return nil
	case VIdent:
		return undefinedParam(v)
	}
	return diag.Errorf(v.Span, "arithmetic needs numbers, not "+valueNoun(v))
}

func arith(e *syntax.Binary, x, y Value) (Value, *diag.Diagnostic) {
	unit, d := arithUnit(e, x, y)
	if d != nil {
		return Value{}, d
	}
	if e.Op == "/" && y.Number() == 0 {
		return Value{}, diag.Errorf(e.Sp, "division by zero")
	}
	out := Value{Kind: VFloat, Unit: unit, Expr: e, Span: e.Sp}
	if x.Kind == VInt && y.Kind == VInt && unit == "" {
		if i, ok := intArith(e.Op, x.Int, y.Int); ok {
			out.Kind, out.Int = VInt, i
			return out, nil
		}
	}
	out.Float = floatArith(e.Op, x.Number(), y.Number())
	return out, nil
}

func intArith(op string, a, b int64) (int64, bool) {
	switch op {
	case "+":
		return a + b, true
	case "-":
		return a - b, true
	case "*":
		return a * b, true
	}
	return a / b, a%b == 0
}

func floatArith(op string, a, b float64) float64 {
	switch op {
	case "+":
		return a + b
	case "-":
		return a - b
	case "*":
		return a * b
	}
	return a / b
}

// arithUnit decides the unit of x op y: quantities add within a family
// (the result is in the base unit) and scale by plain numbers; percents
// stay percents when both sides are.
func arithUnit(e *syntax.Binary, x, y Value) (string, *diag.Diagnostic) {
	fx, fy := unitFamily(x.Unit), unitFamily(y.Unit)
	switch {
	case fx == 0 && fy == 0:
		if x.Unit == "%" && y.Unit == "%" && (e.Op == "+" || e.Op == "-") {
			return "%", nil
		}
		return "", nil
	case e.Op == "+" || e.Op == "-":
		if fx != fy {
			return "", diag.Errorf(e.OpSp, fmt.Sprintf("cannot %s %s and %s", opVerb(e.Op), familyWord(fx), familyWord(fy)))
		}
		return baseUnit(fx), nil
	case e.Op == "*" && (fx == 0 || fy == 0):
		return baseUnit(max(fx, fy)), nil
	case e.Op == "/" && fy == 0:
		return baseUnit(fx), nil
	case e.Op == "/" && fx == fy:
		return "", nil
	}
	return "", diag.Errorf(e.OpSp, fmt.Sprintf("cannot %s %s and %s", opVerb(e.Op), familyWord(fx), familyWord(fy)))
}

// unitFamily is TDuration or TBytes for a quantity's unit, 0 otherwise.
func unitFamily(u string) Type {
	if un, ok := units[u]; ok {
		return un.family
	}
	return 0
}

func familyWord(t Type) string {
	if t == 0 {
		return "a plain number"
	}
	return "a " + shortFamily(t)
}

func baseUnit(t Type) string {
	switch t {
	case TDuration:
		return "s"
	case TBytes:
		return "B"
	}
	return ""
}

func opVerb(op string) string {
	switch op {
	case "+":
		return "add"
	case "-":
		return "subtract"
	case "*":
		return "multiply"
	}
	return "divide"
}

// dashedName reads `resnet-20`, written without spaces, as one name (the
// lexer splits it because a name part cannot start with a digit) unless
// resnet is a parameter.
func dashedName(st *State, e *syntax.Binary) (Value, bool) {
	x, okX := e.X.(*syntax.Ident)
	y, okY := e.Y.(*syntax.Number)
	if !okX || !okY || e.Op != "-" || y.Kind != syntax.Int {
		return Value{}, false
	}
	if _, bound := st.Values[x.Name]; bound || x.Sp.End.Offset != e.OpSp.Start.Offset || e.OpSp.End.Offset != y.Sp.Start.Offset {
		return Value{}, false
	}
	return Value{Kind: VIdent, Str: x.Name + "-" + y.Text, Expr: e, Span: e.Sp}, true
}
