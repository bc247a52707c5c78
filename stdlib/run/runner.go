package run

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/planner"
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
	// OutDir receives report.json, manifest.json and exports.
	OutDir string
	// Resume is what every run does now: nodes found in the step store
	// are not executed again. It is kept for the --resume flag, and
	// refused together with NoCache.
	Resume bool
	// NoCache executes every node even when the store has it.
	NoCache bool
	// Jobs bounds the nodes that run at once (independent branches);
	// 0 means 1.
	Jobs int
	// Store is the step store; nil opens DefaultStoreDir.
	Store *Store
	// StoreMax bounds the store after the run; 0 means DefaultStoreMax.
	StoreMax int64
	// Warn receives notes about the store (damaged entries); nil drops
	// them.
	Warn func(string)
	// Sets are the --set overrides the recipe was checked with, recorded
	// in manifest.json.
	Sets map[string]string
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
	// Finished is called with the step's final entry (done, cached,
	// failed, interrupted or skipped).
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

// Runner executes a checked recipe: it plans it (planner.Build, the plan
// `qpipe plan` prints) and executes the plan with a Local executor and the
// step store, keeping report.json through a ReportWriter.
type Runner struct {
	opts   Options
	plan   *planner.Plan
	env    Env
	report *Report
}

// New prepares a run: the backend and the plan.
func New(opts Options) (*Runner, error) {
	if opts.Device == "" {
		opts.Device = "cpu"
	}
	if opts.Resume && opts.NoCache {
		return nil, errors.New("--resume reuses finished steps and --no-cache forbids it: give one of them")
	}
	be, err := ops.NewBackend(opts.Device)
	if err != nil {
		return nil, err
	}
	src := opts.Recipe.File.Source
	r := &Runner{opts: opts}
	r.env = Env{Backend: be, Device: opts.Device, Seed: opts.Seed, OutDir: opts.OutDir,
		RecipeDir: filepath.Dir(opts.Path), Data: opts.DataOptions, Model: opts.Model, DataBind: opts.Data, Source: src}
	r.plan, err = planner.Build(opts.Recipe, PlanOptions(&r.env))
	if err != nil {
		return nil, err
	}
	r.report = &Report{Recipe: opts.Path, Device: opts.Device, Seed: opts.Seed, Steps: []StepReport{}}
	return r, nil
}

// PlanOptions are the planner options of a run in env: its bindings and
// what its chained keys mix in (seed, backend, verb versions, the content
// of the files the recipe reads), and the model and dataset it starts
// from, resolved for FLOPs and sizes (planInputs).
func PlanOptions(env *Env) planner.Options {
	o := planner.Options{Model: env.Model, Keys: planner.KeyOptions{Seed: env.Seed, Salt: "device=" + env.Device,
		Version: VerbVersion, Inputs: env.fingerprint}, Resolve: env.planInputs}
	if env.DataBind != nil {
		o.Data = env.DataBind.Name
	}
	return o
}

// SetObserver sets who sees the run's progress.
func (r *Runner) SetObserver(o Observer) { r.opts.Observer = o }

// Plan is the plan the run executes.
func (r *Runner) Plan() *planner.Plan { return r.plan }

// Steps is the number of nodes the run executes (repeat unrolled, every
// branch of every for counted).
func (r *Runner) Steps() int { return len(r.plan.Work()) }

// Report is the report as it stands.
func (r *Runner) Report() *Report { return r.report }

// Run executes the plan, rewriting OutDir/report.json after every node.
// A failing node stops the run with a *StepError; the nodes that did not
// start are reported as skipped.
func (r *Runner) Run(ctx context.Context) (*Report, error) {
	if ds := r.Preflight(); ds.HasErrors() {
		return r.report, ds
	}
	store, err := r.openStore()
	if err != nil {
		return r.report, err
	}
	if err := WriteReport(r.opts.OutDir, r.report); err != nil {
		return r.report, fmt.Errorf("output directory %s is not writable: %w", r.opts.OutDir, unwrapPath(err))
	}
	r.render()
	rw := &ReportWriter{Dir: r.opts.OutDir, Report: r.report, Render: r.opts.Render}
	obs := Observers{rw}
	if r.opts.Observer != nil {
		obs = append(obs, r.opts.Observer)
	}
	local := &Local{Env: r.env, Jobs: r.opts.Jobs, NoCache: r.opts.NoCache, Recipe: r.opts.Path, Warn: r.opts.Warn}
	err = local.Execute(ctx, r.plan, store, obs)
	r.boundStore(store)
	if err == nil && rw.Err != nil {
		err = rw.Err
	}
	if merr := WriteManifest(r.opts.OutDir, r.Manifest()); merr != nil && err == nil {
		err = merr
	}
	r.render()
	return r.report, err
}

// render calls Options.Render, when set, with the report as it stands:
// before the first node and once the run is over (the ReportWriter calls
// it after every node).
func (r *Runner) render() {
	if r.opts.Render != nil {
		r.opts.Render(r.opts.OutDir, r.report)
	}
}

// Manifest describes the run as it stands (manifest.json).
func (r *Runner) Manifest() *Manifest {
	return NewManifest(r.opts.Path, r.opts.Recipe.File.Source.Text, r.opts.Sets, &r.env, r.plan, r.report)
}

func (r *Runner) openStore() (*Store, error) {
	if r.opts.Store != nil {
		return r.opts.Store, nil
	}
	dir, err := DefaultStoreDir()
	if err != nil {
		return nil, err
	}
	return OpenStore(dir)
}

// boundStore keeps the store under its size bound.
func (r *Runner) boundStore(s *Store) {
	limit := r.opts.StoreMax
	if limit == 0 {
		limit = DefaultStoreMax
	}
	if _, err := s.GC(limit); err != nil && r.opts.Warn != nil {
		r.opts.Warn(fmt.Sprintf("step store %s: %v", s.Dir, err))
	}
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
