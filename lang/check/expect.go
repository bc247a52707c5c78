package check

import (
	"fmt"

	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/syntax"
)

// kind is the type of an expect subexpression: a number (fractions and
// percents included), a time, a size, or a condition.
type kind int

const (
	kBad kind = iota // already reported
	kNum
	kTime
	kSize
	kBool
)

func (k kind) String() string {
	switch k {
	case kTime:
		return "a time"
	case kSize:
		return "a size"
	case kBool:
		return "a condition"
	}
	return "a number"
}

func kindOfType(t Type) kind {
	switch t {
	case TDuration:
		return kTime
	case TBytes:
		return kSize
	case TBool:
		return kBool
	}
	return kNum
}

// expect type-checks a condition over metrics: every metric it names must
// be recorded by an earlier step, every snapshot must exist, and both
// sides of a comparison must be of one family (numbers, times, sizes).
func (c *Checker) expect(st *State, s *syntax.Expect) (*Step, diag.Diagnostics) {
	step := c.blockStep(KExpect, "expect", s, s.Sp)
	step.Expr = s.Cond
	k, ds := c.kindOf(st, step, s.Cond)
	if k != kBad && k != kBool {
		ds = append(ds, diag.Errorf(s.Cond.Span(), fmt.Sprintf("expect needs a condition, not %s", k)).
			WithDetail("compare a metric with a bound, such as `expect accuracy >= 0.9` or `expect latency < 5ms`"))
	}
	return step, ds
}

func (c *Checker) kindOf(st *State, step *Step, e syntax.Expr) (kind, diag.Diagnostics) {
	switch e := e.(type) {
	case *syntax.Number, *syntax.Percent:
		return kNum, nil
	case *syntax.Quantity:
		return quantityKind(e)
	case *syntax.Ident:
		return c.identKind(st, step, e)
	case *syntax.Ref:
		return c.refKind(st, step, e)
	case *syntax.Paren:
		return c.kindOf(st, step, e.X)
	case *syntax.Unary:
		return c.negKind(st, step, e)
	case *syntax.Binary:
		return c.binaryKind(st, step, e)
	}
	v, _ := eval(st, e)
	return kBad, diag.Diagnostics{diag.Errorf(e.Span(), fmt.Sprintf("expect compares numbers, times and sizes; %s is not allowed here", valueNoun(v)))}
}

func quantityKind(e *syntax.Quantity) (kind, diag.Diagnostics) {
	if _, d := quantity(e); d != nil {
		return kBad, diag.Diagnostics{d}
	}
	return kindOfType(unitFamily(e.Unit)), nil
}

func (c *Checker) negKind(st *State, step *Step, e *syntax.Unary) (kind, diag.Diagnostics) {
	k, ds := c.kindOf(st, step, e.X)
	if k == kBool {
		return kBad, append(ds, diag.Errorf(e.Sp, "cannot negate a condition"))
	}
	return k, ds
}

func (c *Checker) binaryKind(st *State, step *Step, e *syntax.Binary) (kind, diag.Diagnostics) {
	x, ds := c.kindOf(st, step, e.X)
	y, yds := c.kindOf(st, step, e.Y)
	ds = append(ds, yds...)
	if x == kBad || y == kBad {
		return kBad, ds
	}
	k, d := combine(e, x, y)
	if d != nil {
		return kBad, append(ds, d)
	}
	if k == kBool && e.Op != "and" && e.Op != "or" {
		ds = append(ds, c.fractionBound(st, e)...)
	}
	return k, ds
}

// combine types `x op y`.
func combine(e *syntax.Binary, x, y kind) (kind, *diag.Diagnostic) {
	switch e.Op {
	case "and", "or":
		if x == kBool && y == kBool {
			return kBool, nil
		}
		return kBad, diag.Errorf(e.OpSp, fmt.Sprintf("%q needs a condition on each side", e.Op))
	case "==", "!=", "<", "<=", ">", ">=":
		return compareKinds(e, x, y)
	}
	return arithKinds(e, x, y)
}

func compareKinds(e *syntax.Binary, x, y kind) (kind, *diag.Diagnostic) {
	if x == y && (x != kBool || e.Op == "==" || e.Op == "!=") {
		return kBool, nil
	}
	d := diag.Errorf(e.OpSp, fmt.Sprintf("cannot compare %s with %s", x, y))
	if x == kTime || y == kTime || x == kSize || y == kSize {
		d.WithDetail("write the unit on the bound: `latency < 5ms`, `size <= 2MB`")
	}
	return kBad, d
}

func arithKinds(e *syntax.Binary, x, y kind) (kind, *diag.Diagnostic) {
	switch {
	case x == kBool || y == kBool:
	case (e.Op == "+" || e.Op == "-") && x == y:
		return x, nil
	case e.Op == "*" && (x == kNum || y == kNum):
		return max(x, y), nil
	case e.Op == "/" && y == kNum:
		return x, nil
	case e.Op == "/" && x == y:
		return kNum, nil
	}
	return kBad, diag.Errorf(e.OpSp, fmt.Sprintf("cannot %s %s and %s", opVerb(e.Op), x, y))
}

// fractionBound warns when a fraction metric is compared with a plain
// number above 1 (`accuracy >= 90` can never hold).
func (c *Checker) fractionBound(st *State, e *syntax.Binary) diag.Diagnostics {
	for _, pair := range [][2]syntax.Expr{{e.X, e.Y}, {e.Y, e.X}} {
		name := metricName(pair[0])
		n, ok := pair[1].(*syntax.Number)
		if m, known := c.metrics[name]; known && ok && m.Type == TFraction && n.Value > 1 {
			return diag.Diagnostics{&diag.Diagnostic{Severity: diag.Warning, Span: n.Sp,
				Summary: fmt.Sprintf("%s is a fraction between 0 and 1, so it is never compared with %s", name, n.Text),
				Detail:  fmt.Sprintf("write %s%% or %s", n.Text, num(n.Value/100))}}
		}
	}
	return nil
}

// metricName is the metric an identifier or reference names, or "".
func metricName(e syntax.Expr) string {
	switch e := e.(type) {
	case *syntax.Ident:
		return e.Name
	case *syntax.Ref:
		return e.Parts[len(e.Parts)-1].Name
	}
	return ""
}
