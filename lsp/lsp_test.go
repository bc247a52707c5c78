package lsp

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
	protocol "github.com/tliron/glsp/protocol_3_16"

	"github.com/qpipe/qpipe/repl/assist/assisttest"
)

// client is a test LSP client connected to a server over an in-memory
// pipe; it collects published diagnostics.
type client struct {
	t     *testing.T
	conn  *jsonrpc2.Conn
	diags chan protocol.PublishDiagnosticsParams
}

func start(t *testing.T) *client {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srvSide, cliSide := net.Pipe()
	done := make(chan struct{})
	go func() {
		NewServer(Options{Env: assisttest.New(), Version: "test"}).Serve(ctx, srvSide)
		close(done)
	}()
	c := &client{t: t, diags: make(chan protocol.PublishDiagnosticsParams, 16)}
	c.conn = jsonrpc2.NewConn(ctx, jsonrpc2.NewBufferedStream(cliSide, jsonrpc2.VSCodeObjectCodec{}),
		jsonrpc2.HandlerWithError(c.handle))
	t.Cleanup(func() {
		c.conn.Close()
		cancel()
		<-done
	})
	return c
}

func (c *client) handle(_ context.Context, _ *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
	if req.Method == "textDocument/publishDiagnostics" && req.Params != nil {
		var p protocol.PublishDiagnosticsParams
		if err := json.Unmarshal(*req.Params, &p); err == nil {
			c.diags <- p
		}
	}
	return nil, nil
}

func (c *client) call(method string, params, result any) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.conn.Call(ctx, method, params, result); err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
}

func (c *client) notify(method string, params any) {
	c.t.Helper()
	if err := c.conn.Notify(context.Background(), method, params); err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
}

func (c *client) nextDiagnostics() protocol.PublishDiagnosticsParams {
	c.t.Helper()
	select {
	case d := <-c.diags:
		return d
	case <-time.After(10 * time.Second):
		c.t.Fatal("no diagnostics published")
	}
	return protocol.PublishDiagnosticsParams{}
}

const uri = "file:///work/r.qpipe"

// sample has a non-ASCII string before the error on line 5, so its range
// must count UTF-16 code units, not bytes or runes.
const sample = `model lenet
data mnist
snapshot teacher
let k = 2
let s = "é🎉"; replace gleu with relu
distill from=teacher iterations=k
quantize log2 bits=3
`

func open(t *testing.T, text string) *client {
	c := start(t)
	var init map[string]any
	c.call("initialize", map[string]any{"capabilities": map[string]any{}}, &init)
	caps, _ := json.Marshal(init["capabilities"])
	for _, want := range []string{`"hoverProvider":true`, `"definitionProvider":true`, `"documentFormattingProvider":true`,
		`"documentSymbolProvider":true`, `"completionProvider":{`} {
		if !strings.Contains(string(caps), want) {
			t.Errorf("capabilities %s lack %s", caps, want)
		}
	}
	c.notify("initialized", map[string]any{})
	c.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{
		"uri": uri, "languageId": "qpipe", "version": 1, "text": text}})
	return c
}

func TestDiagnosticRangesCountUTF16(t *testing.T) {
	c := open(t, sample)
	d := c.nextDiagnostics()
	if len(d.Diagnostics) != 1 {
		t.Fatalf("diagnostics = %+v, want one", d.Diagnostics)
	}
	got := d.Diagnostics[0]
	want := protocol.Range{Start: protocol.Position{Line: 4, Character: 23}, End: protocol.Position{Line: 4, Character: 27}}
	if got.Range != want || !strings.HasPrefix(got.Message, `unknown activation "gleu"`) ||
		*got.Severity != protocol.DiagnosticSeverityError {
		t.Errorf("diagnostic = %+v %q, want range %+v and unknown activation", got.Range, got.Message, want)
	}
	c.notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": uri, "version": 2},
		"contentChanges": []any{map[string]any{"text": strings.Replace(sample, "gleu", "gelu", 1)}}})
	if d := c.nextDiagnostics(); len(d.Diagnostics) != 0 || d.Version == nil || *d.Version != 2 {
		t.Errorf("after the fix: %+v", d)
	}
}

func TestIncrementalChange(t *testing.T) {
	c := open(t, sample)
	c.nextDiagnostics()
	// Replace "gleu" (UTF-16 columns 23-27 of line 5) with "gelu".
	c.notify("textDocument/didChange", map[string]any{
		"textDocument": map[string]any{"uri": uri, "version": 2},
		"contentChanges": []any{map[string]any{"text": "gelu",
			"range": map[string]any{"start": map[string]any{"line": 4, "character": 23}, "end": map[string]any{"line": 4, "character": 27}}}}})
	if d := c.nextDiagnostics(); len(d.Diagnostics) != 0 {
		t.Errorf("after a ranged fix: %+v", d.Diagnostics)
	}
}

func pos(line, char int) map[string]any {
	return map[string]any{"textDocument": map[string]any{"uri": uri}, "position": map[string]any{"line": line, "character": char}}
}

func TestHover(t *testing.T) {
	c := open(t, sample)
	c.nextDiagnostics()
	for _, tc := range []struct {
		line, char int
		want       string
	}{
		{6, 3, "quantize — lower weight precision"},
		{6, 15, "bits: int in [2, 8], default 3 [bits] — bit width"},
		{6, 10, "quantize log2 — powers-of-two grid"},
		{5, 15, "snapshot `teacher`, defined at line 3"},
		{5, 32, "parameter `k`, defined at line 4"},
		{5, 23, "iterations: int in [1, 100], default 1 [rounds] — distillation rounds"},
	} {
		var h struct {
			Contents protocol.MarkupContent `json:"contents"`
		}
		c.call("textDocument/hover", pos(tc.line, tc.char), &h)
		if !strings.Contains(h.Contents.Value, tc.want) {
			t.Errorf("hover at %d:%d = %q, want %q", tc.line, tc.char, h.Contents.Value, tc.want)
		}
	}
}

func TestCompletion(t *testing.T) {
	c := open(t, sample+"distill from=te")
	c.nextDiagnostics()
	var list protocol.CompletionList
	c.call("textDocument/completion", pos(7, 15), &list)
	if len(list.Items) != 1 || list.Items[0].Label != "teacher" {
		t.Fatalf("items = %+v, want teacher", list.Items)
	}
	edit, _ := json.Marshal(list.Items[0].TextEdit)
	if want := `{"range":{"start":{"line":7,"character":13},"end":{"line":7,"character":15}},"newText":"teacher"}`; string(edit) != want {
		t.Errorf("edit = %s, want %s", edit, want)
	}
	c.call("textDocument/completion", pos(6, 9), &list)
	var labels []string
	for _, it := range list.Items {
		labels = append(labels, it.Label)
	}
	if got := strings.Join(labels, " "); got != "log2 uniform bits= weights=" {
		t.Errorf("after `quantize `: %s", got)
	}
}

func TestFormatting(t *testing.T) {
	c := open(t, "model   lenet;snapshot t\nrepeat 2 {\ndistill from=t\n}\n")
	c.nextDiagnostics()
	var edits []protocol.TextEdit
	c.call("textDocument/formatting", map[string]any{"textDocument": map[string]any{"uri": uri},
		"options": map[string]any{"tabSize": 2, "insertSpaces": true}}, &edits)
	if len(edits) != 1 {
		t.Fatalf("edits = %+v", edits)
	}
	want := "model lenet\nsnapshot t\nrepeat 2 {\n  distill from=t\n}\n"
	end := protocol.Position{Line: 4, Character: 0}
	if edits[0].NewText != want || edits[0].Range.Start != (protocol.Position{}) || edits[0].Range.End != end {
		t.Errorf("edit = %+v, want whole document to %q", edits[0], want)
	}
}

func TestDocumentSymbols(t *testing.T) {
	c := open(t, "model lenet\nsnapshot teacher\nlet k = 2\nrepeat 2 {\n  distill from=teacher\n}\n")
	c.nextDiagnostics()
	var syms []protocol.DocumentSymbol
	c.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": uri}}, &syms)
	var got []string
	for _, s := range syms {
		got = append(got, s.Name)
		for _, ch := range s.Children {
			got = append(got, "  "+ch.Name)
		}
	}
	if want := "model lenet|teacher|k|repeat 2|  distill"; strings.Join(got, "|") != want {
		t.Errorf("symbols = %q, want %q", strings.Join(got, "|"), want)
	}
	if syms[1].Kind != protocol.SymbolKindVariable || syms[1].SelectionRange.Start.Character != 9 {
		t.Errorf("teacher symbol = %+v", syms[1])
	}
}

func TestDefinition(t *testing.T) {
	c := open(t, sample)
	c.nextDiagnostics()
	for _, tc := range []struct {
		line, char int
		want       protocol.Range
	}{
		{5, 16, protocol.Range{Start: protocol.Position{Line: 2, Character: 9}, End: protocol.Position{Line: 2, Character: 16}}},
		{5, 32, protocol.Range{Start: protocol.Position{Line: 3, Character: 4}, End: protocol.Position{Line: 3, Character: 5}}},
	} {
		var loc protocol.Location
		c.call("textDocument/definition", pos(tc.line, tc.char), &loc)
		if loc.URI != uri || loc.Range != tc.want {
			t.Errorf("definition at %d:%d = %+v, want %+v", tc.line, tc.char, loc, tc.want)
		}
	}
}

func TestShutdownAndUnknownMethod(t *testing.T) {
	c := open(t, sample)
	c.nextDiagnostics()
	var res any
	err := c.conn.Call(context.Background(), "textDocument/rename", pos(0, 0), &res)
	if err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("rename: %v", err)
	}
	c.call("shutdown", nil, &res)
}
