package syntax

// Token is one lexical token of a recipe, for highlighters: its rule name
// (Comment, String, Percent, Quantity, Float, Int, Ident, Range, Op,
// Punct, Newline, Space) and its byte offsets, end exclusive.
type Token struct {
	Kind       string
	Start, End int
}

// Tokens lexes text with the parser's own lexer. The tokens tile the
// text, spaces and newlines included; from the first character no rule
// accepts, the rest of the text is one token of kind "Invalid".
func Tokens(text []byte) []Token {
	toks, err := scan("", text, true)
	names := make(map[int]string, len(tokenNames))
	for name, typ := range tokenNames {
		names[int(typ)] = name
	}
	out := make([]Token, 0, len(toks))
	end := 0
	for _, t := range toks {
		if t.EOF() {
			break
		}
		out = append(out, Token{Kind: names[int(t.Type)], Start: t.Pos.Offset, End: t.Pos.Offset + len(t.Value)})
		end = t.Pos.Offset + len(t.Value)
	}
	if err != nil && end < len(text) {
		out = append(out, Token{Kind: "Invalid", Start: end, End: len(text)})
	}
	return out
}
