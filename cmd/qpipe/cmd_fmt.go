package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/format"
	"github.com/qpipe/qpipe/lang/source"

	"github.com/qpipe/qpipe/internal/outfile"
)

func init() {
	register(&command{
		Name:    "fmt",
		Args:    "[-w] [--check] [FILE...]",
		Summary: "print recipes in canonical layout, rewrite them (-w) or list those that differ (--check)",
		Flags:   fmtFlags,
	})
}

type fmtOptions struct {
	write, check bool
}

func fmtFlags(fs *flag.FlagSet) func(*IO, []string) error {
	var o fmtOptions
	fs.BoolVar(&o.write, "w", false, "write the result back to each file instead of printing it")
	fs.BoolVar(&o.check, "check", false, "list the files whose layout differs and exit 1 if any; change nothing")
	return func(sys *IO, files []string) error { return runFmt(sys, o, files) }
}

func runFmt(sys *IO, o fmtOptions, files []string) error {
	if o.write && o.check {
		return usagef("-w and --check cannot be used together")
	}
	if len(files) == 0 {
		if o.write {
			return usagef("-w needs at least one FILE")
		}
		return fmtStdin(sys, o)
	}
	f := &fmtRun{sys: sys, opts: o, sources: diag.FileMap{}}
	for _, name := range files {
		f.file(name)
	}
	return f.result()
}

// fmtRun formats file after file, collecting diagnostics so every file
// gets its turn before the command fails.
type fmtRun struct {
	sys     *IO
	opts    fmtOptions
	sources diag.FileMap
	ds      diag.Diagnostics
	failed  int
	differ  int
}

func (f *fmtRun) file(name string) {
	text, err := os.ReadFile(name)
	if err != nil {
		fmt.Fprintf(f.sys.Stderr, "qpipe fmt: %v\n", err)
		f.failed++
		return
	}
	f.sources[name] = source.NewFile(name, text)
	out, ds := format.Bytes(name, text)
	f.ds = append(f.ds, ds...)
	if ds.HasErrors() {
		return
	}
	changed := !bytes.Equal(out, text)
	switch {
	case f.opts.check:
		if changed {
			f.differ++
			fmt.Fprintln(f.sys.Stdout, name)
		}
	case f.opts.write:
		if changed {
			if err := writeFileAtomic(name, out); err != nil {
				fmt.Fprintf(f.sys.Stderr, "qpipe fmt: %v\n", err)
				f.failed++
			}
		}
	default:
		f.sys.Stdout.Write(out)
	}
}

func (f *fmtRun) result() error {
	if len(f.ds) > 0 {
		diag.NewPrinter(f.sys.Stderr, f.sources).Fprint(f.sys.Stderr, f.ds)
	}
	switch {
	case f.ds.HasErrors():
		return failf(exitFailure, "%s; files with syntax errors were left unchanged", countErrors(f.ds))
	case f.failed > 0:
		return failf(exitFailure, "%d of the files could not be read or written", f.failed)
	case f.differ > 0:
		return failf(exitFailure, "%d file(s) not in canonical layout; run qpipe fmt -w", f.differ)
	}
	return nil
}

// fmtStdin formats standard input to standard output (for editors).
func fmtStdin(sys *IO, o fmtOptions) error {
	text, err := io.ReadAll(sys.Stdin)
	if err != nil {
		return err
	}
	out, ds := format.Bytes("<stdin>", text)
	if ds.HasErrors() {
		diag.NewPrinter(sys.Stderr, diag.FileMap{"<stdin>": source.NewFile("<stdin>", text)}).Fprint(sys.Stderr, ds)
		return failf(exitFailure, "%s in standard input", countErrors(ds))
	}
	if o.check {
		if !bytes.Equal(out, text) {
			fmt.Fprintln(sys.Stdout, "<stdin>")
			return failf(exitFailure, "standard input is not in canonical layout")
		}
		return nil
	}
	_, err = sys.Stdout.Write(out)
	return err
}

// writeFileAtomic replaces name's content through a temporary file in the
// same directory, keeping the file's permissions; a symbolic link is
// followed and stays a link (package outfile).
func writeFileAtomic(name string, data []byte) error {
	return outfile.Replace(name, data)
}

// countErrors renders "1 error" / "3 errors".
func countErrors(ds diag.Diagnostics) string {
	n := ds.Count(diag.Error)
	if n == 1 {
		return "1 error"
	}
	return fmt.Sprintf("%d errors", n)
}
