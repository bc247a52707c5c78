package main

import (
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// ptyOut collects what a program on a pseudo-terminal shows.
type ptyOut struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (p *ptyOut) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.Write(b)
}

var escapes = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

func (p *ptyOut) text() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.ReplaceAll(escapes.ReplaceAllString(p.buf.String(), ""), "\r", "")
}

func (p *ptyOut) waitFor(t *testing.T, want string, after int) int {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if i := strings.Index(p.text()[after:], want); i >= 0 {
			return after + i + len(want)
		}
	}
	t.Fatalf("timed out waiting for %q; the screen shows:\n%s", want, p.text())
	return 0
}

// Ctrl-C while a REPL statement runs interrupts that statement only: the
// terminal's line discipline sends SIGINT to qpipe (it is the foreground
// process of its own terminal here), the state goes back to before the
// statement, and the session takes the next one. Results print before the
// next prompt.
func TestReplCtrlCInterruptsStatementKeepsSession(t *testing.T) {
	if _, err := exec.LookPath("qpipe"); err != nil {
		t.Skip("qpipe test binary not on PATH")
	}
	cmd := exec.Command("qpipe", "repl")
	cmd.Env = append(cmd.Environ(), "QPIPE_HISTORY="+t.TempDir()+"/h", "NO_COLOR=1")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer f.Close()
	out := &ptyOut{}
	go func() { _, _ = bytes.NewBuffer(nil).ReadFrom(teeReader{f, out}) }()
	at := out.waitFor(t, "qpipe> ", 0)
	f.Write([]byte("data digits subset=1000\r"))
	at = out.waitFor(t, "data digits: 1000 training images", at)
	if next := strings.Index(out.text()[at:], "qpipe> "); next < 0 {
		at = out.waitFor(t, "qpipe> ", at)
	}
	f.Write([]byte("model mlp\r"))
	at = out.waitFor(t, "model mlp: 235146 parameters", at)
	// 160,000 steps: minutes on any machine, so the Ctrl-C below always
	// lands while it runs (1000 epochs of 200 images once finished in
	// under the 3 s the test waits, on a faster engine)
	f.Write([]byte("train epochs=10000 lr=0.01\r"))
	at = out.waitFor(t, "train", at)
	time.Sleep(3 * time.Second)
	f.Write([]byte{3}) // Ctrl-C
	at = out.waitFor(t, "train interrupted; the state is back to before it and the session goes on", at)
	f.Write([]byte("evaluate accuracy\r"))
	at = out.waitFor(t, "evaluate: accuracy=", at)
	// The evaluate result is printed before the prompt that follows it.
	// (Waited for here, while the session runs: read after the process
	// ends, the pty's last output may not have been copied yet.)
	out.waitFor(t, "\nqpipe> ", at)
	f.Write([]byte(":quit\r"))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("repl ended with %v after :quit; screen:\n%s", err, out.text())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf(":quit did not end the repl; screen:\n%s", out.text())
	}
}

// teeReader copies what it reads from r into w.
type teeReader struct {
	r interface{ Read([]byte) (int, error) }
	w *ptyOut
}

func (t teeReader) Read(b []byte) (int, error) {
	n, err := t.r.Read(b)
	t.w.Write(b[:n])
	return n, err
}
