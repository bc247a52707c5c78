package main

import (
	"flag"
	"path/filepath"

	"github.com/qpipe/qpipe/planner"
	"github.com/qpipe/qpipe/stdlib/run"
)

func init() {
	register(&command{
		Name:    "plan",
		Args:    "[--format text|dot|json] [--model M] [--data D] [--set k=v]... [--seed N] FILE",
		Summary: "show the checked plan that qpipe run executes: node ids, resolved arguments, dataflow, costs, keys",
		Flags:   planFlags,
	})
}

func planFlags(fs *flag.FlagSet) func(*IO, []string) error {
	format := fs.String("format", "text", "output `format`: text (a numbered tree), dot (Graphviz) or json")
	var b bindings
	b.register(fs, true)
	fs.Uint64Var(&b.seed, "seed", 1, "run `seed` the step keys are computed for (as qpipe run --seed)")
	return func(sys *IO, files []string) error { return runPlan(sys, *format, &b, files) }
}

func runPlan(sys *IO, format string, b *bindings, files []string) error {
	if err := oneOf("format", format, "text", "dot", "json"); err != nil {
		return err
	}
	if len(files) != 1 {
		return usagef("plan takes exactly one FILE, got %d", len(files))
	}
	p, err := planRecipe(sys, files[0], b)
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

// planRecipe checks a recipe (printing its diagnostics on stderr; warnings
// do not stop it) and plans it.
func planRecipe(sys *IO, name string, b *bindings) (*planner.Plan, error) {
	l := loadRecipe(name, b.checkOptions())
	printDiagnostics(sys.Stderr, []*loaded{l})
	if l.ds.HasErrors() {
		return nil, failf(exitFailure, "%s in %s; nothing planned", tally(l.ds), name)
	}
	return planRecipeChecked(sys, l, b)
}

// planRecipeChecked plans a recipe that checked without errors, with the
// options `qpipe run` plans it with, so the node keys are the run's.
func planRecipeChecked(sys *IO, l *loaded, b *bindings) (*planner.Plan, error) {
	env := &run.Env{Seed: b.seed, Device: chooseDevice("", sys.Getenv), RecipeDir: filepath.Dir(l.src.Name), Model: b.model}
	if b.data != "" {
		env.DataBind = &run.DataSpec{Name: b.data}
	}
	return planner.Build(l.recipe, run.PlanOptions(env))
}
