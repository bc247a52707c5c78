package lsp

import (
	"unicode/utf16"
	"unicode/utf8"

	protocol "github.com/tliron/glsp/protocol_3_16"

	"github.com/qpipe/qpipe/lang/source"
)

// utf16Len counts the UTF-16 code units of b (invalid bytes count one).
func utf16Len(b []byte) int {
	n := 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		n += max(utf16.RuneLen(r), 1)
		b = b[size:]
	}
	return n
}

// position converts a byte offset of f into an LSP position.
func position(f *source.File, offset int) protocol.Position {
	p := f.Pos(offset)
	lineStart := p.Offset - (p.Column - 1)
	return protocol.Position{
		Line:      protocol.UInteger(p.Line - 1),
		Character: protocol.UInteger(utf16Len(f.Text[lineStart:p.Offset])),
	}
}

// rangeOf converts a span into an LSP range.
func rangeOf(f *source.File, sp source.Span) protocol.Range {
	return protocol.Range{Start: position(f, sp.Start.Offset), End: position(f, sp.End.Offset)}
}

// offsetOf converts an LSP position into a byte offset of text, clamping
// past the end of a line to its end and past the last line to the end.
func offsetOf(text []byte, pos protocol.Position) int {
	off := 0
	for line := 0; line < int(pos.Line); line++ {
		i := indexByte(text[off:], '\n')
		if i < 0 {
			return len(text)
		}
		off += i + 1
	}
	units := int(pos.Character)
	for off < len(text) && text[off] != '\n' && units > 0 {
		r, size := utf8.DecodeRune(text[off:])
		units -= max(utf16.RuneLen(r), 1)
		if units < 0 {
			break
		}
		off += size
	}
	return off
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// fullRange covers the whole of f.
func fullRange(f *source.File) protocol.Range {
	return protocol.Range{Start: protocol.Position{}, End: position(f, len(f.Text))}
}
