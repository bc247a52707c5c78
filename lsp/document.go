package lsp

import (
	"net/url"
	"strings"

	"github.com/tliron/glsp"
	protocol "github.com/tliron/glsp/protocol_3_16"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/syntax"
)

// document is one open recipe with its latest analysis.
type document struct {
	uri     protocol.DocumentUri
	name    string // the file path, as diagnostics name it
	version protocol.Integer
	text    []byte
	file    *syntax.File
	recipe  *check.Recipe
	diags   diag.Diagnostics
}

// nameOf turns a file:// URI into the path diagnostics carry.
func nameOf(uri protocol.DocumentUri) string {
	u, err := url.Parse(string(uri))
	if err != nil || u.Scheme != "file" {
		return string(uri)
	}
	return u.Path
}

// analyze parses and checks the document's text. The checker runs even
// when some statements have syntax errors, over those that parsed.
func (s *Server) analyze(d *document) {
	f, ds := syntax.Parse(d.name, d.text)
	rec, cds := check.Check(f, s.opts.Env, s.opts.Check)
	d.file, d.recipe = f, rec
	d.diags = append(ds, cds...)
	d.diags.Sort()
}

func (s *Server) didOpen(ctx *glsp.Context, p *protocol.DidOpenTextDocumentParams) error {
	d := &document{uri: p.TextDocument.URI, name: nameOf(p.TextDocument.URI),
		version: p.TextDocument.Version, text: []byte(p.TextDocument.Text)}
	s.update(ctx, d)
	return nil
}

func (s *Server) didChange(ctx *glsp.Context, p *protocol.DidChangeTextDocumentParams) error {
	d := s.doc(p.TextDocument.URI)
	if d == nil {
		d = &document{uri: p.TextDocument.URI, name: nameOf(p.TextDocument.URI)}
	}
	next := &document{uri: d.uri, name: d.name, version: p.TextDocument.Version, text: d.text}
	for _, ch := range p.ContentChanges {
		next.text = applyChange(next.text, ch)
	}
	s.update(ctx, next)
	return nil
}

// applyChange applies a whole-text or ranged change event.
func applyChange(text []byte, ch any) []byte {
	switch ch := ch.(type) {
	case protocol.TextDocumentContentChangeEventWhole:
		return []byte(ch.Text)
	case protocol.TextDocumentContentChangeEvent:
		if ch.Range == nil {
			return []byte(ch.Text)
		}
		start, end := offsetOf(text, ch.Range.Start), offsetOf(text, ch.Range.End)
		var b strings.Builder
		b.Write(text[:start])
		b.WriteString(ch.Text)
		b.Write(text[max(end, start):])
		return []byte(b.String())
	}
	return text
}

func (s *Server) didClose(ctx *glsp.Context, p *protocol.DidCloseTextDocumentParams) error {
	s.mu.Lock()
	delete(s.docs, p.TextDocument.URI)
	s.mu.Unlock()
	ctx.Notify(protocol.ServerTextDocumentPublishDiagnostics, protocol.PublishDiagnosticsParams{
		URI: p.TextDocument.URI, Diagnostics: []protocol.Diagnostic{}})
	return nil
}

// update analyses d, stores it and publishes its diagnostics.
func (s *Server) update(ctx *glsp.Context, d *document) {
	s.analyze(d)
	s.mu.Lock()
	s.docs[d.uri] = d
	s.mu.Unlock()
	version := protocol.UInteger(max(d.version, 0))
	ctx.Notify(protocol.ServerTextDocumentPublishDiagnostics, protocol.PublishDiagnosticsParams{
		URI: d.uri, Version: &version, Diagnostics: d.lspDiagnostics()})
}

func (s *Server) doc(uri protocol.DocumentUri) *document {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.docs[uri]
}

// lspDiagnostics converts the document's diagnostics to LSP ones, with
// exact UTF-16 ranges; detail and suggestions follow the summary.
func (d *document) lspDiagnostics() []protocol.Diagnostic {
	out := []protocol.Diagnostic{}
	src := "qpipe"
	for _, x := range d.diags {
		if x.Span.File != "" && x.Span.File != d.name {
			continue
		}
		sev := severity(x.Severity)
		msg := x.Summary
		if x.Detail != "" {
			msg += "\n" + x.Detail
		}
		for _, sg := range x.Suggestions {
			msg += "\n" + sg
		}
		out = append(out, protocol.Diagnostic{Range: rangeOf(d.file.Source, x.Span), Severity: &sev, Source: &src, Message: msg})
	}
	return out
}

func severity(s diag.Severity) protocol.DiagnosticSeverity {
	switch s {
	case diag.Warning:
		return protocol.DiagnosticSeverityWarning
	case diag.Note:
		return protocol.DiagnosticSeverityInformation
	}
	return protocol.DiagnosticSeverityError
}
