package main

import (
	"context"
	"flag"
	"io"
	"os"

	"github.com/mattn/go-isatty"

	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/repl"
	"github.com/qpipe/qpipe/stdlib/run"
)

func init() {
	register(&command{
		Name:    "repl",
		Args:    "[--model M] [--data D] [--check-only] [--max-memory SIZE]",
		Summary: "type recipe statements one at a time against a live, checked state",
		Flags:   replFlags,
	})
}

func replFlags(fs *flag.FlagSet) func(*IO, []string) error {
	var b bindings
	b.register(fs, false)
	checkOnly := fs.Bool("check-only", false, "check and plan statements without executing them")
	registerMaxMemory(fs)
	return func(sys *IO, args []string) error {
		if len(args) > 0 {
			return usagef("repl takes no file arguments; use :load FILE inside it")
		}
		return runRepl(sys, b, *checkOnly)
	}
}

// runRepl starts an interactive session when standard input and output
// are a terminal, and reads statements plainly from a pipe otherwise.
// Statements execute on a live run.Session unless checkOnly is set.
func runRepl(sys *IO, b bindings, checkOnly bool) error {
	in, out := sys.Stdin, sys.Stdout
	interactive := isTerminal(in) && isTerminal(out)
	opts := repl.Options{
		Env: vocabulary(), Check: b.checkOptions(), Model: b.model, Data: b.data,
		Out: out, Color: interactive && diag.UseColor(out),
		Plan: run.PlanOptions(&run.Env{Seed: 1, Device: "cpu", RecipeDir: "."}),
	}
	if !checkOnly {
		opts.Exec = newReplExecutor(b.model, b.data)
	}
	s := repl.NewSession(opts)
	t := &repl.Terminal{In: io.NopCloser(in), Out: out, Interactive: interactive, History: repl.HistoryPath()}
	if f, ok := in.(*os.File); ok {
		t.In = f
	}
	return t.Run(context.Background(), s)
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
