package format

import (
	"strings"

	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/lang/syntax"
)

// printer walks the statements in source order and emits output lines,
// taking each comment in turn as the walk passes its offset: a comment is
// either a line of its own or the trailing comment of the line just
// emitted, so comments never change order.
type printer struct {
	src      *source.File
	comments []*syntax.Comment
	next     int // index of the first comment not yet printed
	out      []line

	prevEnd int  // source line where the last emitted item ended
	atStart bool // nothing emitted yet in the current block or file
}

func newPrinter(f *syntax.File) *printer {
	return &printer{src: f.Source, comments: f.Comments, atStart: true}
}

// stmts prints a statement list; end is the offset where the list's block
// closes (its '}') or the file ends.
func (p *printer) stmts(stmts []syntax.Stmt, depth, end int) {
	for i, s := range stmts {
		next := end
		if i+1 < len(stmts) {
			next = stmts[i+1].Span().Start.Offset
		}
		p.stmt(s, depth, next)
	}
	p.ownLineComments(end, depth, 0)
}

// stmt prints one statement; next is the offset where the following
// statement (or the enclosing block's end) starts, which bounds its
// trailing comment.
func (p *printer) stmt(s syntax.Stmt, depth, next int) {
	switch s := s.(type) {
	case *syntax.Repeat:
		var b strings.Builder
		b.WriteString("repeat ")
		p.expr(&b, s.Count)
		p.block(s, b.String(), s.Body, depth, next)
	case *syntax.For:
		var b strings.Builder
		b.WriteString("for " + s.Var.Name + " in ")
		p.expr(&b, s.Over)
		p.block(s, b.String(), s.Body, depth, next)
	default:
		sp := s.Span()
		p.ownLineComments(sp.End.Offset, depth, sp.Start.Line)
		p.emit(sp.Start.Line, sp.End.Line, depth, p.simple(s))
		p.trailing(sp.End, next)
	}
}

// simple renders a command, let or expect on one line.
func (p *printer) simple(s syntax.Stmt) string {
	var b strings.Builder
	switch s := s.(type) {
	case *syntax.Command:
		b.WriteString(s.Verb.Name)
		for _, part := range parts(s.Words, s.Args) {
			b.WriteByte(' ')
			p.part(&b, part)
		}
	case *syntax.Let:
		b.WriteString("let " + s.Name.Name + " = ")
		p.expr(&b, s.Value)
	case *syntax.Expect:
		b.WriteString("expect ")
		p.expr(&b, s.Cond)
	}
	return b.String()
}

// block prints `header {`, the body one level deeper, and `}`.
func (p *printer) block(s syntax.Stmt, header string, body *syntax.Block, depth, next int) {
	open, close := body.Sp.Start, body.Sp.End
	closeOff := close.Offset - 1
	p.ownLineComments(open.Offset, depth, s.Span().Start.Line)
	p.emit(s.Span().Start.Line, open.Line, depth, header+" {")
	bodyStart := closeOff
	if len(body.Stmts) > 0 {
		bodyStart = body.Stmts[0].Span().Start.Offset
	}
	p.trailing(open, bodyStart)
	p.atStart = true
	p.stmts(body.Stmts, depth+1, closeOff)
	p.atStart = true // no blank line before '}'
	p.emit(close.Line, close.Line, depth, "}")
	p.trailing(close, next)
}

// ownLineComments prints, each on its own line, the comments that start
// before offset end. A comment inside a statement is printed before it;
// stmtLine, when not 0, is that statement's first line, used to decide
// whether a blank line precedes the comments.
func (p *printer) ownLineComments(end, depth, stmtLine int) {
	for p.next < len(p.comments) && p.comments[p.next].Sp.Start.Offset < end {
		c := p.comments[p.next]
		p.next++
		line := c.Sp.Start.Line
		if stmtLine > 0 && stmtLine < line {
			line = stmtLine
		}
		p.emit(line, c.Sp.End.Line, depth, commentText(c))
	}
}

// trailing attaches the next comment to the line just emitted when it
// starts on the same source line as pos and before offset limit.
func (p *printer) trailing(pos source.Pos, limit int) {
	if p.next >= len(p.comments) {
		return
	}
	c := p.comments[p.next]
	if c.Sp.Start.Offset >= limit || c.Sp.Start.Line != pos.Line || c.Sp.Start.Offset < pos.Offset {
		return
	}
	p.next++
	p.out[len(p.out)-1].comment = commentText(c)
}

// emit appends an output line for an item spanning source lines
// [first, last], keeping one blank line where the source had any.
func (p *printer) emit(first, last, depth int, code string) {
	blank := !p.atStart && p.blankBetween(p.prevEnd, first)
	p.out = append(p.out, line{depth: depth, code: code, blankBefore: blank})
	p.prevEnd = max(last, first)
	p.atStart = false
}

// blankBetween reports whether a blank source line lies strictly between
// lines a and b.
func (p *printer) blankBetween(a, b int) bool {
	for n := a + 1; n < b; n++ {
		if strings.TrimSpace(p.src.Line(n)) == "" {
			return true
		}
	}
	return false
}

func commentText(c *syntax.Comment) string {
	return strings.TrimRight(c.Text, " \t\r")
}
