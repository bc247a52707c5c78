// Package examples holds the runnable recipes; this test keeps every one
// of them free of diagnostics (errors and warnings alike) and plannable.
package examples

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/syntax"
	"github.com/qpipe/qpipe/planner"
	"github.com/qpipe/qpipe/stdlib"
)

func TestExamplesCheckCleanAndPlan(t *testing.T) {
	files, err := filepath.Glob("*.qpipe")
	if err != nil || len(files) < 5 {
		t.Fatalf("want the quickstart and one recipe per paper, found %v (%v)", files, err)
	}
	for _, name := range files {
		t.Run(name, func(t *testing.T) {
			text, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			f, ds := syntax.Parse(name, text)
			var rec *check.Recipe
			if !ds.HasErrors() {
				var cds diag.Diagnostics
				rec, cds = check.Check(f, stdlib.Env(), check.Options{})
				ds = append(ds, cds...)
			}
			if len(ds) > 0 {
				var b bytes.Buffer
				(&diag.Printer{Sources: diag.FileMap{name: f.Source}}).Fprint(&b, ds)
				t.Fatalf("%s has diagnostics:\n%s", name, b.String())
			}
			if _, err := planner.Build(rec, planner.Options{}); err != nil {
				t.Fatalf("plan: %v", err)
			}
		})
	}
}
