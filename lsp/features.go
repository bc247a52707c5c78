package lsp

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/tliron/glsp"
	protocol "github.com/tliron/glsp/protocol_3_16"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/format"
	"github.com/qpipe/qpipe/lang/syntax"
	"github.com/qpipe/qpipe/repl/assist"
)

func (s *Server) hover(_ *glsp.Context, p *protocol.HoverParams) (*protocol.Hover, error) {
	d := s.doc(p.TextDocument.URI)
	if d == nil {
		return nil, nil
	}
	at := findIdent(d.file, offsetOf(d.text, p.Position))
	if at.ident == nil {
		return nil, nil
	}
	text := s.hoverText(d, at)
	if text == "" {
		return nil, nil
	}
	r := rangeOf(d.file.Source, at.ident.Sp)
	return &protocol.Hover{Contents: protocol.MarkupContent{Kind: protocol.MarkupKindMarkdown, Value: text}, Range: &r}, nil
}

// hoverText documents the name under the cursor: a verb, an argument, a
// variant or slot word, a snapshot or a parameter.
func (s *Server) hoverText(d *document, at identAt) string {
	name := at.ident.Name
	if def, ok := definitions(d.recipe)[name]; ok && (at.cmd == nil || at.cmd.Verb != at.ident) {
		return fmt.Sprintf("%s `%s`, defined at line %d", def.kind, name, def.span.Start.Line)
	}
	if at.cmd == nil {
		return ""
	}
	sig, ok := s.opts.Env.Lookup(at.cmd.Verb.Name)
	if !ok {
		return ""
	}
	switch {
	case at.cmd.Verb == at.ident:
		return block(assist.SignatureDoc(sig))
	case at.arg != nil && at.arg.Name == at.ident:
		if p, ok := assist.FindParam(sig, variantOf(sig, at.cmd), name); ok {
			return block(assist.ParamDoc(p))
		}
	case at.arg == nil:
		return wordDoc(sig, at.cmd, name)
	}
	return ""
}

// wordDoc documents a word: the variant it names or the slot it fills.
func wordDoc(sig *check.Signature, cmd *syntax.Command, word string) string {
	if v := assist.Variant(sig, word); v != nil {
		return block(fmt.Sprintf("%s %s — %s", sig.Verb, v.Name, v.Doc))
	}
	for _, p := range assist.Slots(sig, variantOf(sig, cmd)) {
		for _, v := range p.Values {
			if v == word {
				return block(assist.ParamDoc(p))
			}
		}
	}
	return ""
}

func variantOf(sig *check.Signature, cmd *syntax.Command) *check.Variant {
	if len(cmd.Words) > 0 {
		if id, ok := cmd.Words[0].(*syntax.Ident); ok {
			if v := assist.Variant(sig, id.Name); v != nil {
				return v
			}
		}
	}
	return assist.Variant(sig, sig.DefaultVariant)
}

// block shows plain help text verbatim in Markdown.
func block(text string) string {
	return "```text\n" + strings.TrimRight(text, "\n") + "\n```"
}

func (s *Server) definition(_ *glsp.Context, p *protocol.DefinitionParams) (any, error) {
	d := s.doc(p.TextDocument.URI)
	if d == nil {
		return nil, nil
	}
	at := findIdent(d.file, offsetOf(d.text, p.Position))
	if at.ident == nil || (at.arg != nil && at.arg.Name == at.ident) {
		return nil, nil
	}
	def, ok := definitions(d.recipe)[at.ident.Name]
	if !ok {
		return nil, nil
	}
	return protocol.Location{URI: d.uri, Range: rangeOf(d.file.Source, def.span)}, nil
}

func (s *Server) formatting(_ *glsp.Context, p *protocol.DocumentFormattingParams) ([]protocol.TextEdit, error) {
	d := s.doc(p.TextDocument.URI)
	if d == nil {
		return nil, nil
	}
	out, ds := format.Bytes(d.name, d.text)
	if ds.HasErrors() || bytes.Equal(out, d.text) {
		return []protocol.TextEdit{}, nil
	}
	return []protocol.TextEdit{{Range: fullRange(d.file.Source), NewText: string(out)}}, nil
}

func (s *Server) completion(_ *glsp.Context, p *protocol.CompletionParams) (any, error) {
	d := s.doc(p.TextDocument.URI)
	if d == nil {
		return nil, nil
	}
	off := offsetOf(d.text, p.Position)
	st := s.stateBefore(d, off)
	partial, cands := assist.Complete(s.opts.Env, st, string(d.text[:off]))
	r := rangeOf(d.file.Source, d.file.Source.Span(off-len(partial), off))
	items := make([]protocol.CompletionItem, 0, len(cands))
	for _, c := range cands {
		kind := itemKind[c.Kind]
		detail := c.Detail
		items = append(items, protocol.CompletionItem{Label: c.Text, Kind: &kind, Detail: &detail,
			TextEdit: protocol.TextEdit{Range: r, NewText: c.Text}})
	}
	return protocol.CompletionList{IsIncomplete: false, Items: items}, nil
}

var itemKind = map[assist.Kind]protocol.CompletionItemKind{
	assist.KVerb: protocol.CompletionItemKindFunction, assist.KKeyword: protocol.CompletionItemKindKeyword,
	assist.KVariant: protocol.CompletionItemKindEnum, assist.KWord: protocol.CompletionItemKindEnumMember,
	assist.KArg: protocol.CompletionItemKindProperty, assist.KValue: protocol.CompletionItemKindValue,
	assist.KSnapshot: protocol.CompletionItemKindReference, assist.KParam: protocol.CompletionItemKindVariable,
	assist.KMetric: protocol.CompletionItemKindField,
}

// stateBefore checks the top-level statements that end before offset and
// returns the pipeline state they leave.
func (s *Server) stateBefore(d *document, offset int) *check.State {
	c := check.NewChecker(s.opts.Env, s.opts.Check)
	for _, st := range d.file.Stmts {
		if st.Span().End.Offset >= offset {
			break
		}
		c.Stmt(st)
	}
	return c.State()
}
