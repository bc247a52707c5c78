package repl

import "strings"

// Incomplete reports whether text opens more braces, brackets or
// parentheses than it closes (outside strings and comments), so the REPL
// should read another line before evaluating it.
func Incomplete(text string) bool {
	depth, quoted := 0, false
	for i := 0; i < len(text); i++ {
		switch ch := text[i]; {
		case ch == '\n':
			quoted = false
		case ch == '"':
			quoted = !quoted
		case quoted:
			if ch == '\\' {
				i++
			}
		case ch == '#':
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case ch == '{' || ch == '[' || ch == '(':
			depth++
		case ch == '}' || ch == ']' || ch == ')':
			depth--
		}
	}
	return depth > 0
}

// HistoryLine joins the lines of a multi-line input into one line that
// parses the same, for the history file: lines join with "; " except after
// an opening bracket or a comma, or before a closing bracket, where a
// blank suffices.
func HistoryLine(text string) string {
	var out string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if i := commentStart(line); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		switch {
		case out == "":
			out = line
		case strings.HasSuffix(out, "{") || strings.HasSuffix(out, "[") || strings.HasSuffix(out, "(") ||
			strings.HasSuffix(out, ",") || strings.HasPrefix(line, "]") || strings.HasPrefix(line, ")"):
			out += " " + line
		default:
			out += "; " + line
		}
	}
	return out
}

// commentStart is the offset of a '#' outside quotes, or -1.
func commentStart(line string) int {
	quoted := false
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '"':
			quoted = !quoted
		case quoted && line[i] == '\\':
			i++
		case !quoted && line[i] == '#':
			return i
		}
	}
	return -1
}
