package assist

import (
	"strconv"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
)

// CurrentStatement returns the text of the last statement in text: what
// follows the last newline, `;`, `{` or `}` outside quotes and brackets.
func CurrentStatement(text string) string {
	start, depth, quoted := 0, 0, false
	for i := 0; i < len(text); i++ {
		switch ch := text[i]; {
		case ch == '"':
			quoted = !quoted
		case quoted:
		case ch == '#':
			for i < len(text) && text[i] != '\n' {
				i++
			}
			start = i + 1
		case ch == '[' || ch == '(':
			depth++
		case (ch == ']' || ch == ')') && depth > 0:
			depth--
		case depth == 0 && (ch == '\n' || ch == ';' || ch == '{' || ch == '}'):
			start = i + 1
		}
	}
	if start > len(text) {
		return ""
	}
	return text[start:]
}

// Fields splits a statement at blanks outside quotes and brackets. A
// trailing blank yields a last empty field, the one being started.
func Fields(stmt string) []string {
	var out []string
	var cur strings.Builder
	depth, quoted := 0, false
	for _, r := range stmt {
		switch {
		case r == '"':
			quoted = !quoted
		case quoted:
		case r == '[' || r == '(':
			depth++
		case (r == ']' || r == ')') && depth > 0:
			depth--
		case depth == 0 && (r == ' ' || r == '\t'):
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteRune(r)
	}
	if len(out) > 0 || cur.Len() > 0 || strings.TrimSpace(stmt) != stmt {
		out = append(out, cur.String())
	}
	return out
}

// plain keeps the fields that are words, not `name=value` arguments.
func plain(fields []string) []string {
	var out []string
	for _, f := range fields {
		if !strings.Contains(f, "=") {
			out = append(out, f)
		}
	}
	return out
}

// valuePartial is the piece of a value being typed: after the last `[`,
// `(`, `,` or operator blank.
func valuePartial(v string) string {
	if i := strings.LastIndexAny(v, "[(,=<>+-*/ "); i >= 0 {
		return v[i+1:]
	}
	return v
}

// nextSlots walks the words already written through the slots and returns
// the slots the next word may fill.
func nextSlots(slots []check.Param, words []string) []check.Param {
	i, repeatedUsed := 0, false
	for _, w := range words {
		for i < len(slots) && !fits(slots[i], w) && (slots[i].Optional || repeatedUsed) {
			i, repeatedUsed = i+1, false
		}
		if i >= len(slots) {
			return nil
		}
		if slots[i].Repeated {
			repeatedUsed = true
			continue
		}
		i++
	}
	var out []check.Param
	for ; i < len(slots); i++ {
		out = append(out, slots[i])
		if !slots[i].Optional && !(slots[i].Repeated && repeatedUsed) {
			break
		}
		repeatedUsed = false
	}
	return out
}

// fits reports whether word could fill slot p.
func fits(p check.Param, word string) bool {
	switch p.Type {
	case check.TKeyword, check.TEnum:
		for _, v := range p.Values {
			if v == word {
				return true
			}
		}
		return false
	}
	return true
}

func itoa(n int) string { return strconv.Itoa(n) }
