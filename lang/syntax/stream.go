package syntax

import "github.com/alecthomas/participle/v2/lexer"

// streamLexer feeds parseValid's parser: tokens are lexed as participle
// asks for them, straight into its PeekingLexer (no slice of our own).
// Spaces and comments never reach the parser, which elides them anyway;
// comments are kept aside for the File. Columns count bytes, as
// source.Pos does, so the fast path builds spans from tokens alone; they
// differ from participle's rune columns only in errors, which parseValid
// drops (the exact parser reads the file again).
//
// The text is handed out in chunks (see parseValid): once a chunk holds
// chunk tokens, the next newline outside brackets ends it, and Next
// returns EOF until nextChunk starts the next one.
type streamLexer struct {
	text     []byte
	str      string // text, shared by every token value
	pos      lexer.Position
	comments []lexer.Token

	chunk int // tokens wanted in a chunk
	n     int // tokens in this chunk so far
	depth int // brackets open
	cut   bool
}

func newStreamLexer(name string, text []byte, chunk int) *streamLexer {
	return &streamLexer{text: text, str: string(text), chunk: chunk, cut: true,
		pos: lexer.Position{Filename: name, Line: 1, Column: 1}}
}

// atEnd reports whether the last chunk was handed out.
func (s *streamLexer) atEnd() bool { return s.cut && s.pos.Offset >= len(s.str) }

// nextChunk starts a chunk.
func (s *streamLexer) nextChunk() { s.cut, s.n = false, 0 }

// Next returns the next token that is neither space nor comment, EOF at
// the end of the chunk, or an error where no rule matches.
func (s *streamLexer) Next() (lexer.Token, error) {
	for !s.cut && s.pos.Offset < len(s.str) {
		typ, n := tokenAt(s.text, s.pos.Offset)
		if n == 0 {
			return lexer.Token{}, invalidInput(s.text, s.pos)
		}
		t := lexer.Token{Type: typ, Value: s.str[s.pos.Offset : s.pos.Offset+n], Pos: s.pos}
		s.advance(typ, n)
		switch typ {
		case tSpace:
		case tComment:
			s.comments = append(s.comments, t)
		default:
			s.count(&t)
			return t, nil
		}
	}
	s.cut = true
	return lexer.EOFToken(s.pos), nil
}

// advance moves past a token of n bytes; only a Newline ends a line.
func (s *streamLexer) advance(typ lexer.TokenType, n int) {
	s.pos.Offset += n
	s.pos.Column += n
	if typ == tNewline {
		s.pos.Line++
		s.pos.Column = 1
	}
}

// count tracks the chunk's size and bracket depth, and cuts the chunk
// after a newline outside brackets once it is big enough.
func (s *streamLexer) count(t *lexer.Token) {
	s.n++
	switch {
	case t.Type == tPunct && (t.Value == "(" || t.Value == "[" || t.Value == "{"):
		s.depth++
	case t.Type == tPunct && (t.Value == ")" || t.Value == "]" || t.Value == "}"):
		s.depth--
	case t.Type == tNewline && s.depth == 0 && s.n >= s.chunk:
		s.cut = true
	}
}
