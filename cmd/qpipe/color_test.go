//go:build linux

package main

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY returns the controller and the terminal end of a new
// pseudo-terminal, so a test can give the command a real terminal.
func openPTY(t *testing.T) (ctrl, tty *os.File) {
	t.Helper()
	ctrl, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminals here (/dev/ptmx): %v", err)
	}
	fd := int(ctrl.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	return ctrl, tty
}

// checkOnTerminal runs `qpipe check` on a bad recipe with stderr on a
// terminal and returns what the terminal showed.
func checkOnTerminal(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bad := dir + "/bad.qpipe"
	if err := os.WriteFile(bad, []byte("modle cnn\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctrl, tty := openPTY(t)
	defer ctrl.Close()
	out := make(chan string)
	go func() {
		var b bytes.Buffer
		io.Copy(&b, ctrl) // ends with EIO once the terminal end is closed
		out <- b.String()
	}()
	code := Main([]string{"check", bad}, &IO{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: tty, Getenv: os.Getenv})
	tty.Close()
	if code != exitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	return <-out
}

func TestDiagnosticsAreColouredOnATerminal(t *testing.T) {
	if v, ok := os.LookupEnv("NO_COLOR"); ok {
		os.Unsetenv("NO_COLOR")
		t.Cleanup(func() { os.Setenv("NO_COLOR", v) })
	}
	got := checkOnTerminal(t)
	if !strings.Contains(got, "\x1b[") || !strings.Contains(got, `unknown verb "modle"`) {
		t.Errorf("terminal output has no colour escapes:\n%q", got)
	}
}

func TestNoColorTurnsColourOff(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	got := checkOnTerminal(t)
	if strings.Contains(got, "\x1b[") || !strings.Contains(got, `unknown verb "modle"`) {
		t.Errorf("NO_COLOR output = %q, want plain text", got)
	}
}
