package diag

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/source"
)

func render(t *testing.T, text string, from, to int, summary string) string {
	t.Helper()
	f := source.NewFile("r.qpipe", []byte(text))
	p := &Printer{Sources: FileMap{"r.qpipe": f}}
	return p.Render(Errorf(f.Span(from, to), summary))
}

// An ESC sequence or bidi override in a recipe is shown escaped, never
// sent to the terminal; the caret stays under the spanned text.
func TestRenderEscapesControlCharacters(t *testing.T) {
	text := "model \"\x1b[2J\x1b[31mred\" \u202eevil\r\n"
	off := strings.Index(text, "evil")
	got := render(t, text, off, off+4, "unknown \x1b[31mname")
	if strings.ContainsAny(got, "\x1b\r\u202e") {
		t.Fatalf("raw control characters reached the output: %q", got)
	}
	want := "r.qpipe:1:25: error: unknown \\x1b[31mname\n" +
		"  model \"\\x1b[2J\\x1b[31mred\" \\u202eevil\n" +
		"  " + strings.Repeat(" ", len(`model "\x1b[2J\x1b[31mred" \u202e`)) + "^^^^\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// Carets are measured in terminal cells: a CJK character is two wide, a
// combining accent zero.
func TestRenderCaretsUnderWideCharacters(t *testing.T) {
	text := "let 名前 = 1\nlet e\u0301x = 2\n"
	off := strings.Index(text, "名前")
	got := render(t, text, off, off+len("名前"), "bad")
	if !strings.HasSuffix(got, "  let 名前 = 1\n      ^^^^\n") {
		t.Errorf("wide:\n%s", got)
	}
	off = strings.Index(text, "x")
	got = render(t, text, off, off+1, "bad")
	if !strings.HasSuffix(got, "  let e\u0301x = 2\n       ^\n") {
		t.Errorf("combining:\n%s", got)
	}
}

func TestJSONAlwaysHasSuggestions(t *testing.T) {
	f := source.NewFile("r.qpipe", []byte("x\n"))
	var buf bytes.Buffer
	WriteJSON(&buf, Diagnostics{Errorf(f.Span(0, 1), "a"), Errorf(f.Span(0, 1), "b").Suggest("c")})
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if s, ok := got[0]["suggestions"].([]any); !ok || len(s) != 0 {
		t.Errorf("no suggestions: %v", got[0])
	}
	if s, _ := got[1]["suggestions"].([]any); len(s) != 1 || s[0] != "c" {
		t.Errorf("one suggestion: %v", got[1])
	}
	buf.Reset()
	WriteJSON(&buf, nil)
	if strings.TrimSpace(buf.String()) != "[]" {
		t.Errorf("no diagnostics: %q", buf.String())
	}
}
