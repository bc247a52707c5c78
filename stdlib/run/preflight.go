package run

import (
	"fmt"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/lang/syntax"
)

// Preflight finds, before anything runs, every step this build cannot
// execute (a verb, a variant or a word without an engine yet) and every
// step whose options are wrong for this run (an export path outside the
// output directory), so a long run never fails late on them. Each
// diagnostic is located at the verb, word or path.
func (r *Runner) Preflight() diag.Diagnostics {
	var ds diag.Diagnostics
	seen := map[int]bool{} // a for body's statements are checked once per branch
	for _, n := range r.plan.Work() {
		if n.Step == nil || seen[n.Step.Span.Start.Offset] {
			continue
		}
		seen[n.Step.Span.Start.Offset] = true
		if d := r.preflightStep(n.Step); d != nil {
			ds = append(ds, d)
		}
	}
	return ds
}

func (r *Runner) preflightStep(s *check.Step) *diag.Diagnostic {
	if what, at, not := notExecutableStep(s); not {
		return notExecutable(what, at)
	}
	if v, _ := lookup(s.Verb); v.Prepare != nil {
		if err := v.Prepare(&r.env, s); err != nil {
			return diag.Errorf(pathSpan(s), err.Error())
		}
	}
	return nil
}

func notExecutable(what string, at source.Span) *diag.Diagnostic {
	return diag.Errorf(at, fmt.Sprintf("%q is not yet executable", what)).
		WithDetail("this build checks and plans it, but its engine is not written yet; `qpipe plan` shows what it would do")
}

// verbSpan is the span of a command's verb, or of the whole statement.
func verbSpan(s *check.Step) source.Span {
	if cmd, ok := s.Node.(*syntax.Command); ok {
		return cmd.Verb.Sp
	}
	return s.Span
}

// pathSpan is the span of a step's path word, or of its verb.
func pathSpan(s *check.Step) source.Span {
	if p, ok := s.Words["path"]; ok && p.Span.IsValid() {
		return p.Span
	}
	return verbSpan(s)
}
