package syntax

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

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
	return parse(name, text, true)
}

// chunkTokens is about how many tokens parseValid hands participle at a
// time: a chunk ends at the first newline after so many, and the rest of
// the line seldom takes it past 1024, a power of two (participle
// grows its token slice by doubling). Smaller chunks cost more in
// participle's setup per parse than they save (BenchmarkParse10k).
const chunkTokens = 960

// parse is Parse, with or without the fast path (tests compare the two).
func parse(name string, text []byte, fast bool) (*File, diag.Diagnostics) {
	if !fast {
		return parseChunked(name, text, 0)
	}
	return parseChunked(name, text, chunkTokens)
}

// parseChunked is parse with the fast path reading chunks of about chunk
// tokens (0: none; tests use small chunks).
func parseChunked(name string, text []byte, chunk int) (*File, diag.Diagnostics) {
	src := source.NewFile(name, text)
	// Nesting deeper than MaxDepth is reported and blanked before either
	// path below recurses into it.
	work, ds := guardDepth(src, text)
	if chunk > 0 && ds == nil {
		if f, ds, ok := parseValid(src, chunk); ok {
			return f, ds
		}
	}
	// The fast path gives no syntax errors: read the file again with the
	// grammar alone, for participle's exact messages.
	if ds == nil {
		work = append([]byte(nil), text...)
	}
	for range maxRecoveries {
		g, err := exactParser.ParseBytes(name, work)
		if err == nil {
			l := newLowerer(src)
			f := &File{Name: name, Source: src, Stmts: l.items(g.Items)}
			f.Comments = comments(src)
			ds = append(ds, l.diags...)
			ds.Sort()
			return f, ds
		}
		d, off, toEnd := syntaxDiag(src, work, err)
		ds = append(ds, d)
		if toEnd {
			blankToEnd(work, off)
			continue
		}
		if !blankStatement(work, off) {
			break
		}
	}
	ds.Sort()
	return &File{Name: name, Source: src, Comments: comments(src)}, ds
}

// parseValid parses a file with no syntax errors in one scan: the fast
// path where it applies, the grammar elsewhere. ok is false at the first
// syntax error.
//
// participle copies a lexer's tokens into a slice grown one append at a
// time; over a whole file that is several copies of a large array. So the
// file goes to participle in chunks of about chunk tokens, each ending
// after a newline outside brackets. Such a newline always separates two
// top-level items (no statement goes on past it), so the chunks' items,
// joined, are the file's.
func parseValid(src *source.File, chunk int) (*File, diag.Diagnostics, bool) {
	sl := newStreamLexer(src.Name, src.Text, chunk)
	var items []*gItem
	for !sl.atEnd() {
		sl.nextChunk()
		lx, err := lexer.Upgrade(sl, tComment, tSpace)
		if err != nil {
			return nil, nil, false
		}
		g, err := parser.ParseFromLexer(lx)
		if err != nil {
			return nil, nil, false
		}
		items = append(items, g.Items...)
	}
	l := newLowerer(src)
	f := &File{Name: src.Name, Source: src, Stmts: l.items(items), Comments: commentTokens(src, sl.comments)}
	l.diags.Sort()
	return f, l.diags, true
}

// ParseString is Parse over a string.
func ParseString(name, text string) (*File, diag.Diagnostics) {
	return Parse(name, []byte(text))
}

// syntaxDiag turns a participle or lexer error into a located diagnostic,
// returning also the byte offset where it happened and whether recovery
// should drop the rest of the file (a list or call left open). work is the
// text as parsed, with earlier broken statements blanked.
func syntaxDiag(src *source.File, work []byte, err error) (*diag.Diagnostic, int, bool) {
	var perr participle.Error
	if !errors.As(err, &perr) {
		return diag.Errorf(src.Span(0, 0), err.Error()), 0, false
	}
	off := perr.Position().Offset
	if strings.Contains(perr.Message(), "invalid input text") && off < len(src.Text) {
		return lexDiag(src, off), off, false
	}
	var ute *participle.UnexpectedTokenError
	if errors.As(err, &ute) && ute.Unexpected.EOF() {
		if open := openBrackets(work, len(work)); len(open) > 0 {
			at := open[len(open)-1]
			return unclosedDiag(src, at), at, work[at] != '{'
		}
	}
	length := 1
	if ute != nil {
		off = ute.Unexpected.Pos.Offset
		length = max(len(ute.Unexpected.Value), 1)
		if v := ute.Unexpected.Value; v == "\n" || v == "\r\n" {
			off, length = afterCode(src.Text, off), 1
		}
	}
	detail := hint(src, work, off)
	if off >= len(src.Text) {
		off = max(len(src.Text)-1, 0)
		length = min(1, len(src.Text))
	}
	d := diag.Errorf(src.Span(off, off+length), summary(perr, ute))
	if detail != "" {
		d.WithDetail(detail)
	}
	return d, off, false
}

// afterCode moves an end-of-line error at off back to just after the last
// code on the line, before any trailing comment and blanks.
func afterCode(text []byte, off int) int {
	start, _ := statementBounds(text, off)
	end := off
	for i := start; i < off; i++ {
		if text[i] == '"' {
			i = stringEnd(text, i) - 1
		} else if text[i] == '#' {
			end = i
			break
		}
	}
	for end > start && (text[end-1] == ' ' || text[end-1] == '\t' || text[end-1] == '\r') {
		end--
	}
	return end
}

// unclosedDiag reports a bracket never closed before the end of the file.
func unclosedDiag(src *source.File, at int) *diag.Diagnostic {
	closer := map[byte]string{'(': ")", '[': "]", '{': "}"}[src.Text[at]]
	return diag.Errorf(src.Span(at, at+1), fmt.Sprintf("unclosed '%c'", src.Text[at])).
		WithDetail(fmt.Sprintf("the file ends before the matching '%s'", closer))
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

// hint adds a sentence for common slips, or says which construct the
// broken statement was.
func hint(src *source.File, work []byte, off int) string {
	rest := string(src.Text[off:])
	start, _ := statementBounds(work, off)
	before := strings.TrimRight(string(src.Text[start:off]), " \t")
	switch {
	case strings.HasPrefix(rest, "}"):
		return "a '}' closes a repeat or for block; check the braces above"
	case strings.HasSuffix(before, ".."):
		return "a range needs an end after '..', as in 1..5"
	case strings.HasPrefix(rest, ".") && !strings.HasPrefix(rest, "..") && endsInDigit(before):
		return "a number needs digits after its point: write 1.0 or 1"
	}
	words := strings.Fields(before)
	if strings.HasPrefix(rest, "=") && (len(words) == 0 || words[0] != "let") {
		return "arguments are written name=value with a name before the '='"
	}
	if open := openBrackets(work, off); len(open) > 0 && work[open[len(open)-1]] != '{' && !strings.HasPrefix(rest, ")") && !strings.HasPrefix(rest, "]") {
		at := src.Pos(open[len(open)-1])
		return fmt.Sprintf("the '%c' at %d:%d is not closed", work[at.Offset], at.Line, at.Column)
	}
	if form := formHint(words); form != "" {
		return form
	}
	return ""
}

func endsInDigit(s string) bool {
	return s != "" && s[len(s)-1] >= '0' && s[len(s)-1] <= '9'
}

// formHint shows how a keyword statement is written, when the broken
// statement starts with one.
func formHint(words []string) string {
	if len(words) == 0 {
		return ""
	}
	switch words[0] {
	case "let":
		return "a parameter is written: let NAME = VALUE"
	case "expect":
		return "an expectation is written: expect CONDITION, such as expect accuracy >= 0.9"
	case "repeat":
		return "a repeat block is written: repeat COUNT { on one line, the body, then }"
	case "for":
		return "a sweep is written: for NAME in LIST-OR-RANGE { on one line, the body, then }"
	}
	return ""
}

// comments lexes the file again and keeps the comment tokens.
func comments(src *source.File) []*Comment {
	toks, _ := scan(src.Name, src.Text, false) // the comments before a lexer error
	return commentTokens(src, toks)
}

func commentTokens(src *source.File, toks []lexer.Token) []*Comment {
	var out []*Comment
	for _, t := range toks {
		if t.Type == tComment {
			text := strings.TrimSuffix(t.Value, "\r") // a CRLF line's '\r' is not part of the comment
			out = append(out, &Comment{Text: text, Sp: src.Span(t.Pos.Offset, t.Pos.Offset+len(text))})
		}
	}
	return out
}
