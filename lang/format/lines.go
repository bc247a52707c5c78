package format

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// line is one output line: indentation depth, code, and an optional
// trailing comment.
type line struct {
	depth       int
	code        string
	comment     string
	blankBefore bool
}

const indent = "  "

// render joins the lines, aligning trailing comments run by run.
func render(lines []line) []byte {
	var b bytes.Buffer
	cols := commentColumns(lines)
	for i, l := range lines {
		if l.blankBefore {
			b.WriteByte('\n')
		}
		text := strings.Repeat(indent, l.depth) + l.code
		b.WriteString(text)
		if l.comment != "" {
			b.WriteString(strings.Repeat(" ", cols[i]-width(text)))
			b.WriteString(l.comment)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// commentColumns gives each line with a trailing comment the column its
// comment starts at: one past the widest line of its run, a run being
// consecutive lines at one depth, each with a trailing comment, with no
// blank line between.
func commentColumns(lines []line) []int {
	cols := make([]int, len(lines))
	for start := 0; start < len(lines); {
		end := runEnd(lines, start)
		widest := 0
		for _, l := range lines[start:end] {
			widest = max(widest, width(strings.Repeat(indent, l.depth)+l.code))
		}
		for i := start; i < end; i++ {
			cols[i] = widest + 1
		}
		start = max(end, start+1)
	}
	return cols
}

// runEnd returns the end of the run of commented lines starting at start
// (start itself when that line has no trailing comment).
func runEnd(lines []line, start int) int {
	if lines[start].comment == "" {
		return start
	}
	end := start + 1
	for end < len(lines) && lines[end].comment != "" && !lines[end].blankBefore && lines[end].depth == lines[start].depth {
		end++
	}
	return end
}

// width counts characters, not bytes, so comments after non-ASCII strings
// line up on screen.
func width(s string) int { return utf8.RuneCountInString(s) }
