// Package source owns positions in recipe text: File, Pos and Span.
//
// It is the leaf of the module: every other package may import it, and it
// imports nothing of the module. A Span's End is exclusive, as in go/token
// and hcl.Range.
package source

import (
	"fmt"
	"sort"
)

// Pos is a location in a file. Offset is in bytes from the start; Line and
// Column are 1-based, Column counting bytes.
type Pos struct {
	Offset int `json:"offset"`
	Line   int `json:"line"`
	Column int `json:"column"`
}

// IsValid reports whether p was set.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Span is a range in a named file; End is exclusive.
type Span struct {
	File  string `json:"file"`
	Start Pos    `json:"start"`
	End   Pos    `json:"end"`
}

// IsValid reports whether s points at real text.
func (s Span) IsValid() bool { return s.Start.IsValid() }

// String renders "file:line:col", the form diagnostics start with.
func (s Span) String() string {
	if s.File == "" {
		return fmt.Sprintf("%d:%d", s.Start.Line, s.Start.Column)
	}
	return fmt.Sprintf("%s:%d:%d", s.File, s.Start.Line, s.Start.Column)
}

// Len is the span's length in bytes.
func (s Span) Len() int { return s.End.Offset - s.Start.Offset }

// Contains reports whether offset lies inside s (end exclusive).
func (s Span) Contains(offset int) bool {
	return offset >= s.Start.Offset && offset < s.End.Offset
}

// Join returns the smallest span covering a and b (same file assumed).
func Join(a, b Span) Span {
	if !a.IsValid() {
		return b
	}
	if !b.IsValid() {
		return a
	}
	out := a
	if b.Start.Offset < out.Start.Offset {
		out.Start = b.Start
	}
	if b.End.Offset > out.End.Offset {
		out.End = b.End
	}
	return out
}

// File is a named recipe text with a line index.
type File struct {
	Name  string
	Text  []byte
	lines []int // offsets of line starts
}

// NewFile indexes text for position look-ups.
func NewFile(name string, text []byte) *File {
	f := &File{Name: name, Text: text, lines: []int{0}}
	for i, c := range text {
		if c == '\n' {
			f.lines = append(f.lines, i+1)
		}
	}
	return f
}

// Pos converts a byte offset into a Pos; offsets past the end clamp to it.
func (f *File) Pos(offset int) Pos {
	if offset < 0 {
		offset = 0
	}
	if offset > len(f.Text) {
		offset = len(f.Text)
	}
	i := sort.Search(len(f.lines), func(i int) bool { return f.lines[i] > offset }) - 1
	return Pos{Offset: offset, Line: i + 1, Column: offset - f.lines[i] + 1}
}

// Span builds a span over [start, end) byte offsets.
func (f *File) Span(start, end int) Span {
	return Span{File: f.Name, Start: f.Pos(start), End: f.Pos(end)}
}

// Line returns line n (1-based) without its newline, or "" when out of range.
func (f *File) Line(n int) string {
	if n < 1 || n > len(f.lines) {
		return ""
	}
	start := f.lines[n-1]
	end := len(f.Text)
	if n < len(f.lines) {
		end = f.lines[n] - 1
	}
	if end > start && f.Text[end-1] == '\r' {
		end--
	}
	return string(f.Text[start:end])
}

// LineCount is the number of lines in the file.
func (f *File) LineCount() int { return len(f.lines) }
