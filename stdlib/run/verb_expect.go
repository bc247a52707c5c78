package run

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/syntax"
)

func init() {
	Register("expect", Verb{Run: runExpect})
	Register("let", Verb{Run: runLet})
}

func runLet(ctx context.Context, env *Env, st *State, step *check.Step) (*Outcome, error) {
	return &Outcome{Summary: fmt.Sprintf("let %s = %s", step.Name, step.Value.String())}, nil
}

// ExpectError is a condition that did not hold, with both sides' values.
type ExpectError struct {
	Cond        string
	Left, Right string // "accuracy = 0.9712"
	// Gate is the condition as a threshold on one metric, when it is one.
	Gate *Gate
}

// StepSeries keeps the failed gate on the report entry (SeriesError).
func (e *ExpectError) StepSeries() *Series {
	if e.Gate == nil {
		return nil
	}
	return &Series{Gate: e.Gate}
}

func (e *ExpectError) Error() string {
	// The runner and the CLI add "expect failed:" / "expect:" before it.
	return fmt.Sprintf("%s is false (%s; %s)", e.Cond, e.Left, e.Right)
}

func runExpect(ctx context.Context, env *Env, st *State, step *check.Step) (*Outcome, error) {
	if err := lazyRefs(ctx, env, st, step); err != nil {
		return nil, err
	}
	ev := &exprEval{env: env, st: st}
	if len(step.Refs) > 0 {
		ev.metric = step.Refs[0].Metric
	}
	v, err := ev.eval(step.Expr)
	if err != nil {
		return nil, err
	}
	cond := ev.text(step.Expr)
	gate := ev.gate(step.Expr, v != 0)
	if v == 0 {
		l, r := ev.sides(step.Expr)
		return nil, &ExpectError{Cond: cond, Left: l, Right: r, Gate: gate}
	}
	l, r := ev.sides(step.Expr)
	out := &Outcome{Summary: fmt.Sprintf("expect %s holds (%s; %s)", cond, l, r)}
	if gate != nil {
		out.Series = &Series{Gate: gate}
	}
	return out, nil
}

// lazyRefs measures the snapshot metrics no step evaluated on the
// snapshot itself, with the settings of the evaluate step the checker
// named.
func lazyRefs(ctx context.Context, env *Env, st *State, step *check.Step) error {
	for _, ref := range step.Refs {
		snap := st.Snapshots[ref.Snapshot]
		if ref.Snapshot == "" || snap == nil {
			continue
		}
		if _, ok := snap.Metrics[ref.Metric]; ok || ref.Source == nil {
			continue
		}
		m, r, _, err := measure(ctx, env, snap.Model, st, ref.Source, map[string]bool{ref.Metric: true})
		if err != nil {
			return fmt.Errorf("measuring %s.%s: %w", ref.Snapshot, ref.Metric, err)
		}
		for k, v := range m {
			snap.Metrics[k] = v
		}
		for k, v := range r {
			snap.Reported[k] = v
		}
	}
	return nil
}

// exprEval evaluates an expect condition to a number (conditions are 1 or
// 0) in base units: fractions, seconds, bytes.
type exprEval struct {
	env *Env
	st  *State
	// metric is the condition's first metric: both sides print in its
	// units (check.FormatMetric: accuracy 85.79%, not 0.857939).
	metric string
}

func (ev *exprEval) text(e syntax.Expr) string {
	sp := e.Span()
	if src := ev.env.Source; src != nil && sp.End.Offset <= len(src.Text) && sp.Start.Offset < sp.End.Offset {
		return string(src.Text[sp.Start.Offset:sp.End.Offset])
	}
	return fmt.Sprintf("%T", e)
}

// sides renders both operands of the top comparison with their values.
func (ev *exprEval) sides(e syntax.Expr) (string, string) {
	b, ok := e.(*syntax.Binary)
	if !ok {
		v, _ := ev.eval(e)
		return ev.text(e) + " = " + ev.format(v), ""
	}
	return ev.side(b.X), ev.side(b.Y)
}

func (ev *exprEval) side(e syntax.Expr) string {
	v, err := ev.eval(e)
	if err != nil {
		return fmt.Sprintf("%s: %v", ev.text(e), err)
	}
	return ev.text(e) + " = " + ev.format(v)
}

// format prints a side's value in the condition's metric's units.
func (ev *exprEval) format(v float64) string {
	if ev.metric == "" {
		return fmt.Sprintf("%.6g", v)
	}
	return check.FormatMetric(ev.metric, v)
}

func (ev *exprEval) eval(e syntax.Expr) (float64, error) {
	switch e := e.(type) {
	case *syntax.Number:
		return e.Value, nil
	case *syntax.Percent:
		return e.Value / 100, nil
	case *syntax.Quantity:
		return quantity(e)
	case *syntax.Paren:
		return ev.eval(e.X)
	case *syntax.Ident:
		return ev.ident(e)
	case *syntax.Ref:
		return ev.ref(e)
	case *syntax.Unary:
		v, err := ev.eval(e.X)
		return -v, err
	case *syntax.Binary:
		return ev.binary(e)
	}
	return 0, fmt.Errorf("cannot evaluate %s in expect", ev.text(e))
}

func (ev *exprEval) ident(e *syntax.Ident) (float64, error) {
	if v, ok := ev.env.Scope[e.Name]; ok && (v.Kind == check.VInt || v.Kind == check.VFloat) {
		return v.Number(), nil
	}
	if v, ok := ev.st.Metrics[e.Name]; ok {
		return v, nil
	}
	return 0, fmt.Errorf("%s was not measured on the current model; known: %v", e.Name, SortedKeys(ev.st.Metrics))
}

func (ev *exprEval) ref(e *syntax.Ref) (float64, error) {
	snap, metric := e.Parts[0].Name, e.Parts[len(e.Parts)-1].Name
	s := ev.st.Snapshots[snap]
	if s == nil {
		return 0, fmt.Errorf("no snapshot %s", snap)
	}
	if v, ok := s.Metrics[metric]; ok {
		return v, nil
	}
	return 0, fmt.Errorf("%s was not measured on snapshot %s", metric, snap)
}

func (ev *exprEval) binary(e *syntax.Binary) (float64, error) {
	x, err := ev.eval(e.X)
	if err != nil {
		return 0, err
	}
	y, err := ev.eval(e.Y)
	if err != nil {
		return 0, err
	}
	return applyOp(e.Op, x, y)
}

func applyOp(op string, x, y float64) (float64, error) {
	b := func(c bool) (float64, error) {
		if c {
			return 1, nil
		}
		return 0, nil
	}
	switch op {
	case "+":
		return x + y, nil
	case "-":
		return x - y, nil
	case "*":
		return x * y, nil
	case "/":
		if y == 0 {
			return math.NaN(), fmt.Errorf("division by zero")
		}
		return x / y, nil
	case "<":
		return b(x < y)
	case "<=":
		return b(x <= y)
	case ">":
		return b(x > y)
	case ">=":
		return b(x >= y)
	case "==":
		return b(x == y)
	case "!=":
		return b(x != y)
	case "and":
		return b(x != 0 && y != 0)
	case "or":
		return b(x != 0 || y != 0)
	}
	return 0, fmt.Errorf("unknown operator %q", op)
}

// units scales a quantity to seconds or bytes, as the checker does.
var units = map[string]float64{
	"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "min": 60, "h": 3600,
	"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30,
}

func quantity(e *syntax.Quantity) (float64, error) {
	s, ok := units[e.Unit]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q", e.Unit)
	}
	return e.Value * s, nil
}

// SortedKeys lists a metric map's names in order.
func SortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
