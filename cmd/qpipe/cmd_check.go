package main

import (
	"flag"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
)

func init() {
	register(&command{
		Name:    "check",
		Args:    "[--format text|json] FILE...",
		Summary: "parse and check recipes; report every problem of every file",
		Flags:   checkFlags,
	})
}

func checkFlags(fs *flag.FlagSet) func(*IO, []string) error {
	format := fs.String("format", "text", "output `format`: text (on stderr) or json (an array on stdout)")
	return func(sys *IO, files []string) error { return runCheck(sys, *format, files) }
}

// runCheck checks every file and reports all their diagnostics: as text
// on stderr, or as one JSON array on stdout. Warnings alone exit 0.
func runCheck(sys *IO, format string, files []string) error {
	if err := oneOf("format", format, "text", "json"); err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("no FILE to check")
	}
	var ls []*loaded
	var all diag.Diagnostics
	for _, name := range files {
		l := loadRecipe(name, check.Options{})
		ls = append(ls, l)
		all = append(all, l.ds...)
	}
	if format == "json" {
		if err := diag.WriteJSON(sys.Stdout, all); err != nil {
			return err
		}
	} else {
		printDiagnostics(sys.Stderr, ls)
	}
	if all.HasErrors() {
		return failf(exitFailure, "%s in %s", tally(all), plural(len(files), "file"))
	}
	return nil
}
