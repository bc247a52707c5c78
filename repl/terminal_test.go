package repl

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/stdlib"
)

// screen is a REPL running on a pseudo-terminal, driven like a user.
type screen struct {
	t      *testing.T
	master *os.File
	mu     sync.Mutex
	out    bytes.Buffer
	done   chan error
}

// startScreen runs a Terminal on the slave side of a new pty.
func startScreen(t *testing.T, history string) *screen {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	pty.Setsize(master, &pty.Winsize{Rows: 40, Cols: 200})
	sc := &screen{t: t, master: master, done: make(chan error, 1)}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			sc.mu.Lock()
			sc.out.Write(buf[:n])
			sc.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	s := NewSession(Options{Env: stdlib.Env(), Check: check.Options{}})
	term := &Terminal{In: slave, Out: slave, Interactive: true, History: history}
	go func() { sc.done <- term.Run(context.Background(), s); slave.Close() }()
	t.Cleanup(func() { master.Close() })
	sc.waitFor("qpipe> ")
	return sc
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// text is everything shown so far, without escape sequences.
func (sc *screen) text() string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return strings.ReplaceAll(ansi.ReplaceAllString(sc.out.String(), ""), "\r", "")
}

// waitFor waits until want is on the screen.
func (sc *screen) waitFor(want string) {
	sc.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(sc.text(), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	sc.t.Fatalf("timed out waiting for %q; the screen shows:\n%s", want, sc.text())
}

// send types keys.
func (sc *screen) send(keys string) {
	sc.t.Helper()
	if _, err := sc.master.Write([]byte(keys)); err != nil {
		sc.t.Fatal(err)
	}
}

// line types a line and Enter, then waits for want.
func (sc *screen) line(text, want string) {
	sc.t.Helper()
	sc.send(text + "\r")
	sc.waitFor(want)
}

func (sc *screen) quit() {
	sc.t.Helper()
	sc.send(":quit\r")
	select {
	case err := <-sc.done:
		if err != nil {
			sc.t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		sc.t.Fatal(":quit did not end the REPL")
	}
}

func TestTerminalSession(t *testing.T) {
	dir := t.TempDir()
	history := filepath.Join(dir, "state", "history")
	saved := filepath.Join(dir, "saved.qpipe")
	sc := startScreen(t, history)

	// Tab completes a verb, an argument value from the signature, and a
	// snapshot name from the live state.
	sc.send("mod\t")
	sc.waitFor("qpipe> model ")
	sc.line("swin-micro", "checked: model swin-micro")
	sc.line("data fashion-mnist", "checked: data fashion-mnist")
	sc.line("snapshot teacher", "checked: snapshot teacher")
	sc.send("distill from=tea\t")
	sc.waitFor("distill from=teacher ")
	sc.line("iterations=2", "checked: distill from=teacher iterations=2")

	// An error shows the caret under the span and changes nothing.
	sc.line("replace gleu with relu", `did you mean "gelu"?`)
	if !strings.Contains(sc.text(), "repl:1:9: error: unknown activation \"gleu\"\n  replace gleu with relu\n          ^^^^\n") {
		t.Errorf("no located error on screen:\n%s", sc.text())
	}

	// A block continues over lines until its brace closes.
	sc.send("repeat 2 {\r")
	sc.waitFor("  ...> ")
	sc.line("  evaluate accuracy", "  ...> ")
	sc.line("}", "checked: repeat 2")

	sc.line(":undo", "undid line: repeat 2 {")
	sc.line(":save "+saved, "saved 4 statements")
	sc.quit()

	text, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	want := "model swin-micro\ndata fashion-mnist\nsnapshot teacher\ndistill from=teacher iterations=2\n"
	if string(text) != want {
		t.Errorf("saved recipe:\n%s\nwant:\n%s", text, want)
	}

	// A new session finds the history of the last one: two steps up is
	// the :save line, which runs again.
	sc = startScreen(t, history)
	sc.send("\x1b[A\x1b[A")
	sc.waitFor(":save " + saved)
	sc.line("", "saved 0 statements")
	sc.quit()
}
