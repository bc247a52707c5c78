package syntax

import (
	"fmt"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/source"
)

// Parsing, lowering, checking and printing recurse once per level of an
// expression, so a recipe of a few hundred thousand '(' (or '-', or '+')
// would overflow the stack. guardDepth bounds the levels before the
// grammar sees the text, on the token stream, whichever parse path runs:
//
//   - MaxDepth: brackets ( [ { open at once;
//   - MaxOperators: operators (binary, unary minus, and/or) pending along
//     one path of an expression — those in the enclosing brackets' current
//     elements plus the current one's — which bounds the tree's depth.
//
// Real recipes use a handful of each.
const (
	MaxDepth     = 200
	MaxOperators = 1000
)

// guardDepth reports every top-level construct that exceeds a limit at
// the token that crosses it (line:col) and blanks the construct (offsets
// and newlines kept) in a copy of text, so the rest of the file still
// parses. It returns text itself when nothing is too deep.
func guardDepth(src *source.File, text []byte) ([]byte, diag.Diagnostics) {
	deep := scanDepth(text)
	if len(deep) == 0 {
		return text, nil
	}
	work := append([]byte(nil), text...)
	var ds diag.Diagnostics
	for _, d := range deep {
		ds = append(ds, depthDiag(src, d))
		blankOuter(work, d.start, d.end)
	}
	return work, ds
}

// tooDeep is a token that crosses a limit (at, its length n, and which
// limit) and the top-level statement around it: from start to end (-1:
// the end of the text).
type tooDeep struct {
	at, n      int
	brackets   bool
	start, end int
}

// depthScan is the state of one pass over the tokens. levels holds the
// pending operator count of each open bracket's current element, capped at
// MaxDepth+1 entries (deeper text is already being reported).
type depthScan struct {
	text     []byte
	depth    int
	levels   []int
	braces   []bool // whether each capped level is a '{'
	pending  int    // sum of levels
	start    int    // where the current top-level statement starts
	reported bool   // the current top-level construct is already reported
	out      []tooDeep
}

func scanDepth(text []byte) []tooDeep {
	s := &depthScan{text: text, levels: []int{0}, braces: []bool{true}}
	for off := 0; off < len(text); {
		typ, n := tokenAt(text, off)
		if n == 0 {
			n = 1 // the grammar reports the invalid character
		}
		s.token(typ, off, n)
		off += n
	}
	return s.out
}

func (s *depthScan) token(typ lexer.TokenType, off, n int) {
	v := s.text[off : off+n]
	switch {
	case typ == tPunct && (v[0] == '(' || v[0] == '[' || v[0] == '{'):
		s.open(off, v[0] == '{')
	case typ == tPunct && (v[0] == ')' || v[0] == ']' || v[0] == '}'):
		s.close()
	case typ == tPunct && v[0] == ',':
		s.resetLevel()
	case typ == tNewline || typ == tPunct && v[0] == ';':
		if s.braces[len(s.braces)-1] {
			s.resetLevel()
			if s.depth == 0 {
				s.endTopLevel(off + n)
			}
		}
	case typ == tOp || typ == tIdent && (string(v) == "and" || string(v) == "or"):
		s.levels[len(s.levels)-1]++
		s.pending++
		if s.pending > MaxOperators {
			s.report(off, n, false)
		}
	}
}

func (s *depthScan) open(off int, brace bool) {
	s.depth++
	if s.depth > MaxDepth {
		s.report(off, 1, true)
		return
	}
	s.levels, s.braces = append(s.levels, 0), append(s.braces, brace)
}

func (s *depthScan) close() {
	if s.depth == 0 {
		return // the grammar reports the stray closer
	}
	if s.depth <= MaxDepth {
		s.pending -= s.levels[len(s.levels)-1]
		s.levels, s.braces = s.levels[:len(s.levels)-1], s.braces[:len(s.braces)-1]
	}
	s.depth--
}

func (s *depthScan) resetLevel() {
	if s.depth <= MaxDepth {
		s.pending -= s.levels[len(s.levels)-1]
		s.levels[len(s.levels)-1] = 0
	}
}

// endTopLevel closes the current top-level construct at a statement end.
func (s *depthScan) endTopLevel(next int) {
	if s.reported {
		s.out[len(s.out)-1].end = next
	}
	s.reported, s.start = false, next
}

func (s *depthScan) report(off, n int, brackets bool) {
	if s.reported {
		return
	}
	s.reported = true
	s.out = append(s.out, tooDeep{at: off, n: n, brackets: brackets, start: s.start, end: -1})
}

func depthDiag(src *source.File, d tooDeep) *diag.Diagnostic {
	if d.brackets {
		return diag.Errorf(src.Span(d.at, d.at+d.n), fmt.Sprintf("nesting too deep: this bracket opens level %d, more than the %d a recipe may use", MaxDepth+1, MaxDepth)).
			WithDetail("split the expression into smaller ones with let, or the nested blocks into a sequence")
	}
	return diag.Errorf(src.Span(d.at, d.at+d.n), fmt.Sprintf("expression too deep: more than %d operators pending in one expression", MaxOperators)).
		WithDetail("split the expression into smaller ones with let")
}

// blankOuter overwrites start..end (to the end of the text when end < 0)
// with spaces, newlines kept.
func blankOuter(work []byte, start, end int) {
	if end < 0 || end > len(work) {
		end = len(work)
	}
	for i := start; i < end; i++ {
		if work[i] != '\n' && work[i] != '\r' {
			work[i] = ' '
		}
	}
}
