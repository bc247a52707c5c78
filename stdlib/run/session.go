package run

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/syntax"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/planner"
)

// Session executes steps one at a time on a live state, for the REPL:
// no report and no checkpoints; Clone gives :undo its copy.
type Session struct {
	env   Env
	st    *State
	scope map[string]check.Value
	index int
}

// SessionOptions configure a session.
type SessionOptions struct {
	// Model and Data are --model and --data.
	Model, Data string
	Device      string // "" means cpu
	Seed        uint64
	// OutDir receives exports.
	OutDir string
	// Tick, when set, sees progress of long steps.
	Tick func(Tick)
}

// NewSession starts an empty session; the backend is created on the
// first step that needs it.
func NewSession(o SessionOptions) *Session {
	if o.Device == "" {
		o.Device = "cpu"
	}
	env := Env{Device: o.Device, Seed: o.Seed, OutDir: o.OutDir, Model: o.Model, Tick: o.Tick}
	if o.Data != "" {
		env.DataBind = &DataSpec{Name: o.Data}
	}
	if env.Tick == nil {
		env.Tick = func(Tick) {}
	}
	return &Session{env: env, st: NewState(), scope: map[string]check.Value{}}
}

// Exec runs one checked top-level step: a command, let or expect, or a
// whole repeat or for block. The step is planned (planner.Build, as
// `qpipe plan` would plan it) and the plan executed on the live state;
// after a for block the state is the one before it, as in a run.
func (s *Session) Exec(ctx context.Context, step *check.Step) (*Outcome, error) {
	if s.env.Backend == nil {
		be, err := ops.NewBackend(s.env.Device)
		if err != nil {
			return nil, err
		}
		s.env.Backend = be
	}
	if err := s.bindFlags(); err != nil {
		return nil, err
	}
	p, err := planner.Build(&check.Recipe{File: &syntax.File{}, Steps: []*check.Step{step}, Lets: s.scope}, planner.Options{})
	if err != nil {
		return nil, err
	}
	total := &collector{out: &Outcome{Metrics: map[string]float64{}}}
	env := s.env
	env.IndexBase = s.index
	st, err := (&Local{Env: env}).ExecuteFrom(ctx, s.st, p, nil, total)
	s.index += len(p.Work())
	if err != nil {
		return nil, err
	}
	s.st = st
	if step.Kind == check.KLet {
		s.scope[step.Name] = step.Value
	}
	return total.out, nil
}

// collector gathers the summaries and metrics of a session's nodes.
type collector struct{ out *Outcome }

func (c *collector) Started(StepReport)        {}
func (c *collector) Progress(StepReport, Tick) {}
func (c *collector) Finished(e StepReport) {
	if e.Summary != "" {
		if c.out.Summary != "" {
			c.out.Summary += "\n"
		}
		c.out.Summary += e.Summary
	}
	maps.Copy(c.out.Metrics, e.Metrics)
}

// bindFlags binds --model and --data before the first step, as the runner
// does for a recipe without model or data lines.
func (s *Session) bindFlags() error {
	if s.index > 0 {
		return nil
	}
	if d := s.env.DataBind; d != nil && s.st.Data == nil {
		ds, err := openData(&s.env, *d)
		if err != nil {
			return fmt.Errorf("--data %s: %w", d.Name, err)
		}
		s.st.Data = ds
	}
	if s.env.Model != "" && s.st.Model == nil && s.st.Pending == nil {
		return bindModel(&s.env, s.st, s.env.Model)
	}
	return nil
}

// Clone returns an independent copy of the session.
func (s *Session) Clone() *Session {
	return &Session{env: s.env, st: s.st.Clone(), scope: maps.Clone(s.scope), index: s.index}
}

// State is the live state.
func (s *Session) State() *State { return s.st }

// Metrics are the current model's measured values (checker names).
func (s *Session) Metrics() map[string]float64 { return maps.Clone(s.st.Metrics) }

// Summary describes the live state, one fact a line.
func (s *Session) Summary() string {
	var b strings.Builder
	st := s.st
	switch {
	case st.Model != nil:
		fmt.Fprintf(&b, "model: %s, %d parameters, input %v, %d classes\n", st.Model.Name, st.Model.ParamCount(), st.Meta.Input, st.Meta.Classes)
	case st.Pending != nil:
		fmt.Fprintf(&b, "model: %s (built when data is bound)\n", st.Pending.Name)
	default:
		b.WriteString("model: none\n")
	}
	if st.Data != nil {
		b.WriteString(dataSummary(st.Data) + "\n")
	}
	for _, name := range sortedNames(st.Snapshots) {
		fmt.Fprintf(&b, "snapshot %s: %d parameters\n", name, st.Snapshots[name].Model.ParamCount())
	}
	return strings.TrimRight(b.String(), "\n")
}

func sortedNames(m map[string]*Snapshot) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
