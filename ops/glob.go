package ops

import (
	"regexp"
	"strings"
)

// CompileGlob turns a layer-name pattern into a regular expression.
// Names are dotted module paths; in a pattern
//
//   - matches any run of characters except '.' (one path segment or part of it)
//     **     matches any run of characters, dots included
//     ?      matches one character except '.'
//     {a,b}  matches either alternative
//
// and everything else matches itself. The whole name must match.
func CompileGlob(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	depth := 0
	for i := 0; i < len(pattern); i++ {
		switch ch := pattern[i]; {
		case strings.HasPrefix(pattern[i:], "**."):
			b.WriteString(`(?:.*\.)?`) // "**.act" also matches a top-level "act"
			i += 2
		case ch == '*' && i+1 < len(pattern) && pattern[i+1] == '*':
			b.WriteString(".*")
			i++
		case ch == '*':
			b.WriteString(`[^.]*`)
		case ch == '?':
			b.WriteString(`[^.]`)
		case ch == '{':
			b.WriteString("(?:")
			depth++
		case ch == '}' && depth > 0:
			b.WriteString(")")
			depth--
		case ch == ',' && depth > 0:
			b.WriteString("|")
		default:
			b.WriteString(regexp.QuoteMeta(string(ch)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// MatchName reports whether a dotted module name matches a glob pattern
// (see CompileGlob). A malformed pattern matches nothing.
func MatchName(pattern, name string) bool {
	re, err := CompileGlob(pattern)
	return err == nil && re.MatchString(name)
}
