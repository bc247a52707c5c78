package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary stand in for qpipe inside the scripts.
func TestMain(m *testing.M) {
	if os.Getenv("QPIPE_TEST_AS_QPIPE") == "1" { // a Slurm job of slurm_test.go
		os.Exit(Main(os.Args[1:], &IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}))
	}
	testscript.Main(m, map[string]func(){
		"qpipe": func() {
			os.Exit(Main(os.Args[1:], &IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}))
		},
	})
}

// TestScripts runs the command-line behaviour pinned in
// testdata/script/*.txtar; regenerate expected output with
// `go test ./cmd/qpipe -run TestScripts -update`.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
		Setup:         setupScript,
		Cmds:          map[string]func(*testscript.TestScript, bool, []string){"exits": cmdExits, "waitgrep": cmdWaitGrep},
	})
}

// setupScript gives scripts $EXAMPLES, the repository's examples/, and
// a step store of their own in $QPIPE_CACHE.
func setupScript(env *testscript.Env) error {
	dir, err := filepath.Abs(filepath.Join("..", "..", "examples"))
	if err != nil {
		return err
	}
	env.Setenv("EXAMPLES", dir)
	env.Setenv("QPIPE_CACHE", filepath.Join(env.WorkDir, ".qpipe-cache"))
	return nil
}

// cmdExits is `exits N PROGRAM ARGS...`: run PROGRAM like exec does
// (stdout and stderr kept for the next assertions) and require exit code N.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	got := 0
	var ee *exec.ExitError
	if err := ts.Exec(args[1], args[2:]...); errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("exits: %v", err)
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

// cmdWaitGrep is `waitgrep REGEXP FILE SECONDS`: wait until FILE matches
// REGEXP (a background command writes it), failing after SECONDS.
func cmdWaitGrep(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: waitgrep REGEXP FILE SECONDS")
	}
	re, err := regexp.Compile(args[0])
	ts.Check(err)
	secs, err := strconv.Atoi(args[2])
	ts.Check(err)
	deadline := time.Now().Add(time.Duration(secs) * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(ts.MkAbs(args[1])); err == nil && re.Match(b) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	ts.Fatalf("waitgrep: %s did not match %q within %ds", args[1], args[0], secs)
}
