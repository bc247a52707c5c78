package diag

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Diagnostics echo text that came from a file: source lines, and names or
// strings quoted in summaries. That text is shown, never obeyed: control
// characters (an ESC sequence could recolour or clear the terminal, a
// carriage return hide the line) and bidirectional overrides (which
// reorder what is displayed) are printed as escapes, and carets are
// measured in terminal cells, so they sit under wide (CJK, emoji) and
// combining characters too.

// visible returns s with every control or bidi-override character written
// as a Go escape (\x1b, \u202e); a tab becomes one space.
func visible(s string) string {
	if !strings.ContainsFunc(s, needsEscape) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		b.WriteString(visibleRune(r))
	}
	return b.String()
}

func visibleRune(r rune) string {
	switch {
	case r == '\t':
		return " "
	case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
		return fmt.Sprintf(`\x%02x`, r)
	case needsEscape(r):
		return fmt.Sprintf(`\u%04x`, r)
	}
	return string(r)
}

// needsEscape is true for control characters, tabs and the Unicode
// bidirectional embedding, override and isolate controls.
func needsEscape(r rune) bool {
	return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 ||
		r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f
}

// cells is the width of s on a terminal, in columns.
func cells(s string) int { return uniseg.StringWidth(s) }

// excerptLine returns the displayed line and the caret row under the
// bytes [start, end) of line (span columns count bytes), moved to rune
// boundaries.
func excerptLine(line string, start, end int) (shown, carets string) {
	start = runeStart(line, min(max(start, 0), len(line)))
	end = runeStart(line, min(max(end, start), len(line)))
	before := visible(line[:start])
	width := max(cells(visible(line[start:end])), 1)
	return visible(line), strings.Repeat(" ", cells(before)) + strings.Repeat("^", width)
}

// runeStart moves i back to the start of the rune it falls in.
func runeStart(s string, i int) int {
	for i > 0 && i < len(s) && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}
