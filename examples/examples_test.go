// Package examples holds the runnable recipes; this test keeps every one
// of them free of diagnostics (errors and warnings alike) and plannable.
package examples

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/format"
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
			checkClean(t, name, text)
		})
	}
}

// TestExamplesAreCanonical is `qpipe fmt --check examples/*.qpipe`: every
// example is in the layout qpipe fmt prints, so users who copy one and run
// fmt see no diff.
func TestExamplesAreCanonical(t *testing.T) {
	files, _ := filepath.Glob("*.qpipe")
	for _, name := range files {
		text, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out, ds := format.Bytes(name, text)
		if ds.HasErrors() {
			t.Errorf("%s: %v", name, ds)
			continue
		}
		if !bytes.Equal(out, text) {
			t.Errorf("%s is not in canonical layout; run: qpipe fmt -w examples/%s", name, name)
		}
	}
}

// TestDocumentedRecipesCheckClean keeps the ```qpipe blocks of the README
// and the language reference valid recipes.
func TestDocumentedRecipesCheckClean(t *testing.T) {
	for _, doc := range []string{"../README.md", "../docs/language.md", "../docs/robustness.md"} {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		blocks := qpipeBlocks(string(text))
		if len(blocks) == 0 {
			t.Errorf("%s has no qpipe example", doc)
		}
		for i, b := range blocks {
			t.Run(fmt.Sprintf("%s#%d", filepath.Base(doc), i+1), func(t *testing.T) {
				checkClean(t, doc, []byte(b))
			})
		}
	}
}

// qpipeBlocks returns the bodies of the ```qpipe fenced blocks of a
// Markdown text.
func qpipeBlocks(md string) []string {
	var out []string
	for _, part := range strings.Split(md, "```qpipe\n")[1:] {
		body, _, ok := strings.Cut(part, "```")
		if ok {
			out = append(out, body)
		}
	}
	return out
}

// checkClean fails unless text parses, checks without any diagnostic and
// plans.
func checkClean(t *testing.T, name string, text []byte) {
	t.Helper()
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
}
