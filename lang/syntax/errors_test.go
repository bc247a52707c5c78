package syntax

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/diag"
)

// Expected errors are written inline in testdata/errors/*.qpipe as
// comments:
//
//	# ERROR [LINE:]COL SUMMARY [-- DETAIL]
//
// LINE defaults to the comment's own line, so a trailing comment marks an
// error on its line; an own-line comment with LINE:COL marks one elsewhere
// (needed where the comment itself would move the error: an unterminated
// string or an error at the end of a line). SUMMARY and DETAIL are
// substrings of the diagnostic's summary and detail. One line may hold
// several markers. The parser must report exactly the marked errors, in
// order of position, nothing else.
var errorMarker = regexp.MustCompile(`# ERROR (?:(\d+):)?(\d+) ((?:[^#-]|-[^-])*?)(?: -- ((?:[^#])*?))?\s*(?:#|$)`)

type wantError struct {
	line, col       int
	summary, detail string
}

func (w wantError) String() string {
	return fmt.Sprintf("%d:%d %s -- %s", w.line, w.col, w.summary, w.detail)
}

// markers reads the expected errors from a test file's text.
func markers(text string) []wantError {
	var out []wantError
	for i, line := range strings.Split(text, "\n") {
		rest := line
		for {
			loc := errorMarker.FindStringSubmatchIndex(rest)
			if loc == nil {
				break
			}
			m := errorMarker.FindStringSubmatch(rest)
			w := wantError{line: i + 1, summary: strings.TrimSpace(m[3]), detail: strings.TrimSpace(m[4])}
			if m[1] != "" {
				w.line, _ = strconv.Atoi(m[1])
			}
			w.col, _ = strconv.Atoi(m[2])
			out = append(out, w)
			rest = rest[max(loc[1]-1, loc[0]+1):] // the next marker starts at the '#' that ended this one
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].line < out[j].line || out[i].line == out[j].line && out[i].col < out[j].col
	})
	return out
}

// TestSyntaxErrors checks every marked error is reported, at its line and
// column, in order, with no unmarked error.
func TestSyntaxErrors(t *testing.T) {
	total := 0
	for _, path := range testFiles(t, "testdata/errors/*.qpipe") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			text := readFile(t, path)
			want := markers(string(text))
			if len(want) == 0 {
				t.Fatal("no # ERROR markers")
			}
			_, ds := Parse(filepath.Base(path), text)
			if msg := compareErrors(ds, want); msg != "" {
				t.Error(msg)
			}
			total += len(want)
		})
	}
	t.Logf("%d expected errors checked", total)
}

func compareErrors(ds diag.Diagnostics, want []wantError) string {
	var b strings.Builder
	for i := 0; i < max(len(ds), len(want)); i++ {
		switch {
		case i >= len(ds):
			fmt.Fprintf(&b, "missing error %v\n", want[i])
		case i >= len(want):
			fmt.Fprintf(&b, "unexpected error %v -- %s\n", ds[i], ds[i].Detail)
		case !matches(ds[i], want[i]):
			fmt.Fprintf(&b, "got %v -- %s\nwant %v\n", ds[i], ds[i].Detail, want[i])
		}
	}
	return b.String()
}

func matches(d *diag.Diagnostic, w wantError) bool {
	return d.Severity == diag.Error && d.Span.Start.Line == w.line && d.Span.Start.Column == w.col &&
		strings.Contains(d.Summary, w.summary) && strings.Contains(d.Detail, w.detail)
}

// TestErrorMarkers checks the marker reader itself.
func TestErrorMarkers(t *testing.T) {
	text := "a =1; b =2   # ERROR 3 unexpected \"=\" # ERROR 9 unexpected -- name=value\n# ERROR 1:4 x -- y z\n"
	got := fmt.Sprint(markers(text))
	want := `[1:3 unexpected "=" --  1:4 x -- y z 1:9 unexpected -- name=value]`
	if got != want {
		t.Errorf("markers:\n got %s\nwant %s", got, want)
	}
}

// TestErrorAtEndOfFile covers errors at the very end of a file with no
// final newline, where no marker comment can follow.
func TestErrorAtEndOfFile(t *testing.T) {
	cases := []struct{ text, want string }{
		{"let x =", `eof.qpipe:1:7: error: unexpected end of file`},
		{"model x\nrepeat 2 {", `eof.qpipe:2:10: error: unclosed '{'`},
		{"a [1, 2", `eof.qpipe:1:3: error: unclosed '['`},
		{"a \"open", `eof.qpipe:1:3: error: unterminated string`},
		{"a 1..", `eof.qpipe:1:5: error: unexpected end of file`},
	}
	for _, c := range cases {
		_, ds := ParseString("eof.qpipe", c.text)
		if ds.Error() != c.want {
			t.Errorf("Parse(%q):\n got %s\nwant %s", c.text, ds.Error(), c.want)
		}
	}
}

// TestManyErrorsInOrder checks one error per broken statement is
// reported, in order, with exact columns, and the statements between still
// parse; a list broken across lines is dropped as one statement.
func TestManyErrorsInOrder(t *testing.T) {
	text := "a @\nok 1\n  b =2\nok 2\nc [1,\n  2 3]\nok 3; d )\nok 4\n"
	f, ds := ParseString("many.qpipe", text)
	want := []string{
		`many.qpipe:1:3: error: unexpected character '@'`,
		`many.qpipe:3:5: error: unexpected "="`,
		`many.qpipe:6:5: error: unexpected "3"`,
		`many.qpipe:7:9: error: unexpected ")"`,
	}
	if got := strings.Split(ds.Error(), "\n"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("errors:\n%s\nwant\n%s", ds.Error(), strings.Join(want, "\n"))
	}
	if ds[2].Detail != "the '[' at 5:3 is not closed" {
		t.Errorf("detail of the error in the list: %q", ds[2].Detail)
	}
	var kept []string
	for _, s := range f.Stmts {
		sp := s.Span()
		kept = append(kept, text[sp.Start.Offset:sp.End.Offset])
	}
	if fmt.Sprint(kept) != "[ok 1 ok 2 ok 3 ok 4]" {
		t.Errorf("statements kept: %q", kept)
	}
}
