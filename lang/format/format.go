// Package format owns the canonical layout of .qpipe recipes, the printer
// behind `qpipe fmt`.
//
// The layout: one statement per line (statements joined with ';' are
// split), a command's words and name=value arguments in source order with
// single spaces between them, no spaces around '=' in an argument, spaces
// around binary operators and the '=' of let, lists as [a, b, c], ranges
// as 1..5, calls as name(a, k=v), two-space indentation
// inside repeat and for blocks whose braces close on their own line.
// Literals (numbers, percents, quantities, strings) are written exactly as
// in the source. Blank lines between statements are kept, several collapsed
// to one; blank lines at the start or end of a block or file are dropped.
// The output has no trailing whitespace and ends with one newline.
//
// Comments are kept, in their order. A comment on its own line stays on its
// own line, indented as the statement it precedes. A comment after a
// statement (or after a block's '{' or '}') stays at the end of that line;
// trailing comments on consecutive lines at the same depth are aligned one
// space after the longest line of the run, as gofmt aligns them. A comment
// inside a statement that spans several lines (a multi-line list, say) moves
// onto its own line before the statement, because the statement is joined
// onto one line.
//
// Formatting only changes blanks and line breaks, never the order of
// tokens (not even words against arguments: some neighbours would join, as
// `a k=1 (x)` would become the call a(x)), so the output parses to the
// same tree, and formatting it again changes nothing.
package format

import (
	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/syntax"
)

// Source prints a parsed file in canonical layout.
func Source(f *syntax.File) []byte {
	p := newPrinter(f)
	p.stmts(f.Stmts, 0, len(f.Source.Text))
	return render(p.out)
}

// Bytes parses text and prints it in canonical layout. A file with syntax
// errors is not formatted: Bytes returns nil and the errors.
func Bytes(name string, text []byte) ([]byte, diag.Diagnostics) {
	f, ds := syntax.Parse(name, text)
	if ds.HasErrors() {
		return nil, ds
	}
	return Source(f), ds
}
