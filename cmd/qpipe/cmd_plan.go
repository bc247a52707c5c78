package main

import (
	"flag"
	"path/filepath"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/planner"
	"github.com/qpipe/qpipe/project"
	"github.com/qpipe/qpipe/stdlib/run"
)

func init() {
	register(&command{
		Name:    "plan",
		Args:    "[--format text|dot|json] [--model M] [--data D] [--set k=v]... [--seed N] [--project FILE] FILE.qpipe|RUN",
		Summary: "show the checked plan that qpipe run executes: node ids, resolved arguments, dataflow, costs, FLOPs and sizes, keys",
		Flags:   planFlags,
	})
}

func planFlags(fs *flag.FlagSet) func(*IO, []string) error {
	format := fs.String("format", "text", "output `format`: text (a numbered tree), dot (Graphviz) or json")
	var o runOptions
	o.bindings.register(fs, true)
	o.seed = 1
	fs.Var(seedFlag{&o.seed}, "seed", "run `seed` the step keys are computed for (as qpipe run --seed)")
	fs.StringVar(&o.projectFile, "project", project.DefaultFile, "project `file` that defines named runs (as qpipe run)")
	return func(sys *IO, files []string) error {
		o.set = map[string]bool{}
		fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
		return runPlan(sys, *format, &o, files)
	}
}

func runPlan(sys *IO, format string, o *runOptions, files []string) error {
	if err := oneOf("format", format, "text", "dot", "json"); err != nil {
		return err
	}
	if len(files) != 1 {
		return usagef("plan takes exactly one FILE or RUN name, got %d", len(files))
	}
	j, err := resolveJob(sys, o, files[0])
	if err != nil {
		return err
	}
	p, err := planJob(sys, j)
	if err != nil {
		return err
	}
	switch format {
	case "dot":
		return planner.DOT(sys.Stdout, p)
	case "json":
		return planner.JSON(sys.Stdout, p)
	}
	return planner.Text(sys.Stdout, p)
}

// planJob checks a job's recipe (printing its diagnostics on stderr;
// warnings do not stop it) and plans it as `qpipe run` would.
func planJob(sys *IO, j *job) (*planner.Plan, error) {
	l := loadRecipe(j.recipe, j.checkOptions(false))
	printDiagnostics(sys.Stderr, []*loaded{l})
	if l.ds.HasErrors() {
		return nil, failf(exitFailure, "%s in %s; nothing planned", tally(l.ds), j.recipe)
	}
	return planRecipeChecked(l, j)
}

// planRecipeChecked plans a recipe that checked without errors, with the
// options `qpipe run` plans it with, so the node keys are the run's.
func planRecipeChecked(l *loaded, j *job) (*planner.Plan, error) {
	env := &run.Env{Seed: j.seed, Device: j.device, RecipeDir: filepath.Dir(l.src.Name), Model: j.model, DataBind: j.data}
	return planner.Build(l.recipe, run.PlanOptions(env))
}

// checkOptions are the checker's options for a job: its bindings (with
// the bound dataset's arguments, which steps inherit) and --set values.
func (j *job) checkOptions(requireExecutable bool) check.Options {
	o := check.Options{ModelBound: j.model != "", DataBound: j.data != nil, Sets: j.sets, RequireExecutable: requireExecutable}
	if j.data != nil {
		o.DataArgs = j.data.CheckArgs()
	}
	return o
}

// isRecipePath tells a recipe file from a run name of the project file.
func isRecipePath(arg string) bool { return strings.HasSuffix(arg, ".qpipe") }
