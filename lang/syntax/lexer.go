package syntax

import (
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// The lexer is hand-written for speed (participle's regexp lexer took a
// third of the parse time). It gives exactly the tokens of these rules,
// tried in order at each offset, the first that matches winning:
//
//	Comment  #[^\n]*
//	String   "(\\.|[^"\\\n])*"
//	Percent  NUMBER%
//	Quantity NUMBER[A-DF-Za-df-z][A-Za-z]*
//	Float    [0-9]+(\.[0-9]+([eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)
//	Int      [0-9]+
//	Ident    [A-Za-z_][A-Za-z0-9_]*(-[A-Za-z][A-Za-z0-9_]*)*
//	Range    \.\.
//	Op       ==|!=|<=|>=|[-+*/<>]
//	Punct    [=(),\[\]{}.;]
//	Newline  \r?\n
//	Space    [ \t\r]+
//
// where NUMBER is [0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?. lexer_test.go checks
// it against participle's regexp lexer built from these rules.

// Token types, numbered as participle numbers a simple lexer's rules.
const (
	tComment lexer.TokenType = -(iota + 2)
	tString
	tPercent
	tQuantity
	tFloat
	tInt
	tIdent
	tRange
	tOp
	tPunct
	tNewline
	tSpace
)

var tokenNames = map[string]lexer.TokenType{
	"EOF": lexer.EOF, "Comment": tComment, "String": tString, "Percent": tPercent,
	"Quantity": tQuantity, "Float": tFloat, "Int": tInt, "Ident": tIdent, "Range": tRange,
	"Op": tOp, "Punct": tPunct, "Newline": tNewline, "Space": tSpace,
}

// recipeLexer is the lexer.Definition participle uses.
var recipeLexer = lexDef{}

type lexDef struct{}

func (lexDef) Symbols() map[string]lexer.TokenType { return tokenNames }

func (d lexDef) Lex(name string, r io.Reader) (lexer.Lexer, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return d.LexBytes(name, b)
}

func (lexDef) LexString(name, text string) (lexer.Lexer, error) {
	return lexDef{}.LexBytes(name, []byte(text))
}

// LexBytes scans the whole text up front; an error is returned by Next at
// the offending offset, after the tokens before it.
func (lexDef) LexBytes(name string, text []byte) (lexer.Lexer, error) {
	toks, err := scan(name, text, true)
	return &tokenList{toks: toks, err: err}, nil
}

// tokenList replays scanned tokens.
type tokenList struct {
	toks []lexer.Token
	err  error
	i    int
}

func (l *tokenList) Next() (lexer.Token, error) {
	if l.i < len(l.toks) {
		l.i++
		return l.toks[l.i-1], nil
	}
	return lexer.Token{}, l.err
}

// scan returns every token of text ending with EOF, or the tokens before a
// character no rule accepts and an error there. Without spaces it leaves
// out Space tokens, which the parser elides anyway. Token values share
// one copy of the text.
func scan(name string, text []byte, spaces bool) ([]lexer.Token, error) {
	str := string(text)
	toks := make([]lexer.Token, 0, len(text)/4+1)
	pos := lexer.Position{Filename: name, Line: 1, Column: 1}
	for pos.Offset < len(str) {
		typ, n := tokenAt(text, pos.Offset)
		if n == 0 {
			return toks, invalidInput(text, pos)
		}
		value := str[pos.Offset : pos.Offset+n]
		if spaces || typ != tSpace {
			toks = append(toks, lexer.Token{Type: typ, Value: value, Pos: pos})
		}
		pos.Advance(value) // columns in runes, as participle counts them
	}
	return append(toks, lexer.EOFToken(pos)), nil
}

func invalidInput(text []byte, pos lexer.Position) error {
	sample := []rune(string(text[pos.Offset:min(pos.Offset+17*utf8.UTFMax, len(text))]))
	if len(sample) > 16 {
		sample = append(sample[:16], []rune("...")...)
	}
	return &lexer.Error{Msg: fmt.Sprintf("lexer: invalid input text %q", string(sample)), Pos: pos}
}

// tokenAt returns the type and length of the token at off, or length 0.
func tokenAt(text []byte, off int) (lexer.TokenType, int) {
	c := text[off]
	switch {
	case c == '#':
		return tComment, lineEnd(text, off) - off
	case c == '"':
		return tString, stringToken(text, off)
	case isDigit(c):
		return numberToken(text, off)
	case isLetter(c) || c == '_':
		return tIdent, identEnd(text, off) - off
	case c == '\n':
		return tNewline, 1
	case c == '\r' && off+1 < len(text) && text[off+1] == '\n':
		return tNewline, 2
	case c == ' ' || c == '\t' || c == '\r':
		return tSpace, spaceEnd(text, off) - off
	}
	return symbolToken(text, off)
}

// stringToken is the length of a string closed on its line, or 0.
func stringToken(text []byte, off int) int {
	for i := off + 1; i < len(text) && text[i] != '\n'; i++ {
		switch text[i] {
		case '\\':
			if i+1 >= len(text) || text[i+1] == '\n' {
				return 0
			}
			i++
		case '"':
			return i + 1 - off
		}
	}
	return 0
}

// numberToken reads a percent, quantity, float or int.
func numberToken(text []byte, off int) (lexer.TokenType, int) {
	end, hasFrac, hasExp := numberEnd(text, off)
	switch {
	case end < len(text) && text[end] == '%':
		return tPercent, end + 1 - off
	case end < len(text) && isLetter(text[end]) && text[end] != 'e' && text[end] != 'E':
		unit := end + 1
		for unit < len(text) && isLetter(text[unit]) {
			unit++
		}
		return tQuantity, unit - off
	case hasFrac || hasExp:
		return tFloat, end - off
	}
	return tInt, end - off
}

// numberEnd reads digits, an optional fraction and an optional exponent,
// each only when digits follow.
func numberEnd(text []byte, off int) (end int, hasFrac, hasExp bool) {
	end = digitsEnd(text, off)
	if end+1 < len(text) && text[end] == '.' && isDigit(text[end+1]) {
		end, hasFrac = digitsEnd(text, end+1), true
	}
	if end < len(text) && (text[end] == 'e' || text[end] == 'E') {
		j := end + 1
		if j < len(text) && (text[j] == '+' || text[j] == '-') {
			j++
		}
		if j < len(text) && isDigit(text[j]) {
			end, hasExp = digitsEnd(text, j), true
		}
	}
	return end, hasFrac, hasExp
}

// identEnd reads a name whose '-' parts start with a letter.
func identEnd(text []byte, off int) int {
	end := wordEnd(text, off+1)
	for end+1 < len(text) && text[end] == '-' && isLetter(text[end+1]) {
		end = wordEnd(text, end+2)
	}
	return end
}

// symbolToken reads '..', operators and punctuation.
func symbolToken(text []byte, off int) (lexer.TokenType, int) {
	c := text[off]
	next := byte(0)
	if off+1 < len(text) {
		next = text[off+1]
	}
	switch {
	case c == '.' && next == '.':
		return tRange, 2
	case next == '=' && (c == '=' || c == '!' || c == '<' || c == '>'):
		return tOp, 2
	case c == '-' || c == '+' || c == '*' || c == '/' || c == '<' || c == '>':
		return tOp, 1
	case c == '=' || c == '(' || c == ')' || c == ',' || c == '[' || c == ']' || c == '{' || c == '}' || c == '.' || c == ';':
		return tPunct, 1
	}
	return 0, 0
}

func digitsEnd(text []byte, i int) int {
	for i < len(text) && isDigit(text[i]) {
		i++
	}
	return i
}

func wordEnd(text []byte, i int) int {
	for i < len(text) && (isLetter(text[i]) || isDigit(text[i]) || text[i] == '_') {
		i++
	}
	return i
}

func spaceEnd(text []byte, i int) int {
	for i < len(text) && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r') {
		i++
	}
	return i
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
