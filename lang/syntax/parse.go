package syntax

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2"

	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/source"
)

// maxRecoveries bounds how many syntax errors one file reports.
const maxRecoveries = 50

// Parse parses a recipe. It reports every syntax error in the file, not
// just the first: after an error, the broken statement is blanked out
// (offsets kept) and parsing starts again, so later statements still parse
// and positions stay exact. The returned File holds every statement that
// parsed; diagnostics are nil when there were no errors.
func Parse(name string, text []byte) (*File, diag.Diagnostics) {
	src := source.NewFile(name, text)
	work := append([]byte(nil), text...)
	var ds diag.Diagnostics
	for range maxRecoveries {
		g, err := parser.ParseBytes(name, work)
		if err == nil {
			f := &File{Name: name, Source: src, Stmts: newLowerer(src).items(g.Items)}
			f.Comments = comments(src)
			ds.Sort()
			return f, ds
		}
		d, off := syntaxDiag(src, err)
		ds = append(ds, d)
		if !blankStatement(work, off) {
			break
		}
	}
	ds.Sort()
	return &File{Name: name, Source: src, Comments: comments(src)}, ds
}

// ParseString is Parse over a string.
func ParseString(name, text string) (*File, diag.Diagnostics) {
	return Parse(name, []byte(text))
}

// syntaxDiag turns a participle or lexer error into a located diagnostic,
// returning also the byte offset where it happened.
func syntaxDiag(src *source.File, err error) (*diag.Diagnostic, int) {
	var perr participle.Error
	if !errors.As(err, &perr) {
		return diag.Errorf(src.Span(0, 0), err.Error()), 0
	}
	pos := perr.Position()
	off := pos.Offset
	if strings.Contains(perr.Message(), "invalid input text") && off < len(src.Text) {
		return lexDiag(src, off), off
	}
	length := 1
	var ute *participle.UnexpectedTokenError
	if errors.As(err, &ute) {
		off = ute.Unexpected.Pos.Offset
		length = max(len(ute.Unexpected.Value), 1)
	}
	if off >= len(src.Text) {
		off = max(len(src.Text)-1, 0)
		length = min(1, len(src.Text))
	}
	d := diag.Errorf(src.Span(off, off+length), summary(perr, ute))
	if hint := hint(src, off); hint != "" {
		d.WithDetail(hint)
	}
	return d, off
}

func summary(perr participle.Error, ute *participle.UnexpectedTokenError) string {
	if ute == nil {
		return perr.Message()
	}
	tok := ute.Unexpected
	what := fmt.Sprintf("%q", tok.Value)
	switch {
	case tok.EOF():
		what = "end of file"
	case tok.Value == "\n" || tok.Value == "\r\n":
		what = "end of line"
	}
	if ute.Expect != "" {
		return fmt.Sprintf("unexpected %s, expected %s", what, ute.Expect)
	}
	return "unexpected " + what
}

// lexDiag describes text the lexer could not read at off.
func lexDiag(src *source.File, off int) *diag.Diagnostic {
	r, size := utf8.DecodeRune(src.Text[off:])
	if r == '"' {
		end := off
		for end < len(src.Text) && src.Text[end] != '\n' {
			end++
		}
		return diag.Errorf(src.Span(off, end), "unterminated string").
			WithDetail("strings are closed on the same line with a double quote")
	}
	return diag.Errorf(src.Span(off, off+size), fmt.Sprintf("unexpected character %q", r)).
		WithDetail("recipes use letters, digits, quotes, brackets and the operators = + - * / < > ..; '#' starts a comment")
}

// hint adds a sentence for common slips.
func hint(src *source.File, off int) string {
	rest := string(src.Text[off:])
	switch {
	case strings.HasPrefix(rest, "="):
		return "arguments are written name=value with a name before the '='"
	case strings.HasPrefix(rest, "}"):
		return "a '}' closes a repeat or for block; check the braces above"
	}
	return ""
}

// blankStatement overwrites the statement around off with spaces (keeping
// newlines and offsets) and reports whether anything changed.
func blankStatement(work []byte, off int) bool {
	if off >= len(work) {
		off = len(work) - 1
	}
	if off < 0 {
		return false
	}
	start := off
	for start > 0 && work[start-1] != '\n' && work[start-1] != ';' {
		start--
	}
	end := off
	for end < len(work) && work[end] != '\n' && work[end] != ';' {
		end++
	}
	changed := false
	for i := start; i < end; i++ {
		if work[i] != ' ' && work[i] != '\r' {
			work[i] = ' '
			changed = true
		}
	}
	if !changed && end < len(work) && work[end] == ';' {
		work[end] = ' '
		changed = true
	}
	return changed
}

// comments lexes the file again and keeps the comment tokens.
func comments(src *source.File) []*Comment {
	lex, err := recipeLexer.LexString(src.Name, string(src.Text))
	if err != nil {
		return nil
	}
	kind := recipeLexer.Symbols()["Comment"]
	var out []*Comment
	for {
		t, err := lex.Next()
		if err != nil || t.EOF() {
			return out
		}
		if t.Type == kind {
			text := strings.TrimSuffix(t.Value, "\r") // a CRLF line's '\r' is not part of the comment
			out = append(out, &Comment{Text: text, Sp: src.Span(t.Pos.Offset, t.Pos.Offset+len(text))})
		}
	}
}
