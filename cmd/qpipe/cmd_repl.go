package main

import (
	"context"
	"flag"
	"io"
	"os"

	"github.com/mattn/go-isatty"

	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/repl"
	"github.com/qpipe/qpipe/stdlib"
)

func init() {
	register(&command{
		Name:    "repl",
		Args:    "[--model M] [--data D]",
		Summary: "type recipe statements one at a time against a live, checked state",
		Flags:   replFlags,
	})
}

func replFlags(fs *flag.FlagSet) func(*IO, []string) error {
	var b bindings
	b.register(fs, false)
	return func(sys *IO, args []string) error {
		if len(args) > 0 {
			return usagef("repl takes no file arguments; use :load FILE inside it")
		}
		return runRepl(sys, b)
	}
}

// runRepl starts an interactive session when standard input and output
// are a terminal, and reads statements plainly from a pipe otherwise.
func runRepl(sys *IO, b bindings) error {
	in, out := sys.Stdin, sys.Stdout
	interactive := isTerminal(in) && isTerminal(out)
	s := repl.NewSession(repl.Options{
		Env: stdlib.Env(), Check: b.checkOptions(), Model: b.model, Data: b.data,
		Out: out, Color: interactive && diag.UseColor(out),
	})
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
