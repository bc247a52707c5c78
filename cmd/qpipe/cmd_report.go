package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/planner"
	"github.com/qpipe/qpipe/stdlib/run"
	"github.com/qpipe/qpipe/stdlib/run/htmlreport"
)

func init() {
	register(&command{
		Name:    "report",
		Args:    "[--out FILE] DIR...",
		Summary: "re-render a run's report.html from its report.json, or compare several runs on one page",
		Flags:   reportFlags,
	})
}

func reportFlags(fs *flag.FlagSet) func(*IO, []string) error {
	out := fs.String("out", "compare.html", "comparison page `file` written for several DIRs")
	return func(sys *IO, dirs []string) error { return runReport(sys, *out, dirs) }
}

// runReport re-renders DIR/report.html, or writes one comparison page of
// several runs.
func runReport(sys *IO, out string, dirs []string) error {
	if len(dirs) == 0 {
		return usagef("report takes one run directory (re-render its report.html) or several (compare them)")
	}
	reps := make([]*run.Report, len(dirs))
	for i, d := range dirs {
		r, err := run.ReadReport(d)
		if err != nil {
			return failf(exitFailure, "%s holds no readable %s (%v); give the --out directory of a qpipe run", d, run.ReportFile, unwrapPath(err))
		}
		reps[i] = r
	}
	if len(dirs) == 1 {
		if err := htmlreport.Write(dirs[0], recipePage(reps[0])); err != nil {
			return failf(exitFailure, "cannot write %s: %v", filepath.Join(dirs[0], htmlreport.File), err)
		}
		fmt.Fprintln(sys.Stdout, pageLink(filepath.Join(dirs[0], htmlreport.File)))
		return nil
	}
	runs := make([]htmlreport.Run, len(dirs))
	for i, d := range dirs {
		runs[i] = htmlreport.Run{Name: htmlreport.RunName(d), Report: reps[i]}
	}
	if err := htmlreport.WriteComparison(out, runs); err != nil {
		return failf(exitFailure, "cannot write %s: %v", out, err)
	}
	fmt.Fprintln(sys.Stdout, pageLink(out))
	return nil
}

// recipePage is the page of an earlier run: its recipe re-read from the
// path the report names, and planned when it still checks (the page
// matches the plan to the report's steps and drops it if they differ).
func recipePage(r *run.Report) htmlreport.Page {
	p := htmlreport.Page{Report: r, Generated: time.Now()}
	text, err := os.ReadFile(r.Recipe)
	if err != nil {
		return p
	}
	p.Source = text
	if l := loadRecipe(r.Recipe, check.Options{}); !l.ds.HasErrors() {
		env := &run.Env{Seed: r.Seed, Device: r.Device, RecipeDir: filepath.Dir(r.Recipe)}
		p.Plan, _ = planner.Build(l.recipe, run.PlanOptions(env))
	}
	return p
}

// pageWriter is the run's Render hook: it rewrites report.html with the
// recipe and the plan the run executes (plan is called once the run has
// one) after every step. A page that cannot be written is said once on
// stderr and does not stop the run.
func pageWriter(sys *IO, l *loaded, plan func() *planner.Plan) func(string, *run.Report) {
	var once sync.Once
	return func(dir string, r *run.Report) {
		err := htmlreport.Write(dir, htmlreport.Page{Report: r, Source: l.src.Text, Plan: plan(), Generated: time.Now()})
		if err != nil {
			once.Do(func() {
				fmt.Fprintf(sys.Stderr, "qpipe: %s not written: %v\n", filepath.Join(dir, htmlreport.File), err)
			})
		}
	}
}

// pageLink is the one line pointing at a page: a file:// URL terminals
// open on click.
func pageLink(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return "report page: file://" + filepath.ToSlash(path)
}
