package check

import (
	"fmt"

	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/syntax"
)

// stmt checks one statement against st, advancing st.
func (c *Checker) stmt(st *State, s syntax.Stmt) (*Step, diag.Diagnostics) {
	switch s := s.(type) {
	case *syntax.Command:
		return c.commandStmt(st, s)
	case *syntax.Let:
		return c.let(st, s)
	case *syntax.Expect:
		return c.expect(st, s)
	case *syntax.Repeat:
		return c.repeat(st, s)
	case *syntax.For:
		return c.forLoop(st, s)
	}
	return nil, diag.Diagnostics{diag.Errorf(s.Span(), fmt.Sprintf("unsupported statement %T", s))}
}

// commandStmt types a command, enforces its needs, runs its Rules hook
// (only when it typed cleanly: rules may trust the values) and applies its
// effects (always, so one bad argument does not cascade).
func (c *Checker) commandStmt(st *State, cmd *syntax.Command) (*Step, diag.Diagnostics) {
	step, ds := c.command(st, cmd)
	if step == nil {
		return nil, ds
	}
	typedClean := !ds.HasErrors()
	ds = append(ds, c.needs(st, step)...)
	if typedClean && step.Sig.Rules != nil {
		ds = append(ds, step.Sig.Rules(st, step)...)
	}
	if typedClean {
		ds = append(ds, c.executable(step)...)
	}
	c.effects(st, step)
	return step, ds
}

// executable warns, once per statement, about a step the Env says this
// build checks and plans but cannot execute.
func (c *Checker) executable(step *Step) diag.Diagnostics {
	x, ok := c.env.(Executability)
	if !ok {
		return nil
	}
	what, at, not := x.NotExecutable(step)
	if !not || !c.first(fmt.Sprintf("exec@%d", step.Span.Start.Offset)) {
		return nil
	}
	if !at.IsValid() {
		at = step.Span
	}
	d := &diag.Diagnostic{Severity: diag.Warning, Span: at, Summary: fmt.Sprintf("checked, not executable in this build: %q", what),
		Detail: "qpipe check and qpipe plan accept it and show what it would do; qpipe run refuses the recipe until its engine exists"}
	if c.opts.RequireExecutable {
		d.Severity, d.Detail = diag.Error, "its engine is not written yet, so nothing runs; `qpipe plan` shows what it would do"
	}
	return diag.Diagnostics{d}
}

// needs enforces Effects.NeedsModel and NeedsData. In a file, each is
// reported once: the first statement that lacks a model says so.
func (c *Checker) needs(st *State, step *Step) diag.Diagnostics {
	var ds diag.Diagnostics
	e := step.Effects()
	if e.NeedsModel && !st.ModelLoaded && c.first("model") {
		ds = append(ds, diag.Errorf(step.Span, fmt.Sprintf("%s needs a model, and none is loaded", step.title())).
			WithDetail("add `model NAME` (or `model \"file.onnx\"`) above this line, or pass --model"))
	}
	if e.NeedsData && !st.DataLoaded && c.first("data") {
		ds = append(ds, diag.Errorf(step.Span, fmt.Sprintf("%s needs data, and no dataset is loaded", step.title())).
			WithDetail("add `data NAME` (or `data imagefolder \"dir/\"`) above this line, or pass --data"))
	}
	return ds
}

// first reports whether a once-per-file diagnostic is due.
func (c *Checker) first(key string) bool {
	if !c.file {
		return true
	}
	if c.once[key] {
		return false
	}
	c.once[key] = true
	return true
}

// effects applies the generic state changes of a command: loading the
// model or data, a new model version, and the metrics it records.
func (c *Checker) effects(st *State, step *Step) {
	e := step.Effects()
	if e.LoadsModel && !st.ModelLoaded {
		st.LoadModel(step)
	}
	if e.LoadsData {
		st.DataLoaded = true
		st.inheritData(step, c.opts.DataArgs)
	}
	if e.ChangesModel {
		st.ChangeModel(step)
	}
	for _, m := range step.Sig.Metrics {
		if m.When == "" || step.HasWord(m.When) {
			step.Metrics = append(step.Metrics, m.Name)
			st.RecordMetric(m.Name, step)
		}
	}
}

// HasWord reports whether some word of the step (or its variant) is the
// identifier w.
func (s *Step) HasWord(w string) bool {
	if s.Variant == w {
		return true
	}
	for _, v := range s.Words {
		if v.Kind == VIdent && v.Str == w {
			return true
		}
		for _, e := range v.List {
			if e.Kind == VIdent && e.Str == w {
				return true
			}
		}
	}
	return false
}

// Effects returns what the step's verb (or its variant) needs and does.
func (s *Step) Effects() Effects {
	if s.Sig == nil {
		return Effects{}
	}
	if v := s.Sig.Variant(s.Variant); v != nil && v.Effects != nil {
		return *v.Effects
	}
	return s.Sig.Effects
}
