package main

import (
	"context"
	"flag"
	"io"
	"runtime/debug"

	"github.com/qpipe/qpipe/lsp"
)

func init() {
	register(&command{
		Name:    "lsp",
		Args:    "",
		Summary: "run the language server on standard input and output (LSP 3.16, JSON-RPC)",
		Flags: func(fs *flag.FlagSet) func(*IO, []string) error {
			return runLSP
		},
	})
}

func runLSP(sys *IO, args []string) error {
	if len(args) > 0 {
		return usagef("lsp takes no arguments; editors start it as `qpipe lsp`")
	}
	opts := lsp.Options{Env: vocabulary(), Version: lspVersion()}
	return lsp.NewServer(opts).Serve(context.Background(), stdio{in: sys.Stdin, out: sys.Stdout})
}

// stdio joins the command's standard input and output into one stream.
type stdio struct {
	in  io.Reader
	out io.Writer
}

func (s stdio) Read(p []byte) (int, error)  { return s.in.Read(p) }
func (s stdio) Write(p []byte) (int, error) { return s.out.Write(p) }
func (s stdio) Close() error {
	if c, ok := s.in.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// lspVersion is the module version reported in serverInfo.
func lspVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}
