// Package lsp owns `qpipe lsp`, the language server for .qpipe recipes.
//
// It speaks LSP 3.16 JSON-RPC over any stream (stdio in production, pipes
// in tests): the message types and method dispatch come from
// github.com/tliron/glsp/protocol_3_16, the framing from
// github.com/sourcegraph/jsonrpc2, wired together in server.go.
//
// Every feature reads the one front end: syntax.Parse and check.Check for
// diagnostics, the standard library's signatures (through check.Env) for
// hover and completion, lang/format for formatting. Nothing here parses
// recipe text itself; positions convert between the front end's byte
// columns and LSP's UTF-16 code units in position.go.
package lsp
