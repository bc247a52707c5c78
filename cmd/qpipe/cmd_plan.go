package main

import (
	"flag"

	"github.com/qpipe/qpipe/planner"
)

func init() {
	register(&command{
		Name:    "plan",
		Args:    "[--format text|dot|json] [--model M] [--data D] [--set k=v]... FILE",
		Summary: "show the checked plan: steps, resolved arguments, dataflow, costs",
		Flags:   planFlags,
	})
}

func planFlags(fs *flag.FlagSet) func(*IO, []string) error {
	format := fs.String("format", "text", "output `format`: text (a numbered tree), dot (Graphviz) or json")
	var b bindings
	b.register(fs, true)
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
	return planRecipeChecked(l, b)
}

// planRecipeChecked plans a recipe that checked without errors.
func planRecipeChecked(l *loaded, b *bindings) (*planner.Plan, error) {
	return planner.Build(l.recipe, planner.Options{Model: b.model, Data: b.data})
}
