package stdlib

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
)

// The files under testdata/errors are malformed recipes with their
// expected diagnostics written inline, next to the offending line:
//
//	quantize uniform bits=0   # ERROR 1:23 "bits must be between 1 and 16"
//
// Each expectation is SEVERITY LINE:COL "substring of the summary", with
// SEVERITY one of ERROR, WARNING, NOTE; several may share a comment; \"
// stands for a quote inside the substring. The
// position is the start of the diagnostic's span. A line `# OPTIONS
// model data` checks with --model / --data bound; `# SET k=v` adds a
// --set. The test fails on any missing or unexpected diagnostic, syntax
// errors included.

var expectRE = regexp.MustCompile(`(ERROR|WARNING|NOTE) (\d+):(\d+) "((?:[^"\\]|\\.)*)"`)

type want struct {
	sev       string
	line, col int
	text      string
}

func (w want) String() string { return fmt.Sprintf("%s %d:%d %q", w.sev, w.line, w.col, w.text) }

func parseWants(text string) ([]want, check.Options) {
	var out []want
	opts := check.Options{Sets: map[string]string{}}
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, "# OPTIONS "); ok {
			opts.ModelBound = strings.Contains(rest, "model")
			opts.DataBound = strings.Contains(rest, "data")
		}
		if rest, ok := strings.CutPrefix(line, "# SET "); ok {
			k, v, _ := strings.Cut(rest, "=")
			opts.Sets[k] = v
		}
		for _, m := range expectRE.FindAllStringSubmatch(line, -1) {
			var w want
			fmt.Sscanf(m[2]+" "+m[3], "%d %d", &w.line, &w.col)
			w.sev, w.text = strings.ToLower(m[1]), strings.ReplaceAll(m[4], `\"`, `"`)
			out = append(out, w)
		}
	}
	return out, opts
}

func matches(w want, d *diag.Diagnostic) bool {
	return w.sev == d.Severity.String() && w.line == d.Span.Start.Line && w.col == d.Span.Start.Column &&
		strings.Contains(d.Summary, w.text)
}

func TestErrorRecipes(t *testing.T) {
	files, _ := filepath.Glob("testdata/errors/*.qpipe")
	if len(files) < 40 {
		t.Fatalf("want at least 40 malformed recipes, found %d", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			text, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			wants, opts := parseWants(string(text))
			if len(wants) == 0 {
				t.Fatal("the file expects no diagnostic; malformed recipes must expect at least one")
			}
			_, ds := check.CheckSource(file, text, Env(), opts)
			compare(t, wants, ds)
		})
	}
}

func compare(t *testing.T, wants []want, ds diag.Diagnostics) {
	t.Helper()
	rest := slices.Clone(ds)
	for _, w := range wants {
		i := slices.IndexFunc(rest, func(d *diag.Diagnostic) bool { return matches(w, d) })
		if i < 0 {
			t.Errorf("missing diagnostic %s", w)
			continue
		}
		rest = slices.Delete(rest, i, i+1)
	}
	for _, d := range rest {
		t.Errorf("unexpected %s (detail: %s)", d.Error(), d.Detail)
	}
}

func TestValidRecipes(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*.qpipe")
	if len(files) < 5 {
		t.Fatalf("want the paper recipes and a quickstart, found %d files", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			text, _ := os.ReadFile(file)
			_, opts := parseWants(string(text))
			rec, ds := check.CheckSource(file, text, Env(), opts)
			for _, d := range ds {
				t.Errorf("%s (detail: %s)", d.Error(), d.Detail)
			}
			if len(rec.Steps) == 0 {
				t.Error("no steps")
			}
		})
	}
}
