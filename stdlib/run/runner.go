package run

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"time"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
)

// Options configure a run.
type Options struct {
	// Recipe is the checked recipe (no errors); Path is its file name as
	// given, recorded in the report and anchoring its input paths.
	Recipe *check.Recipe
	Path   string
	// Device is the backend name (cpu, cuda); "" means cpu.
	Device string
	// Seed seeds weights (unless a model line sets seed=), shuffling and
	// augmentation.
	Seed uint64
	// OutDir receives report.json, checkpoints/ and exports.
	OutDir string
	// Resume continues after the last finished step of the report in
	// OutDir.
	Resume bool
	// Model and Data override the recipe's model and data lines (and bind
	// them when the recipe has none).
	Model string
	Data  *DataSpec
	// DataOptions are the base dataset options (cache folder, offline).
	DataOptions data.Options
	// Observer sees steps start, progress and finish; nil for none.
	Observer Observer
	// Render, when set, is called after every rewrite of report.json
	// with the report as it stands (report.html; stdlib/run/htmlreport).
	Render func(outDir string, r *Report)
}

// Observer is told about the run as it goes, to draw progress.
type Observer interface {
	// Started is called before a step runs (Status is "").
	Started(s StepReport)
	// Progress reports a long step's work.
	Progress(s StepReport, t Tick)
	// Finished is called with the step's final entry (done, restored or
	// failed).
	Finished(s StepReport)
}

// ErrInterrupted is the error of a run stopped by its context.
var ErrInterrupted = errors.New("interrupted")

// StepError is a step that failed, located at its recipe line.
type StepError struct {
	Step *check.Step
	Err  error
}

func (e *StepError) Error() string {
	if errors.Is(e.Err, ErrInterrupted) {
		return fmt.Sprintf("%s: %s interrupted", e.Step.Span, e.Step.Verb)
	}
	return fmt.Sprintf("%s: %s: %v", e.Step.Span, e.Step.Verb, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// Runner executes a checked recipe step by step.
type Runner struct {
	opts   Options
	plan   []planned
	env    Env
	report *Report
	// oldSteps are the finished steps of the run being resumed.
	oldSteps []StepReport
}

// New prepares a run: the backend, the executed steps in order.
func New(opts Options) (*Runner, error) {
	if opts.Device == "" {
		opts.Device = "cpu"
	}
	be, err := ops.NewBackend(opts.Device)
	if err != nil {
		return nil, err
	}
	src := opts.Recipe.File.Source
	r := &Runner{opts: opts, plan: flatten(opts.Recipe.Steps, src)}
	r.env = Env{Backend: be, Device: opts.Device, Seed: opts.Seed, OutDir: opts.OutDir,
		RecipeDir: filepath.Dir(opts.Path), Data: opts.DataOptions, Model: opts.Model, DataBind: opts.Data, Source: src}
	r.report = &Report{Recipe: opts.Path, Device: opts.Device, Seed: opts.Seed, Steps: []StepReport{}}
	return r, nil
}

// SetObserver sets who sees the run's progress.
func (r *Runner) SetObserver(o Observer) { r.opts.Observer = o }

// Steps is the number of steps the run executes (repeat unrolled, every
// branch of every for counted).
func (r *Runner) Steps() int { return len(r.plan) }

// Report is the report as it stands.
func (r *Runner) Report() *Report { return r.report }

// Run executes the recipe, rewriting OutDir/report.json after every step
// and checkpointing the state. A failing step stops the run with a
// *StepError; the steps after it are reported as skipped.
func (r *Runner) Run(ctx context.Context) (*Report, error) {
	if ds := r.Preflight(); ds.HasErrors() {
		return r.report, ds
	}
	restore, err := r.resumePoint()
	if err != nil {
		return r.report, err
	}
	if err := r.writeReport(); err != nil {
		return r.report, fmt.Errorf("output directory %s is not writable: %w", r.opts.OutDir, unwrapPath(err))
	}
	w := &walker{r: r, restore: restore, lazy: -1, scope: maps.Clone(r.opts.Recipe.Lets)}
	err = w.steps(ctx, r.opts.Recipe.Steps)
	if err != nil {
		r.skipRest(w.index)
	}
	if werr := r.writeReport(); werr != nil && err == nil {
		err = werr
	}
	return r.report, err
}

func (r *Runner) writeReport() error {
	if err := WriteReport(r.opts.OutDir, r.report); err != nil {
		return err
	}
	if r.opts.Render != nil {
		r.opts.Render(r.opts.OutDir, r.report)
	}
	return nil
}

// skipRest reports the steps after a failure as skipped.
func (r *Runner) skipRest(from int) {
	for _, p := range r.plan[min(from, len(r.plan)):] {
		e := r.entry(p)
		e.Status = StatusSkipped
		r.report.Steps = append(r.report.Steps, e)
	}
}

// entry is a step's report entry before it runs.
func (r *Runner) entry(p planned) StepReport {
	return StepReport{Index: p.Index, Verb: p.Step.Verb, Line: p.Step.Line(), Column: p.Step.Span.Start.Column,
		Branch: p.Branch, Round: p.Round, Hash: p.Hash, Metrics: map[string]float64{}}
}

// resumePoint is how many steps --resume restores (0 without --resume).
func (r *Runner) resumePoint() (int, error) {
	if !r.opts.Resume {
		return 0, nil
	}
	old, err := ReadReport(r.opts.OutDir)
	if err != nil {
		return 0, fmt.Errorf("cannot resume: no report of an earlier run in %s (%v)", r.opts.OutDir, unwrapPath(err))
	}
	if old.Seed != r.opts.Seed {
		return 0, fmt.Errorf("cannot resume: the run in %s used seed %d, this one seed %d", r.opts.OutDir, old.Seed, r.opts.Seed)
	}
	n := 0
	for _, s := range old.Steps {
		if s.Status != StatusDone && s.Status != StatusRestored {
			break
		}
		if n >= len(r.plan) || s.Hash != r.plan[n].Hash {
			return 0, r.changed(n, s)
		}
		n++
	}
	r.oldSteps = old.Steps[:n]
	r.report.Final = old.Final
	return n, nil
}

// changed explains why a finished step cannot be restored.
func (r *Runner) changed(i int, s StepReport) error {
	if i >= len(r.plan) {
		return fmt.Errorf("cannot resume: the recipe now has %d steps but the run in %s finished %d; start a fresh run (without --resume) or use another --out",
			len(r.plan), r.opts.OutDir, i+1)
	}
	p := r.plan[i]
	return fmt.Errorf("cannot resume: step %d (%s at line %d) changed since the run in %s finished it (it was %s at line %d); start a fresh run (without --resume) or use another --out",
		i, p.Step.Verb, p.Step.Line(), r.opts.OutDir, s.Verb, s.Line)
}

// walker executes steps in order, forking the state for for branches.
// During a resume the first `restore` steps are not run: their entries
// come from the old report and the state stays lazy — the index of the
// checkpoint to load once a step really runs.
type walker struct {
	r       *Runner
	index   int
	restore int
	cur     *State
	lazy    int // checkpoint to load when cur is nil; -1: the empty state
	scope   map[string]check.Value
	branch  bool
}

func (w *walker) steps(ctx context.Context, steps []*check.Step) error {
	for _, s := range steps {
		var err error
		switch s.Kind {
		case check.KRepeat:
			for i := 0; i < s.Count && err == nil; i++ {
				err = w.steps(ctx, s.Body)
			}
		case check.KFor:
			err = w.fork(ctx, s)
		default:
			err = w.exec(ctx, s)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// fork runs each branch of a for loop from the state before it, then
// continues from that state.
func (w *walker) fork(ctx context.Context, s *check.Step) error {
	base, baseLazy, scope, inBranch := w.cur, w.lazy, w.scope, w.branch
	defer func() { w.cur, w.lazy, w.scope, w.branch = base, baseLazy, scope, inBranch }()
	for i, br := range s.Branches {
		w.cur, w.lazy, w.branch = nil, baseLazy, true
		if base != nil {
			w.cur = base.Clone()
		}
		w.scope = maps.Clone(scope)
		if w.scope == nil {
			w.scope = map[string]check.Value{}
		}
		w.scope[s.Name] = s.Over[i]
		if err := w.steps(ctx, br); err != nil {
			return err
		}
	}
	return nil
}

// exec runs, or restores, the next planned step.
func (w *walker) exec(ctx context.Context, s *check.Step) error {
	p := w.r.plan[w.index]
	w.index++
	if s.Kind == check.KLet {
		w.bindLet(s)
	}
	if p.Index < w.restore {
		w.restored(p)
		return nil
	}
	if err := context.Cause(ctx); err != nil {
		return w.failed(p, time.Now(), ErrInterrupted)
	}
	if err := w.materialize(); err != nil {
		return w.failed(p, time.Now(), err)
	}
	return w.run(ctx, p)
}

func (w *walker) bindLet(s *check.Step) {
	if w.scope == nil {
		w.scope = map[string]check.Value{}
	}
	w.scope[s.Name] = s.Value
}

func (w *walker) restored(p planned) {
	e := w.r.oldSteps[p.Index]
	e.Status = StatusRestored
	w.r.report.Steps = append(w.r.report.Steps, e)
	w.cur, w.lazy = nil, p.Index
	if o := w.r.opts.Observer; o != nil {
		o.Finished(e)
	}
}

// materialize loads the lazy state of a resumed run (or starts the empty
// one with the command line's bindings).
func (w *walker) materialize() error {
	if w.cur != nil {
		return nil
	}
	if w.lazy >= 0 {
		st, hash, err := loadCheckpoint(&w.r.env, w.r.opts.OutDir, w.lazy)
		if err != nil {
			return err
		}
		if hash != w.r.plan[w.lazy].Hash {
			return fmt.Errorf("cannot resume: %s belongs to another version of the recipe", checkpointName(w.lazy))
		}
		w.cur = st
		return nil
	}
	st, err := w.r.initialState()
	w.cur = st
	return err
}

// run executes one step and records it.
func (w *walker) run(ctx context.Context, p planned) error {
	r, start := w.r, time.Now()
	e := r.entry(p)
	obs := r.opts.Observer
	if obs != nil {
		obs.Started(e)
	}
	env := r.env
	env.Index, env.Scope = p.Index, w.scope
	env.Tick = func(t Tick) {
		if obs != nil {
			obs.Progress(e, t)
		}
	}
	out, err := execStep(ctx, &env, w.cur, p.Step)
	if err != nil {
		return w.failed(p, start, err)
	}
	e.Status, e.Seconds, e.Summary = StatusDone, time.Since(start).Seconds(), out.Summary
	maps.Copy(e.Metrics, out.Metrics)
	e.Series = out.Series
	ck, err := saveCheckpoint(r.opts.OutDir, p, w.cur)
	if err != nil {
		return w.failed(p, start, fmt.Errorf("cannot write the checkpoint: %w", err))
	}
	e.Checkpoint = ck
	r.report.Steps = append(r.report.Steps, e)
	if !w.branch {
		r.report.Final = finalOf(w.cur.Reported)
	}
	if obs != nil {
		obs.Finished(e)
	}
	return r.writeReport()
}

// execStep runs a verb, turning panics into errors and context
// cancellation into ErrInterrupted.
func execStep(ctx context.Context, env *Env, st *State, step *check.Step) (out *Outcome, err error) {
	v, ok := lookup(step.Verb)
	if !ok {
		return nil, &NotExecutableError{What: step.Verb, Span: step.Span}
	}
	err = ops.Guard(func() error {
		var e error
		out, e = v.Run(ctx, env, st, step)
		return e
	})
	if err != nil && ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Cause(ctx))) {
		return nil, ErrInterrupted
	}
	if out == nil && err == nil {
		out = &Outcome{}
	}
	return out, err
}

// failed records a failed step; the last checkpoint on disk stays the
// state after the last step that finished.
func (w *walker) failed(p planned, start time.Time, err error) error {
	r := w.r
	e := r.entry(p)
	e.Status, e.Seconds = StatusFailed, time.Since(start).Seconds()
	se := &StepError{Step: p.Step, Err: err}
	e.Error = se.Error()
	var withS SeriesError
	if errors.As(err, &withS) {
		e.Series = withS.StepSeries()
	}
	if errors.Is(err, ErrInterrupted) {
		e.Status, e.Error = StatusInterrupted, "interrupted"
	} else if last := w.lastCheckpoint(); last != "" && errors.Is(err, ErrNonFinite) {
		se.Err = fmt.Errorf("%w; the last good checkpoint is %s", err, last)
		e.Error = se.Error()
	}
	r.report.Steps = append(r.report.Steps, e)
	if o := r.opts.Observer; o != nil {
		o.Finished(e)
	}
	return se
}

// lastCheckpoint is the newest checkpoint of this run's report.
func (w *walker) lastCheckpoint() string {
	steps := w.r.report.Steps
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i].Checkpoint != "" {
			return steps[i].Checkpoint
		}
	}
	return ""
}

// initialState is the empty state with the command line's model and data
// bound when the recipe has no line of its own for them.
func (r *Runner) initialState() (*State, error) {
	st := NewState()
	hasModel, hasData := hasVerb(r.opts.Recipe.Steps, "model"), hasVerb(r.opts.Recipe.Steps, "data")
	env := r.env
	if r.opts.Data != nil && !hasData {
		d, err := openData(&env, *r.opts.Data)
		if err != nil {
			return nil, fmt.Errorf("--data %s: %w", r.opts.Data.Name, err)
		}
		st.Data = d
	}
	if r.opts.Model != "" && !hasModel {
		if err := bindModel(&env, st, r.opts.Model); err != nil {
			return nil, fmt.Errorf("--model %s: %w", r.opts.Model, err)
		}
	}
	return st, nil
}

func hasVerb(steps []*check.Step, verb string) bool {
	for _, s := range steps {
		if s.Verb == verb || hasVerb(s.Body, verb) {
			return true
		}
		for _, b := range s.Branches {
			if hasVerb(b, verb) {
				return true
			}
		}
	}
	return false
}
