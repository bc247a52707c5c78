package vocab

import (
	"slices"

	"github.com/qpipe/qpipe/lang/syntax"
)

// Class is a highlighting token class. Its value is the short name
// report.html uses as a CSS class; Scope gives the TextMate scope the VS
// Code grammar uses for the same class (Vim and Emacs map the same
// classes onto their own faces).
type Class string

// The token classes, in the order the grammars try them.
const (
	Comment  Class = "comment"
	String   Class = "string"
	Keyword  Class = "keyword"
	Verb     Class = "verb"
	Arg      Class = "arg"
	Assign   Class = "assign"
	Word     Class = "word"
	Percent  Class = "percent"
	Number   Class = "number"
	Operator Class = "operator"
	// Plain is text no class covers (names of lets and snapshots,
	// punctuation, spaces).
	Plain Class = ""
)

// Scope is the TextMate scope of each class.
var Scope = map[Class]string{
	Comment:  "comment.line.number-sign.qpipe",
	String:   "string.quoted.double.qpipe",
	Keyword:  "keyword.control.qpipe",
	Verb:     "support.function.verb.qpipe",
	Arg:      "variable.parameter.qpipe",
	Assign:   "keyword.operator.assignment.qpipe",
	Word:     "constant.language.qpipe",
	Percent:  "constant.numeric.percent.qpipe",
	Number:   "constant.numeric.qpipe",
	Operator: "keyword.operator.qpipe",
}

// Span is a run of text of one class, by byte offsets (end exclusive).
type Span struct {
	Class      Class
	Start, End int
}

// Highlight classifies recipe text with the parser's lexer and the
// vocabulary, by the rules of the editor grammars: a verb only where a
// statement starts (line start, after ';' or '{'), an argument name only
// before a single '='. The spans tile the text.
func (v Vocab) Highlight(text []byte) []Span {
	toks := syntax.Tokens(text)
	out := make([]Span, 0, len(toks))
	stmtStart := true
	for i, t := range toks {
		c := v.class(text, toks, i, stmtStart)
		out = append(out, Span{Class: c, Start: t.Start, End: t.End})
		switch {
		case t.Kind == "Newline" || (t.Kind == "Punct" && (text[t.Start] == ';' || text[t.Start] == '{')):
			stmtStart = true
		case t.Kind != "Space" && t.Kind != "Comment":
			stmtStart = false
		}
	}
	return out
}

// class is the class of toks[i].
func (v Vocab) class(text []byte, toks []syntax.Token, i int, stmtStart bool) Class {
	t := toks[i]
	word := string(text[t.Start:t.End])
	switch t.Kind {
	case "Comment":
		return Comment
	case "String":
		return String
	case "Percent":
		return Percent
	case "Int", "Float", "Quantity":
		return Number
	case "Op", "Range":
		return Operator
	case "Punct":
		if word == "=" {
			return Assign
		}
		return Plain
	case "Ident":
		return v.identClass(word, text, toks, i, stmtStart)
	}
	return Plain
}

func (v Vocab) identClass(word string, text []byte, toks []syntax.Token, i int, stmtStart bool) Class {
	switch {
	case has(v.Keywords, word):
		return Keyword
	case stmtStart && has(v.Verbs, word):
		return Verb
	case i+1 < len(toks) && toks[i+1].Kind == "Punct" && text[toks[i+1].Start] == '=' && has(v.Args, word):
		return Arg
	case has(v.Words, word):
		return Word
	}
	return Plain
}

func has(sorted []string, s string) bool {
	_, ok := slices.BinarySearch(sorted, s)
	return ok
}
