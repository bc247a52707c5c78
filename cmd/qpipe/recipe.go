package main

import (
	"fmt"
	"io"
	"os"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/lang/syntax"
	"github.com/qpipe/qpipe/stdlib"
	"github.com/qpipe/qpipe/stdlib/run"
)

// loaded is one recipe read, parsed and checked.
type loaded struct {
	src    *source.File
	recipe *check.Recipe // nil when the file could not be read or parsed
	ds     diag.Diagnostics
}

// loadRecipe reads, parses and checks one file with the standard
// vocabulary. A file with syntax errors is not checked: its broken
// statements are missing from the tree, and checking the rest would
// report names those statements define as undefined.
func loadRecipe(name string, opts check.Options) *loaded {
	text, err := os.ReadFile(name)
	if err != nil {
		d := &diag.Diagnostic{Severity: diag.Error, Summary: fmt.Sprintf("cannot read %s: %v", name, unwrapPath(err))}
		return &loaded{ds: diag.Diagnostics{d}}
	}
	return loadText(name, text, opts)
}

// loadText parses and checks recipe text under a file name.
func loadText(name string, text []byte, opts check.Options) *loaded {
	f, ds := syntax.Parse(name, text)
	l := &loaded{src: f.Source, ds: ds}
	if ds.HasErrors() {
		return l
	}
	rec, cds := check.Check(f, vocabulary(), opts)
	l.recipe, l.ds = rec, append(l.ds, cds...)
	return l
}

// unwrapPath drops the path an *os.PathError repeats.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// printDiagnostics renders ds for people on w, with source lines.
func printDiagnostics(w io.Writer, ls []*loaded) {
	files := diag.FileMap{}
	var all diag.Diagnostics
	for _, l := range ls {
		if l.src != nil {
			files[l.src.Name] = l.src
		}
		all = append(all, l.ds...)
	}
	p := diag.NewPrinter(w, files)
	p.Fprint(w, all)
}

// tally renders "2 errors and 1 warning".
func tally(ds diag.Diagnostics) string {
	e, w := ds.Count(diag.Error), ds.Count(diag.Warning)
	s := plural(e, "error")
	if w > 0 {
		s += " and " + plural(w, "warning")
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// vocabulary is the checker's Env of this binary: the standard library's
// signatures, and which steps its engine executes.
func vocabulary() check.Env { return run.Vocabulary(stdlib.Env()) }
