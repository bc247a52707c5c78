package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runMain runs the command line in-process with stdin and returns stdout,
// stderr and the exit code.
func runMain(stdin string, args ...string) (string, string, int) {
	var out, errs strings.Builder
	code := Main(args, &IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errs, Getenv: os.Getenv})
	return out.String(), errs.String(), code
}

// planBody drops a plan's header (recipe name and bindings) up to the
// first blank line.
func planBody(t *testing.T, text string) string {
	t.Helper()
	_, body, ok := strings.Cut(text, "\n\n")
	if !ok {
		t.Fatalf("no plan in:\n%s", text)
	}
	return body
}

func TestReplSaveReproducesThePlan(t *testing.T) {
	saved := filepath.Join(t.TempDir(), "s.qpipe")
	session := strings.Join([]string{
		"data fashion-mnist",
		"snapshot teacher",
		"replace gleu with relu",
		"replace gelu with relu; distill from=teacher iterations=2",
		"snapshot extra",
		":undo",
		"for bits in [2, 3] {",
		"  quantize log2 bits=bits",
		"  evaluate accuracy",
		"}",
		":save " + saved,
		":plan",
		":quit",
		"snapshot never",
	}, "\n")
	out, errs, code := runMain(session, "repl", "--check-only", "--model", "swin-micro")
	if code != 0 || errs != "" {
		t.Fatalf("repl exited %d: %s", code, errs)
	}
	for _, want := range []string{
		"repl:1:9: error: unknown activation \"gleu\"\n  replace gleu with relu\n          ^^^^\n",
		"undid line: snapshot extra",
		"saved 5 statements to " + saved,
		"run so far: nothing (execution is not available yet)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("repl output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "never") {
		t.Error("statements after :quit were read")
	}
	if _, errs, code := runMain("", "check", saved); code != 0 {
		t.Fatalf("qpipe check of the saved recipe exited %d: %s", code, errs)
	}
	plan, errs, code := runMain("", "plan", saved)
	if code != 0 {
		t.Fatalf("qpipe plan exited %d: %s", code, errs)
	}
	_, replPlan, _ := strings.Cut(out, "run so far: nothing (execution is not available yet); the statements would do:\n")
	if got, want := planBody(t, replPlan), planBody(t, plan); got != want {
		t.Errorf(":plan differs from qpipe plan of the saved file.\n:plan:\n%s\nqpipe plan:\n%s", got, want)
	}
	// Both resolve the model as qpipe plan does: its FLOPs, and the
	// weight bytes each quantize branch leaves.
	for _, want := range []string{"model: swin-micro (recipe): ", "MFLOP per image", "(32 → 2 bits)", "(32 → 3 bits)"} {
		if !strings.Contains(replPlan, want) {
			t.Errorf(":plan lacks %q:\n%s", want, replPlan)
		}
	}
}

func TestReplRejectsFileArguments(t *testing.T) {
	if _, errs, code := runMain("", "repl", "x.qpipe"); code != 2 || !strings.Contains(errs, ":load FILE") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

func TestReplExecutesStatements(t *testing.T) {
	session := strings.Join([]string{
		"data digits subset=100",
		"model mlp",
		"evaluate accuracy",
		":metrics",
		":undo",
		":metrics",
		":quit",
	}, "\n")
	out, errs, code := runMain(session, "repl")
	if code != 0 || errs != "" {
		t.Fatalf("repl exited %d: %s", code, errs)
	}
	for _, want := range []string{
		"data digits: 100 training images of 1x28x28, 10 classes, 359 test",
		"model mlp: 235146 parameters, input 1x28x28, 10 classes",
		"evaluate: accuracy=",
		"undid line: evaluate accuracy",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("repl output lacks %q:\n%s", want, out)
		}
	}
	// :metrics lists the accuracy after evaluate and no longer after :undo.
	_, afterEval, _ := strings.Cut(out, "evaluate: accuracy=")
	first, afterUndo, _ := strings.Cut(afterEval, "undid line: evaluate accuracy")
	if !strings.Contains(first, "(statement 3: evaluate accuracy)") {
		t.Errorf(":metrics after evaluate lacks the accuracy:\n%s", first)
	}
	if strings.Contains(afterUndo, "(statement 3: evaluate accuracy)") {
		t.Errorf(":metrics after :undo still lists the undone accuracy:\n%s", afterUndo)
	}
}
