package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/planner"
	"github.com/qpipe/qpipe/project"
	"github.com/qpipe/qpipe/repl"
	"github.com/qpipe/qpipe/stdlib/run"
	"github.com/qpipe/qpipe/stdlib/run/htmlreport"
)

func init() {
	register(&command{
		Name:    "run",
		Args:    "[--model M] [--data D] [--device cpu|cuda] [--set k=v]... [--out DIR] [--seed N] [--jobs N] [--no-cache] [--resume] [--project FILE] [--max-memory SIZE] [--executor local|slurm] [--detach] [--dry-run] [--per-node] FILE.qpipe|RUN | --manifest FILE",
		Summary: "execute a recipe's plan (or a run of qpipe.hcl), reusing finished steps from the step store: progress, report.json, report.html, exports",
		Flags:   runFlags,
	})
}

// exitInterrupted is the exit code of a run stopped by Ctrl-C (128+SIGINT).
const exitInterrupted = 130

type runOptions struct {
	bindings
	device, out, projectFile string
	manifest                 string
	seed                     uint64
	jobs                     int
	resume, noCache          bool
	executor                 string // "" means the project's executor block, else local
	detach, perNode, dryRun  bool
	set                      map[string]bool // flags given on the command line
}

func runFlags(fs *flag.FlagSet) func(*IO, []string) error {
	var o runOptions
	o.bindings.register(fs, true)
	fs.StringVar(&o.device, "device", "", "backend to run on: cpu or cuda (default: $QPIPE_DEVICE, else cpu)")
	fs.StringVar(&o.out, "out", "", "output `DIR` for report.json, manifest.json and exports (default out/RECIPE)")
	o.seed = 1
	fs.Var(seedFlag{&o.seed}, "seed", "run `seed`: initial weights, shuffling, augmentation")
	fs.BoolVar(&o.resume, "resume", false, "reuse the finished steps of an earlier run (every run does: steps in the step store are not run again)")
	fs.BoolVar(&o.noCache, "no-cache", false, "execute every step even when the step store has its result")
	fs.StringVar(&o.manifest, "manifest", "", "re-run the plan recorded in manifest.json `FILE` (without the step store) and say where a result differs")
	fs.IntVar(&o.jobs, "jobs", 1, "run up to `N` independent branches at once (each step already uses every core)")
	fs.StringVar(&o.projectFile, "project", project.DefaultFile, "project `file` that defines named runs")
	fs.StringVar(&o.executor, "executor", "", "where the plan runs: `local` (here) or slurm (sbatch jobs; docs/slurm.md); default: qpipe.hcl's executor block, else local")
	fs.BoolVar(&o.detach, "detach", false, "with --executor slurm: submit the jobs and return (`qpipe status DIR` follows them)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "with --executor slurm: list the jobs that would be submitted, and submit nothing")
	fs.BoolVar(&o.perNode, "per-node", false, "with --executor slurm: one job per plan node instead of one per branch")
	registerMaxMemory(fs)
	return func(sys *IO, args []string) error {
		o.set = map[string]bool{}
		fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
		return runRun(sys, &o, args)
	}
}

// job is everything one run needs, from the command line and qpipe.hcl.
type job struct {
	recipe, out, device string
	seed                uint64
	model               string
	data                *run.DataSpec
	sets                map[string]string
	executor            *project.Executor // the project's executor block, if any
}

// runRun resolves the recipe or the named run, checks it, and executes it.
func runRun(sys *IO, o *runOptions, args []string) error {
	if o.manifest != "" {
		return runManifest(sys, o, args)
	}
	if len(args) != 1 {
		return usagef("run takes exactly one FILE or RUN name, got %d", len(args))
	}
	j, err := resolveJob(sys, o, args[0])
	if err != nil {
		return err
	}
	if err := checkDevice(j.device); err != nil {
		return err
	}
	l := loadRecipe(j.recipe, j.checkOptions(true))
	printDiagnostics(sys.Stderr, []*loaded{l})
	if l.ds.HasErrors() {
		return failf(exitFailure, "%s in %s; nothing run", tally(l.ds), j.recipe)
	}
	if o.jobs < 1 {
		return usagef("--jobs takes a number of at least 1, not %d", o.jobs)
	}
	executor, settings, err := executorFor(sys, o, j)
	if err != nil {
		return err
	}
	if executor == "slurm" {
		return runSlurm(sys, l, j, o, settings)
	}
	ctx, stop := interruptContext(context.Background(), sys.Stderr, os.Exit)
	defer stop()
	_, err = execute(ctx, sys, l, j, o)
	return err
}

// resolveJob reads a recipe path, or a run of the project file, with the
// command line's flags on top.
func resolveJob(sys *IO, o *runOptions, arg string) (*job, error) {
	j := &job{recipe: arg, seed: o.seed, model: o.model, sets: o.sets.m}
	if !isRecipePath(arg) {
		if err := fromProject(sys, o, arg, j); err != nil {
			return nil, err
		}
	}
	if o.data != "" {
		j.data = &run.DataSpec{Name: o.data}
	}
	if o.set["out"] || j.out == "" {
		j.out = o.out
	}
	if j.out == "" {
		j.out = filepath.Join("out", strings.TrimSuffix(filepath.Base(j.recipe), filepath.Ext(j.recipe)))
	}
	if o.device != "" || j.device == "" {
		j.device = chooseDevice(o.device, sys.Getenv)
	}
	return j, nil
}

// fromProject fills j from the run NAME of the project file.
func fromProject(sys *IO, o *runOptions, name string, j *job) error {
	p, ds := project.Load(o.projectFile)
	if p != nil && p.Source != nil {
		diag.NewPrinter(sys.Stderr, diag.FileMap{p.Source.Name: p.Source}).Fprint(sys.Stderr, ds)
	} else {
		diag.NewPrinter(sys.Stderr, diag.FileMap{}).Fprint(sys.Stderr, ds)
	}
	if ds.HasErrors() {
		return failf(exitFailure, "%s in %s; nothing run", tally(ds), o.projectFile)
	}
	r := p.Runs[name]
	if r == nil {
		return failf(exitFailure, "no run %q in %s%s (runs: %s); a recipe file ends in .qpipe",
			name, o.projectFile, didYouMean(name, p.RunNames()), strings.Join(p.RunNames(), ", "))
	}
	j.recipe, j.out, j.device = r.Recipe, r.Out, r.Device
	j.executor = p.Executors["slurm"]
	if j.out == "" {
		j.out = filepath.Join("out", r.Name)
	}
	if r.Seed != nil && !o.set["seed"] {
		j.seed = *r.Seed
	}
	if r.Model != nil && o.model == "" {
		j.model = r.Model.Ref()
	}
	if r.Data != nil {
		j.data = projectData(r.Data)
	}
	j.sets = mergeSets(r.Set, o.sets.m)
	return nil
}

func projectData(d *project.Dataset) *run.DataSpec {
	spec := &run.DataSpec{Name: d.Source, Path: d.Path, Subset: d.Subset, ValSplit: d.ValSplit, Augment: d.Augment, Batch: d.Batch}
	if len(d.Normalize) == 2 {
		spec.Normalize = &data.Normalize{Mean: f32(d.Normalize[0]), Std: f32(d.Normalize[1])}
	}
	return spec
}

func f32(xs []float64) []float32 {
	out := make([]float32, len(xs))
	for i, x := range xs {
		out[i] = float32(x)
	}
	return out
}

// mergeSets puts the command line's --set values over the project's.
func mergeSets(project, flags map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range project {
		out[k] = v
	}
	for k, v := range flags {
		out[k] = v
	}
	return out
}

// execute runs a checked recipe and prints its summary table; the runner
// is nil when the run could not start.
func execute(ctx context.Context, sys *IO, l *loaded, j *job, ro *runOptions) (*run.Runner, error) {
	files := diag.FileMap{l.src.Name: l.src}
	var r *run.Runner
	plan := func() *planner.Plan { return r.Plan() }
	o := run.Options{Recipe: l.recipe, Path: j.recipe, Device: j.device, Seed: j.seed, OutDir: j.out,
		Resume: ro.resume, NoCache: ro.noCache, Jobs: ro.jobs, Model: j.model, Data: j.data, Sets: j.sets,
		Warn: func(s string) { fmt.Fprintf(sys.Stderr, "note: %s\n", s) }, Render: pageWriter(sys, l, plan)}
	r, err := run.New(o)
	if err != nil {
		return nil, failf(exitFailure, "%v", err)
	}
	if ds := r.Preflight(); ds.HasErrors() {
		return nil, runFailure(sys, files, j, ds)
	}
	if err := checkOutDir(j.out); err != nil {
		return nil, failf(exitFailure, "%v", err)
	}
	obs := run.NewProgress(sys.Stderr, isTerminal(sys.Stderr), r.Steps())
	r.SetObserver(obs)
	fmt.Fprintf(sys.Stderr, "running %s: %d steps on %s, seed %d, output in %s\n", j.recipe, r.Steps(), j.device, j.seed, j.out)
	rep, err := r.Run(ctx)
	obs.Close()
	if rep != nil && len(rep.Steps) > 0 {
		run.WriteSummary(sys.Stdout, rep)
		fmt.Fprintln(sys.Stdout, pageLink(filepath.Join(j.out, htmlreport.File)))
	}
	if errors.Is(err, run.ErrInterrupted) {
		return r, failf(interruptedExit(ctx), "interrupted (%v); report in %s; finished steps are in the step store, so running again continues from there", err, j.out)
	}
	return r, runFailure(sys, files, j, err)
}

// runFailure prints why a run stopped, located on its recipe line.
func runFailure(sys *IO, files diag.FileMap, j *job, err error) error {
	var ds diag.Diagnostics
	var se *run.StepError
	switch {
	case err == nil:
		fmt.Fprintf(sys.Stderr, "report: %s\n", filepath.Join(j.out, run.ReportFile))
		return nil
	case errors.As(err, &ds):
		diag.NewPrinter(sys.Stderr, files).Fprint(sys.Stderr, ds)
		return failf(exitFailure, "%s in %s; nothing run", tally(ds), j.recipe)
	case errors.Is(err, run.ErrInterrupted):
		return failf(exitInterrupted, "interrupted (%v); report in %s; finished steps are in the step store, so running again continues from there", err, j.out)
	case errors.As(err, &se):
		d := diag.Errorf(se.Step.Span, fmt.Sprintf("%s failed: %v", se.Step.Verb, se.Err))
		diag.NewPrinter(sys.Stderr, files).Fprint(sys.Stderr, diag.Diagnostics{d})
		return failf(exitFailure, "run failed at line %d; report in %s", se.Step.Line(), filepath.Join(j.out, run.ReportFile))
	}
	return failf(exitFailure, "%v", err)
}

// chooseDevice picks --device, else $QPIPE_DEVICE, else cpu.
func chooseDevice(flagValue string, getenv func(string) string) string {
	if flagValue != "" {
		return flagValue
	}
	if env := getenv("QPIPE_DEVICE"); env != "" {
		return env
	}
	return "cpu"
}

// checkDevice accepts a backend linked into this binary that can start
// here; cuda in a build without it says how to get it.
func checkDevice(device string) error {
	known := ops.Backends()
	if slices.Contains(known, device) {
		if device != "cpu" { // a GPU backend fails here, before the run, when there is no usable device
			if _, err := ops.NewBackend(device); err != nil {
				return failf(exitFailure, "%v", err)
			}
		}
		return nil
	}
	if device == "cuda" {
		return failf(exitFailure, "device cuda is not built into this binary; on a machine with the CUDA toolkit "+
			"build it with `go build -tags cuda ./cmd/qpipe` (available here: %s)", strings.Join(known, ", "))
	}
	return usagef("unknown device %q (known: cpu, cuda)", device)
}

// replExecutor lets the REPL run its statements on a live run.Session.
type replExecutor struct{ s *run.Session }

func newReplExecutor(model, dataName string) repl.Executor {
	return replExecutor{run.NewSession(run.SessionOptions{Model: model, Data: dataName, Device: "cpu", Seed: 1, OutDir: "."})}
}

func (e replExecutor) Exec(ctx context.Context, step *check.Step) (repl.Result, error) {
	out, err := e.s.Exec(ctx, step)
	if err != nil {
		return repl.Result{}, err
	}
	return repl.Result{Summary: out.Summary, Metrics: out.Metrics}, nil
}

func (e replExecutor) Clone() repl.Executor        { return replExecutor{e.s.Clone()} }
func (e replExecutor) Summary() string             { return e.s.Summary() }
func (e replExecutor) Metrics() map[string]float64 { return e.s.Metrics() }
