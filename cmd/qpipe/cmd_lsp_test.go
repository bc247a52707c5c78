package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
)

// pipes is the client's end of the server's standard input and output.
type pipes struct {
	io.Reader
	io.WriteCloser
}

func TestLSPOverStdio(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- Main([]string{"lsp"}, &IO{Stdin: inR, Stdout: outW, Stderr: io.Discard, Getenv: os.Getenv})
		outW.Close()
	}()
	diags := make(chan json.RawMessage, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn := jsonrpc2.NewConn(ctx, jsonrpc2.NewBufferedStream(pipes{outR, inW}, jsonrpc2.VSCodeObjectCodec{}),
		jsonrpc2.HandlerWithError(func(_ context.Context, _ *jsonrpc2.Conn, r *jsonrpc2.Request) (any, error) {
			if r.Method == "textDocument/publishDiagnostics" {
				diags <- *r.Params
			}
			return nil, nil
		}))
	var init struct {
		ServerInfo struct{ Name string } `json:"serverInfo"`
	}
	if err := conn.Call(ctx, "initialize", map[string]any{"capabilities": map[string]any{}}, &init); err != nil {
		t.Fatal(err)
	}
	if init.ServerInfo.Name != "qpipe" {
		t.Errorf("serverInfo = %+v", init.ServerInfo)
	}
	conn.Notify(ctx, "initialized", map[string]any{})
	conn.Notify(ctx, "textDocument/didOpen", map[string]any{"textDocument": map[string]any{
		"uri": "file:///r.qpipe", "languageId": "qpipe", "version": 1, "text": "model swin-micro\nreplace gleu with relu\n"}})
	select {
	case d := <-diags:
		var p struct {
			Diagnostics []struct {
				Range struct {
					Start, End struct{ Line, Character int }
				}
				Message string
			}
		}
		json.Unmarshal(d, &p)
		if len(p.Diagnostics) != 1 || p.Diagnostics[0].Range.Start.Line != 1 || p.Diagnostics[0].Range.Start.Character != 8 ||
			p.Diagnostics[0].Range.End.Character != 12 || !strings.HasPrefix(p.Diagnostics[0].Message, `unknown activation "gleu"`) {
			t.Errorf("diagnostics = %s", d)
		}
	case <-ctx.Done():
		t.Fatal("no diagnostics from qpipe lsp")
	}
	var res any
	if err := conn.Call(ctx, "shutdown", nil, &res); err != nil {
		t.Fatal(err)
	}
	conn.Notify(ctx, "exit", nil)
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("qpipe lsp exited %d", c)
		}
	case <-ctx.Done():
		t.Fatal("qpipe lsp did not exit after exit")
	}
}
