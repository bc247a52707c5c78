package repl

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/syntax"
	"github.com/qpipe/qpipe/planner"
	"github.com/qpipe/qpipe/repl/assist"
)

// Executor runs checked steps on a real model. The session calls it after
// every statement of an input checks; a nil Executor means there is no
// engine yet. An executor is a value the session can copy: Clone before a
// step, and :undo goes back to the copy.
type Executor interface {
	// Exec runs one checked top-level step on the live model.
	Exec(ctx context.Context, step *check.Step) (Result, error)
	// Clone returns an independent copy of the live state.
	Clone() Executor
	// Summary describes the live model for :state (layers, parameters,
	// sizes), one fact a line.
	Summary() string
	// Metrics is the measured metrics table for :metrics.
	Metrics() map[string]float64
}

// Result is what one executed step reports.
type Result struct {
	// Summary is one line saying what happened.
	Summary string
	// Metrics are the values the step measured.
	Metrics map[string]float64
}

// Options configure a session.
type Options struct {
	// Env is the vocabulary (stdlib.Env()).
	Env check.Env
	// Check are the checker's options; Model and Data below are applied
	// through them.
	Check check.Options
	// Model and Data are --model and --data; :save writes them into the
	// recipe when no statement binds them, so the file stands alone.
	Model, Data string
	// Exec runs steps; nil until the engine exists.
	Exec Executor
	// Out receives everything the session prints.
	Out io.Writer
	// Color paints prompts and notes; set it only for a terminal.
	Color bool
	// Plan are the planner options :plan uses: qpipe plan's, so it shows
	// the same resolved model, FLOPs and sizes. Bindings come from the
	// statements, not from here.
	Plan planner.Options
}

// Session is a live pipeline fed one input at a time.
type Session struct {
	opts    Options
	checker *check.Checker
	exec    Executor
	entries []entry
	undo    []frame
	inputs  int
	done    bool
}

// entry is one accepted top-level statement.
type entry struct {
	text string
	step *check.Step
	ran  bool
}

// frame is the state before one accepted statement. The executor is
// cloned just before the statement runs (statements of one input are all
// checked first, then run in order).
type frame struct {
	checker *check.Checker
	exec    Executor
}

// NewSession starts a session with the bindings in opts.
func NewSession(opts Options) *Session {
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	return &Session{opts: opts, checker: check.NewChecker(opts.Env, opts.Check), exec: opts.Exec}
}

// SetOutput redirects what the session prints.
func (s *Session) SetOutput(w io.Writer) { s.opts.Out = w }

// Done reports whether :quit was given.
func (s *Session) Done() bool { return s.done }

// State is the live checked state.
func (s *Session) State() *check.State { return s.checker.State() }

// Source is the recipe typed so far, one statement a line.
func (s *Session) Source() string {
	var b strings.Builder
	for _, e := range s.entries {
		b.WriteString(e.text)
		b.WriteByte('\n')
	}
	return b.String()
}

// Eval runs one complete input: a meta-command, or statements.
func (s *Session) Eval(ctx context.Context, input string) {
	if strings.TrimSpace(input) == "" {
		return
	}
	if cmd, ok := strings.CutPrefix(strings.TrimSpace(input), ":"); ok {
		s.meta(ctx, cmd)
		return
	}
	s.inputs++
	s.statements(ctx, "repl", []byte(input))
}

// Complete returns the partial field before the cursor and the texts that
// may replace it; text is the whole input up to the cursor.
func (s *Session) Complete(text string) (string, []assist.Candidate) {
	if cmd, ok := strings.CutPrefix(strings.TrimLeft(text, " "), ":"); ok {
		return s.completeMeta(cmd)
	}
	return assist.Complete(s.opts.Env, s.checker.State(), text)
}

// statements parses and checks an input all or nothing, then runs it.
func (s *Session) statements(ctx context.Context, name string, text []byte) bool {
	f, ds := syntax.Parse(name, text)
	p := &diag.Printer{Sources: diag.FileMap{name: f.Source}, Color: s.opts.Color}
	if ds.HasErrors() {
		p.Fprint(s.opts.Out, ds)
		return false
	}
	before := len(s.entries)
	for _, st := range f.Stmts {
		if !s.checkStmt(p, f, st) {
			s.rollback(before)
			return false
		}
	}
	s.run(ctx, before)
	return true
}

// checkStmt checks one statement against the live state and records it.
func (s *Session) checkStmt(p *diag.Printer, f *syntax.File, st syntax.Stmt) bool {
	fr := frame{checker: s.checker.Clone(), exec: s.exec}
	step, ds := s.checker.Stmt(st)
	p.Fprint(s.opts.Out, ds)
	if ds.HasErrors() {
		s.checker = fr.checker
		return false
	}
	sp := st.Span()
	s.undo = append(s.undo, fr)
	s.entries = append(s.entries, entry{text: string(f.Source.Text[sp.Start.Offset:sp.End.Offset]), step: step})
	return true
}

// rollback forgets the entries from index n on, restoring their state.
func (s *Session) rollback(n int) {
	if n >= len(s.entries) {
		return
	}
	fr := s.undo[n]
	s.checker, s.exec = fr.checker, fr.exec
	s.entries, s.undo = s.entries[:n], s.undo[:n]
}

// run executes the entries from index n on, or says why it cannot.
func (s *Session) run(ctx context.Context, n int) {
	for i := n; i < len(s.entries); i++ {
		e := &s.entries[i]
		s.say("%s", describe(e.step))
		if s.exec == nil {
			if needsEngine(e.step) {
				s.note("execution is not available yet for `%s`; the step is checked and kept in the plan", e.step.Verb)
			}
			continue
		}
		s.undo[i].exec = s.exec.Clone()
		res, err := s.exec.Exec(ctx, e.step)
		if err != nil && ctx.Err() != nil {
			s.note("line %d: %s interrupted; the state is back to before it and the session goes on", e.step.Line(), e.step.Verb)
			s.rollback(i)
			return
		}
		if err != nil {
			s.note("line %d: %s failed: %v; the state is back to before it", e.step.Line(), e.step.Verb, err)
			s.rollback(i)
			return
		}
		e.ran = true
		s.report(res)
	}
}

// needsEngine is false for statements the checker fully evaluates.
func needsEngine(st *check.Step) bool { return st.Kind != check.KLet }

func (s *Session) report(res Result) {
	if res.Summary != "" {
		s.say("%s", res.Summary)
	}
	for _, k := range sortedKeys(res.Metrics) {
		s.say("  %s = %s", k, check.FormatMetric(k, res.Metrics[k]))
	}
}

// say prints one line.
func (s *Session) say(format string, args ...any) {
	fmt.Fprintf(s.opts.Out, format+"\n", args...)
}

// note prints one dimmed line of commentary.
func (s *Session) note(format string, args ...any) {
	s.say("%s", s.paint("2", fmt.Sprintf(format, args...)))
}

// paint wraps text in an SGR colour when the session is on a terminal.
func (s *Session) paint(sgr, text string) string {
	if !s.opts.Color {
		return text
	}
	return "\x1b[" + sgr + "m" + text + "\x1b[0m"
}
