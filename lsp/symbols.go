package lsp

import (
	"github.com/tliron/glsp"
	protocol "github.com/tliron/glsp/protocol_3_16"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/lang/syntax"
)

func (s *Server) documentSymbol(_ *glsp.Context, p *protocol.DocumentSymbolParams) (any, error) {
	d := s.doc(p.TextDocument.URI)
	if d == nil {
		return nil, nil
	}
	return s.symbols(d.file.Source, d.file.Stmts), nil
}

// symbols lists steps in source order, blocks holding their bodies; a
// statement that names a snapshot is a variable named after it, a let a
// constant.
func (s *Server) symbols(f *source.File, stmts []syntax.Stmt) []protocol.DocumentSymbol {
	out := []protocol.DocumentSymbol{}
	for _, st := range stmts {
		out = append(out, s.symbol(f, st))
	}
	return out
}

func (s *Server) symbol(f *source.File, st syntax.Stmt) protocol.DocumentSymbol {
	sym := protocol.DocumentSymbol{Range: rangeOf(f, st.Span()), SelectionRange: rangeOf(f, st.Span())}
	switch st := st.(type) {
	case *syntax.Command:
		sym.Name, sym.Kind = head(f, st), protocol.SymbolKindFunction
		sym.SelectionRange = rangeOf(f, st.Verb.Sp)
		if name := s.snapshotName(st); name != nil {
			sym.Name, sym.Kind = name.Name, protocol.SymbolKindVariable
			sym.SelectionRange = rangeOf(f, name.Sp)
			detail := "snapshot"
			sym.Detail = &detail
		}
	case *syntax.Let:
		sym.Name, sym.Kind = st.Name.Name, protocol.SymbolKindConstant
		sym.SelectionRange = rangeOf(f, st.Name.Sp)
	case *syntax.Expect:
		sym.Name, sym.Kind = text(f, st.Sp), protocol.SymbolKindEvent
	case *syntax.Repeat:
		sym.Name, sym.Kind = "repeat "+text(f, st.Count.Span()), protocol.SymbolKindNamespace
		sym.Children = s.symbols(f, st.Body.Stmts)
	case *syntax.For:
		sym.Name, sym.Kind = "for "+st.Var.Name+" in "+text(f, st.Over.Span()), protocol.SymbolKindNamespace
		sym.Children = s.symbols(f, st.Body.Stmts)
	}
	return sym
}

// snapshotName is the word filling a new-name slot of the command's verb.
func (s *Server) snapshotName(c *syntax.Command) *syntax.Ident {
	sig, ok := s.opts.Env.Lookup(c.Verb.Name)
	if !ok {
		return nil
	}
	for i, p := range sig.Slots {
		if p.Type != check.TName || i >= len(c.Words) {
			continue
		}
		if id, ok := c.Words[i].(*syntax.Ident); ok {
			return id
		}
	}
	return nil
}

// head is a command's verb and words as written.
func head(f *source.File, c *syntax.Command) string {
	sp := c.Verb.Sp
	for _, w := range c.Words {
		sp = source.Join(sp, w.Span())
	}
	return text(f, sp)
}

func text(f *source.File, sp source.Span) string {
	return string(f.Text[sp.Start.Offset:sp.End.Offset])
}
