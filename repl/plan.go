package repl

import (
	"context"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/syntax"
	"github.com/qpipe/qpipe/planner"
)

// planName is the recipe name :plan shows.
const planName = "(session)"

// plan shows what has run, then the plan of every statement so far: the
// plan `qpipe plan` prints for the recipe :save writes (command-line
// bindings written into it as statements), so its line numbers are that
// file's.
func (s *Session) plan(_ context.Context, _ string) {
	if len(s.entries) == 0 {
		s.say("nothing typed yet")
		return
	}
	s.say("%s", s.ranText())
	text, err := s.recipe(planName)
	if err != nil {
		s.say("cannot plan: %v", err)
		return
	}
	f, ds := syntax.Parse(planName, text)
	rec, cds := check.Check(f, s.opts.Env, check.Options{Sets: s.opts.Check.Sets})
	if ds = append(ds, cds...); ds.HasErrors() {
		(&diag.Printer{Sources: diag.FileMap{planName: f.Source}, Color: s.opts.Color}).Fprint(s.opts.Out, ds)
		return
	}
	p, err := planner.Build(rec, s.opts.Plan)
	if err == nil {
		err = planner.Text(s.opts.Out, p)
	}
	if err != nil {
		s.say("cannot plan: %v", err)
	}
}

// ranText says which statements have run.
func (s *Session) ranText() string {
	if s.exec == nil {
		return "run so far: nothing (execution is not available yet); the statements would do:"
	}
	n := 0
	for _, e := range s.entries {
		if e.ran {
			n++
		}
	}
	return "run so far: " + itoa(n) + " of " + itoa(len(s.entries)) + " statements; together they do:"
}
