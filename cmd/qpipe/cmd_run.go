package main

import (
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/syntax"
	"github.com/qpipe/qpipe/ops"
)

func init() {
	register(&command{
		Name:    "run",
		Args:    "[--model M] [--data D] [--device cpu|cuda] [--set k=v]... FILE",
		Summary: "check, plan and execute a recipe",
		Flags:   runFlags,
	})
}

type runOptions struct {
	bindings
	device string
}

func runFlags(fs *flag.FlagSet) func(*IO, []string) error {
	var o runOptions
	o.bindings.register(fs, true)
	fs.StringVar(&o.device, "device", "", "backend to run on: cpu or cuda (default: $QPIPE_DEVICE, else cpu)")
	return func(sys *IO, files []string) error { return runRun(sys, &o, files) }
}

// runRun checks and plans the recipe on the chosen device. This build has
// no executor yet: it stops at the first statement the run would
// execute, reported against its verb, and exits 1.
func runRun(sys *IO, o *runOptions, files []string) error {
	if len(files) != 1 {
		return usagef("run takes exactly one FILE, got %d", len(files))
	}
	device := chooseDevice(o.device, sys.Getenv)
	if err := checkDevice(device); err != nil {
		return err
	}
	l := loadRecipe(files[0], o.checkOptions())
	printDiagnostics(sys.Stderr, []*loaded{l})
	if l.ds.HasErrors() {
		return failf(exitFailure, "%s in %s; nothing run", tally(l.ds), files[0])
	}
	if _, err := planRecipeChecked(l, &o.bindings); err != nil {
		return err
	}
	first := firstCommand(l.recipe.Steps)
	if first == nil {
		return nil // nothing to execute
	}
	return notExecutable(sys, l, first)
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

// checkDevice accepts a backend linked into this binary; cuda in a build
// without it says how to get it.
func checkDevice(device string) error {
	known := ops.Backends()
	if slices.Contains(known, device) {
		return nil
	}
	if device == "cuda" {
		return failf(exitFailure, "device cuda is not built into this binary; on a machine with the CUDA toolkit "+
			"build it with `go build -tags cuda ./cmd/qpipe` (available here: %s)", strings.Join(known, ", "))
	}
	return usagef("unknown device %q (known: cpu, cuda)", device)
}

// firstCommand is the first verb statement the run reaches, looking into
// repeat and for bodies.
func firstCommand(steps []*check.Step) *check.Step {
	for _, s := range steps {
		if s.Kind == check.KCommand {
			return s
		}
		if body := firstCommand(s.Body); body != nil {
			return body
		}
	}
	return nil
}

// notExecutable reports the verb the engine cannot execute yet, with the
// source line and a caret under the verb.
func notExecutable(sys *IO, l *loaded, s *check.Step) error {
	span := s.Span
	if cmd, ok := s.Node.(*syntax.Command); ok {
		span = cmd.Verb.Sp
	}
	d := diag.Errorf(span, fmt.Sprintf("%q is not yet executable", s.Verb)).
		WithDetail("this build checks and plans recipes but has no executor yet; `qpipe plan` shows what the run would do")
	diag.NewPrinter(sys.Stderr, diag.FileMap{l.src.Name: l.src}).Fprint(sys.Stderr, diag.Diagnostics{d})
	return &failure{code: exitFailure, silent: true}
}
