package syntax

// Error recovery works on a copy of the text: after a syntax error the
// broken statement is overwritten with spaces (newlines and offsets kept)
// and the file is parsed again. Braces are handled as pairs so one error
// does not cascade: blanking a block header also blanks the '}' that closes
// it, and a '}' closing a block opened before the broken statement is kept.

// scanBrackets calls fn for every bracket outside strings and comments in
// text[:end], with its offset.
func scanBrackets(text []byte, end int, fn func(off int, c byte)) {
	for i := 0; i < end; i++ {
		switch c := text[i]; c {
		case '#':
			i = lineEnd(text, i) - 1
		case '"':
			i = stringEnd(text, i) - 1
		case '(', ')', '[', ']', '{', '}':
			fn(i, c)
		}
	}
}

// lineEnd is the offset of the newline ending the line at i, or len(text).
func lineEnd(text []byte, i int) int {
	for i < len(text) && text[i] != '\n' {
		i++
	}
	return i
}

// stringEnd is the offset just past the string starting at i: its closing
// quote, or the end of the line when it is unterminated.
func stringEnd(text []byte, i int) int {
	for j := i + 1; j < len(text) && text[j] != '\n'; j++ {
		switch text[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return lineEnd(text, i)
}

// openBrackets returns the offsets of the brackets still open at end,
// outermost first. A closer pops the innermost opener whatever its kind.
func openBrackets(text []byte, end int) []int {
	var stack []int
	scanBrackets(text, end, func(off int, c byte) {
		switch c {
		case '(', '[', '{':
			stack = append(stack, off)
		default:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	})
	return stack
}

// bracePairs maps the offset of each matched '{' to its '}' and back.
func bracePairs(text []byte) map[int]int {
	pairs := map[int]int{}
	var stack []int
	scanBrackets(text, len(text), func(off int, c byte) {
		switch {
		case c == '{':
			stack = append(stack, off)
		case c == '}' && len(stack) > 0:
			open := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			pairs[open], pairs[off] = off, open
		}
	})
	return pairs
}

// statementBounds returns the line or ';'-separated part around off.
func statementBounds(work []byte, off int) (start, end int) {
	start = off
	for start > 0 && work[start-1] != '\n' && work[start-1] != ';' {
		start--
	}
	end = off
	for end < len(work) && work[end] != '\n' && work[end] != ';' {
		end++
	}
	return start, end
}

// openedAt returns where the statement holding off starts when off is
// inside a list, call or parentheses opened on an earlier line: the start
// of the opener's line. Otherwise it returns off.
func openedAt(work []byte, off int) int {
	open := openBrackets(work, off)
	at := off
	for i := len(open) - 1; i >= 0 && work[open[i]] != '{'; i-- {
		at = open[i]
	}
	start, _ := statementBounds(work, at)
	return min(start, off)
}

// blankStatement overwrites the statement around off with spaces and
// reports whether anything changed.
func blankStatement(work []byte, off int) bool {
	off = min(off, len(work)-1)
	if off < 0 {
		return false
	}
	start, end := statementBounds(work, off)
	start = min(start, openedAt(work, off))
	if blankRange(work, start, end, bracePairs(work)) {
		return true
	}
	// Only a '}' of an outer block was left: drop it too, or stop.
	if blankRange(work, start, end, nil) {
		return true
	}
	if end < len(work) && work[end] == ';' {
		work[end] = ' '
		return true
	}
	return false
}

// blankRange blanks work[start:end] except '\r' and the '}' closing blocks
// opened before start; a '{' opened in the range takes its '}' with it.
func blankRange(work []byte, start, end int, pairs map[int]int) bool {
	changed := false
	for i := start; i < end; i++ {
		c := work[i]
		if c == ' ' || c == '\r' {
			continue
		}
		match, paired := pairs[i]
		if c == '}' && paired && match < start {
			continue
		}
		if c == '{' && paired && match >= end {
			work[match] = ' '
		}
		work[i] = ' '
		changed = true
	}
	return changed
}

// blankToEnd blanks from the start of the line at off to the end of the
// text, for a list or call left open until the end of the file.
func blankToEnd(work []byte, off int) {
	start, _ := statementBounds(work, off)
	for i := start; i < len(work); i++ {
		if work[i] != '\n' && work[i] != '\r' {
			work[i] = ' '
		}
	}
}
