package check

import (
	"fmt"
	"slices"
	"strings"

	"github.com/qpipe/qpipe/lang/diag"
)

// coerce types v for p: it checks the kind, the range, the unit and the
// allowed names, and returns the value in its checked form (ints widened
// to floats for TFloat, percents as fractions, quantities in base units,
// true/false as VBool, single values wrapped for lists).
func coerce(st *State, v Value, p *Param) (Value, *diag.Diagnostic) {
	switch p.Type {
	case TInt, TFloat, TFraction:
		return coerceNumber(v, p)
	case TDuration, TBytes:
		return coerceQuantity(v, p)
	case TString, TPath:
		return coerceString(v, p)
	case TList:
		return coerceList(st, v, p)
	case TExpr:
		return v, nil
	}
	return coerceName(st, v, p)
}

func coerceName(st *State, v Value, p *Param) (Value, *diag.Diagnostic) {
	switch p.Type {
	case TEnum:
		return coerceEnum(v, p)
	case TKeyword:
		return coerceKeyword(v, p)
	case TName:
		return coerceNewName(v, p)
	case TSnapshot:
		return coerceSnapshot(st, v, p)
	case TBool:
		return coerceBool(v, p)
	case TCall:
		return coerceCall(st, v, p)
	}
	return coerceNameOrPath(v, p)
}

// mismatch is the wrong-type diagnostic: "bits must be an integer, not a
// float".
func mismatch(v Value, p *Param) *diag.Diagnostic {
	if v.Kind == VIdent && isNumeric(p.Type) {
		return undefinedParam(v)
	}
	return diag.Errorf(v.Span, fmt.Sprintf("%s must be %s, not %s", p.Name, typeNoun(p), valueNoun(v)))
}

func isNumeric(t Type) bool {
	return t == TInt || t == TFloat || t == TFraction || t == TDuration || t == TBytes
}

// undefinedParam reports an identifier used where a value is needed.
func undefinedParam(v Value) *diag.Diagnostic {
	return diag.Errorf(v.Span, fmt.Sprintf("undefined parameter %q", v.Str)).
		WithDetail(fmt.Sprintf("define it above with `let %s = ...`, or loop over it with `for %s in [...] { ... }`", v.Str, v.Str))
}

func coerceNumber(v Value, p *Param) (Value, *diag.Diagnostic) {
	if v.Kind != VInt && v.Kind != VFloat {
		return Value{}, mismatch(v, p)
	}
	if v.Unit != "" && (v.Unit != "%" || p.Type != TFraction) {
		return Value{}, mismatch(v, p)
	}
	if p.Type == TInt && v.Kind != VInt {
		return Value{}, mismatch(v, p)
	}
	if p.Type != TInt && v.Kind == VInt {
		v.Kind, v.Float, v.Int = VFloat, float64(v.Int), 0
	}
	return v, checkRange(v, p)
}

func coerceQuantity(v Value, p *Param) (Value, *diag.Diagnostic) {
	if v.Kind != VInt && v.Kind != VFloat || v.Unit == "%" {
		return Value{}, mismatch(v, p)
	}
	if f := unitFamily(v.Unit); v.Unit != "" && f != p.Type {
		return Value{}, diag.Errorf(v.Span, fmt.Sprintf("%s takes %s, not a %s (%s)", p.Name, familyName(p.Type), shortFamily(f), v.Unit)).
			WithDetail(unitHelp)
	}
	if v.Kind == VInt {
		v.Kind, v.Float, v.Int = VFloat, float64(v.Int), 0
	}
	return v, checkRange(v, p)
}

func coerceString(v Value, p *Param) (Value, *diag.Diagnostic) {
	if v.Kind != VString {
		return Value{}, mismatch(v, p)
	}
	if p.Type == TPath && strings.TrimSpace(v.Str) == "" {
		return Value{}, diag.Errorf(v.Span, p.Name+" must not be empty")
	}
	return v, nil
}

// coerceList types every element with the list's element type and the
// param's bounds and names; a single value stands for a list of one.
func coerceList(st *State, v Value, p *Param) (Value, *diag.Diagnostic) {
	elem := *p
	elem.Type = p.Elem
	if v.Kind != VList {
		w, d := coerce(st, v, &elem)
		return Value{Kind: VList, List: []Value{w}, Expr: v.Expr, Span: v.Span}, d
	}
	out := v
	out.List = make([]Value, len(v.List))
	for i, el := range v.List {
		w, d := coerce(st, el, &elem)
		if d != nil {
			return Value{}, d
		}
		out.List[i] = w
	}
	return out, nil
}

func coerceEnum(v Value, p *Param) (Value, *diag.Diagnostic) {
	if v.Kind != VIdent {
		return Value{}, mismatch(v, p)
	}
	if !slices.Contains(p.Values, v.Str) {
		return Value{}, unknownValue(v, p, p.Values)
	}
	return v, nil
}

// unknownValue is `unknown activation "gleu"` with the near names.
func unknownValue(v Value, p *Param, known []string) *diag.Diagnostic {
	noun, list := "value", "values"
	summary := fmt.Sprintf("unknown value %q for %s", v.Str, p.Name)
	if p.Noun != "" {
		noun, list = p.Noun, plural(p.Noun)
		summary = fmt.Sprintf("unknown %s %q", noun, v.Str)
	}
	return diag.Errorf(v.Span, summary).WithDetail(didYouMean(v.Str, list, known))
}

func coerceKeyword(v Value, p *Param) (Value, *diag.Diagnostic) {
	if v.Kind != VIdent || len(p.Values) == 0 || v.Str != p.Values[0] {
		return Value{}, diag.Errorf(v.Span, fmt.Sprintf("expected %q, not %s", p.Values[0], wordText(v)))
	}
	return v, nil
}

func coerceNewName(v Value, p *Param) (Value, *diag.Diagnostic) {
	if v.Kind == VString {
		return Value{}, quotedName(v, p)
	}
	if v.Kind != VIdent {
		return Value{}, mismatch(v, p)
	}
	return v, nil
}

// quotedName reports a name written as a string: `snapshot "best"`.
func quotedName(v Value, p *Param) *diag.Diagnostic {
	return diag.Errorf(v.Span, fmt.Sprintf("%s must be a bare name, not a string", p.Name)).
		WithDetail("write it without quotes: " + v.Str)
}

func coerceSnapshot(st *State, v Value, p *Param) (Value, *diag.Diagnostic) {
	if v.Kind == VString {
		return Value{}, quotedName(v, p)
	}
	if v.Kind != VIdent {
		return Value{}, mismatch(v, p)
	}
	if _, ok := st.Snapshots[v.Str]; !ok {
		return Value{}, unknownSnapshot(st, v)
	}
	return v, nil
}

// unknownSnapshot is `unknown snapshot "teachr"` with the names in scope.
func unknownSnapshot(st *State, v Value) *diag.Diagnostic {
	d := diag.Errorf(v.Span, fmt.Sprintf("unknown snapshot %q", v.Str))
	names := sortedKeys(st.Snapshots)
	if len(names) == 0 {
		return d.WithDetail("no model is loaded yet, so there are no snapshots; `snapshot NAME` names the current model")
	}
	return d.WithDetail(didYouMean(v.Str, "snapshots", names))
}

func coerceBool(v Value, p *Param) (Value, *diag.Diagnostic) {
	if v.Kind == VIdent && (v.Str == "true" || v.Str == "false") {
		return Value{Kind: VBool, Bool: v.Str == "true", Expr: v.Expr, Span: v.Span}, nil
	}
	if v.Kind == VBool {
		return v, nil
	}
	return Value{}, mismatch(v, p)
}

func coerceNameOrPath(v Value, p *Param) (Value, *diag.Diagnostic) {
	switch v.Kind {
	case VString:
		return coerceString(v, &Param{Name: p.Name, Type: TPath})
	case VIdent:
		if slices.Contains(p.Values, v.Str) {
			return v, nil
		}
		d := unknownValue(v, p, p.Values)
		return Value{}, d.WithDetail(d.Detail + `; or give a file path in quotes`)
	}
	return Value{}, mismatch(v, p)
}

// checkRange enforces Min/Max; fractions default to [0, 1].
func checkRange(v Value, p *Param) *diag.Diagnostic {
	lo, hi := p.Min, p.Max
	if p.Type == TFraction && lo == nil && hi == nil {
		zero, one := 0.0, 1.0
		lo, hi = &zero, &one
	}
	x := v.Number()
	below := lo != nil && (x < *lo || p.MinOpen && x == *lo)
	above := hi != nil && (x > *hi || p.MaxOpen && x == *hi)
	if !below && !above {
		return nil
	}
	d := diag.Errorf(v.Span, fmt.Sprintf("%s must be %s", p.Name, rangeText(p, lo, hi)))
	return d.WithDetail("got " + valueText(v) + rangeHint(p))
}

func rangeHint(p *Param) string {
	if p.Type == TFraction {
		return "; a fraction is written 0.5 or 50%"
	}
	return ""
}

// rangeText is "between 1 and 16", "greater than 0", "at most 1" ...
func rangeText(p *Param, lo, hi *float64) string {
	if lo != nil && hi != nil && !p.MinOpen && !p.MaxOpen {
		return fmt.Sprintf("between %s and %s", num(*lo), num(*hi))
	}
	var parts []string
	if lo != nil {
		parts = append(parts, boundText(p.MinOpen, "greater than ", "at least ", *lo))
	}
	if hi != nil {
		parts = append(parts, boundText(p.MaxOpen, "less than ", "at most ", *hi))
	}
	return strings.Join(parts, " and ")
}

func boundText(open bool, strict, loose string, x float64) string {
	if open {
		return strict + num(x)
	}
	return loose + num(x)
}
