package run

import (
	"context"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/syntax"
	"github.com/qpipe/qpipe/stdlib"
)

// execLines checks and executes statements one at a time, as the REPL does.
func execLines(t *testing.T, s *Session, c *check.Checker, lines ...string) *Outcome {
	t.Helper()
	var out *Outcome
	for _, line := range lines {
		f, ds := syntax.Parse("repl", []byte(line))
		if ds.HasErrors() {
			t.Fatal(ds)
		}
		for _, st := range f.Stmts {
			step, ds := c.Stmt(st)
			if ds.HasErrors() {
				t.Fatalf("%s: %v", line, ds)
			}
			var err error
			if out, err = s.Exec(context.Background(), step); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
		}
	}
	return out
}

func TestSessionExecutesAndClones(t *testing.T) {
	s := NewSession(SessionOptions{Seed: 1, OutDir: t.TempDir()})
	c := check.NewChecker(stdlib.Env(), check.Options{})
	execLines(t, s, c, "model mlp", "data mnist subset=300", "train epochs=1")
	before := execLines(t, s, c, "evaluate accuracy").Metrics["accuracy"]
	saved, savedChecker := s.Clone(), c.Clone()
	execLines(t, s, c, "finetune epochs=1 lr=0.05 optimizer=sgd", "evaluate accuracy")
	if s.Metrics()["accuracy"] == before {
		t.Fatal("finetune did not change the model")
	}
	// The clone (what :undo goes back to) still holds the model before.
	if got := execLines(t, saved, savedChecker, "evaluate accuracy").Metrics["accuracy"]; got != before {
		t.Errorf("clone measures %v, want %v", got, before)
	}
	if sum := saved.Summary(); !strings.Contains(sum, "model: mlp, 235146 parameters") || !strings.Contains(sum, "snapshot original") {
		t.Errorf("summary:\n%s", sum)
	}
	// A for block runs every branch and leaves the state as before it.
	out := execLines(t, saved, savedChecker, "for lr in [0.01, 0.02] { finetune epochs=1 lr=lr; evaluate accuracy }")
	if !strings.Contains(out.Summary, "finetune") || saved.Metrics()["accuracy"] != before {
		t.Errorf("after for: %q, accuracy %v want %v", out.Summary, saved.Metrics()["accuracy"], before)
	}
}
