package check

import (
	"fmt"

	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/lang/syntax"
)

// let binds a parameter: a value known before the run (numbers,
// percents, quantities, strings, names, lists, constant arithmetic),
// replaced by --set when one names it.
func (c *Checker) let(st *State, s *syntax.Let) (*Step, diag.Diagnostics) {
	step := c.blockStep(KLet, "let", s, s.Sp)
	step.Name, step.Expr = s.Name.Name, s.Value
	if d := redefined(st, s.Name); d != nil {
		return step, diag.Diagnostics{d}
	}
	v, d := eval(st, s.Value)
	if d == nil && v.Kind == VExpr {
		d = diag.Errorf(v.Span, "a let value must be known before the run").
			WithDetail("references to snapshots and metrics are measured during the run; use them in expect")
	}
	if d != nil {
		return step, diag.Diagnostics{d}
	}
	if text, ok := c.opts.Sets[s.Name.Name]; ok {
		c.setUsed[s.Name.Name] = true
		sv, d := setValue(s, v, text)
		if d != nil {
			// Keep the recipe's value bound, so later uses of the name
			// do not add a spurious "undefined parameter".
			step.Value = v
			st.bind(s.Name.Name, step, v)
			return step, diag.Diagnostics{d}
		}
		v = sv
	}
	step.Value = v
	st.bind(s.Name.Name, step, v)
	return step, nil
}

// blockStep starts a Step for a statement the checker handles itself;
// Sig is the registry's entry for it when there is one (docs only).
func (c *Checker) blockStep(kind StepKind, verb string, node syntax.Stmt, sp source.Span) *Step {
	sig, _ := c.env.Lookup(verb)
	return &Step{Kind: kind, Verb: verb, Sig: sig, Node: node, Span: sp}
}

// redefined reports a name already in scope (a let or a loop variable).
func redefined(st *State, name *syntax.Ident) *diag.Diagnostic {
	prev, ok := st.Params[name.Name]
	if !ok {
		return nil
	}
	what := "a let"
	if prev.Kind == KFor {
		what = "the loop variable of the for"
	}
	return diag.Errorf(name.Sp, fmt.Sprintf("%q is already defined", name.Name)).
		WithDetail(fmt.Sprintf("%s is %s at line %d; pick another name (to change a let from outside, use --set %s=...)", name.Name, what, prev.Line(), name.Name))
}

// repeat checks `repeat N { body }`: N a positive integer, the body run in
// sequence. The body is checked twice when N >= 2 so order rules between
// iterations (a replace after the previous iteration's quantize) show up.
// Lets inside the body are local to it.
func (c *Checker) repeat(st *State, s *syntax.Repeat) (*Step, diag.Diagnostics) {
	step := c.blockStep(KRepeat, "repeat", s, s.Sp)
	n, ds := repeatCount(st, s.Count)
	step.Count = n
	var bds diag.Diagnostics
	step.Body, bds = c.block(st, s.Body)
	ds = append(ds, bds...)
	if n >= 2 && !c.again {
		c.again = true
		_, again := c.block(st, s.Body)
		c.again = false
		ds = append(ds, again...)
	}
	return step, dedupe(ds)
}

func repeatCount(st *State, e syntax.Expr) (int, diag.Diagnostics) {
	p := &Param{Name: "repeat count", Type: TInt, Min: ptr(1)}
	v, d := typed(st, e, p)
	if d != nil {
		return 0, diag.Diagnostics{d}
	}
	return int(v.Int), nil
}

// block checks statements in sequence against st; lets defined inside are
// dropped at the end.
func (c *Checker) block(st *State, b *syntax.Block) ([]*Step, diag.Diagnostics) {
	before := st.Clone()
	var steps []*Step
	var ds diag.Diagnostics
	for _, s := range b.Stmts {
		step, sds := c.stmt(st, s)
		ds = append(ds, sds...)
		if step != nil {
			steps = append(steps, step)
		}
	}
	st.unbindNew(before)
	return steps, ds
}

// forLoop checks `for x in [..] { body }`: a sweep. Each value forks the
// pipeline from the current state into an independent branch, checked
// with x bound to that value; x is in scope in the body only, and the
// state after the loop is the state before it (branches do not merge).
func (c *Checker) forLoop(st *State, s *syntax.For) (*Step, diag.Diagnostics) {
	step := c.blockStep(KFor, "for", s, s.Sp)
	step.Name = s.Var.Name
	if d := redefined(st, s.Var); d != nil {
		return step, diag.Diagnostics{d}
	}
	over, d := loopValues(st, s.Over)
	if d != nil {
		return step, diag.Diagnostics{d}
	}
	step.Over = over
	if c.fanout*len(over) > maxBranches {
		return step, diag.Diagnostics{diag.Errorf(s.Over.Span(), fmt.Sprintf("this sweep makes %d branches, more than %d", c.fanout*len(over), maxBranches)).
			WithDetail("each branch runs the rest of the block on its own model; sweep fewer values")}
	}
	c.fanout *= len(over)
	defer func() { c.fanout /= len(over) }()
	var ds diag.Diagnostics
	for _, v := range over {
		branch := st.Clone()
		branch.bind(s.Var.Name, step, v)
		body, bds := c.block(branch, s.Body)
		step.Branches = append(step.Branches, body)
		ds = append(ds, bds...)
	}
	step.Body = step.Branches[0]
	return step, dedupe(ds)
}

func loopValues(st *State, e syntax.Expr) ([]Value, *diag.Diagnostic) {
	v, d := eval(st, e)
	if d != nil {
		return nil, d
	}
	if v.Kind != VList {
		return nil, diag.Errorf(e.Span(), "for loops over a list or a range, not "+valueNoun(v)).
			WithDetail("write `for x in [2, 3, 4] { ... }` or `for x in 1..5 { ... }`")
	}
	if len(v.List) == 0 {
		return nil, diag.Errorf(e.Span(), "nothing to loop over: the list is empty")
	}
	return v.List, nil
}

// maxBranches bounds how many branches nested for loops may make.
const maxBranches = 10000

func ptr(x float64) *float64 { return &x }
