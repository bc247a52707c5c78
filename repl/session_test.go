package repl

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/syntax"
	"github.com/qpipe/qpipe/repl/assist/assisttest"
)

// session returns a session on the fixture vocabulary and its output.
func session(t *testing.T, exec Executor) (*Session, *strings.Builder) {
	t.Helper()
	out := &strings.Builder{}
	return NewSession(Options{Env: assisttest.New(), Out: out, Exec: exec}), out
}

func feed(s *Session, out *strings.Builder, inputs ...string) string {
	out.Reset()
	for _, in := range inputs {
		s.Eval(context.Background(), in)
	}
	return out.String()
}

func TestErrorShowsCaretAndKeepsState(t *testing.T) {
	s, out := session(t, nil)
	feed(s, out, "model swin-micro")
	got := feed(s, out, "snapshot a; replace gleu with relu")
	want := "repl:1:21: error: unknown activation \"gleu\"\n" +
		"  snapshot a; replace gleu with relu\n" +
		"                      ^^^^\n"
	if !strings.Contains(got, want) {
		t.Fatalf("output:\n%s\nwant it to contain:\n%s", got, want)
	}
	if _, ok := s.State().Snapshots["a"]; ok {
		t.Error("snapshot a was defined although its input had an error")
	}
	if s.Source() != "model swin-micro\n" {
		t.Errorf("source = %q, want only the model line", s.Source())
	}
}

func TestNilExecutorSaysExecutionIsNotAvailable(t *testing.T) {
	s, out := session(t, nil)
	got := feed(s, out, "model lenet", "let n = 2")
	if !strings.Contains(got, "execution is not available yet for `model`") {
		t.Errorf("output %q does not say model cannot run", got)
	}
	if strings.Contains(got, "for `let`") {
		t.Errorf("a let needs no engine, but the output says it does: %q", got)
	}
	if v := s.State().Values["n"]; v.Int != 2 {
		t.Errorf("n = %+v, want 2", v)
	}
}

func TestUndoStepsBackOneStatement(t *testing.T) {
	s, out := session(t, nil)
	feed(s, out, "model lenet; snapshot teacher", "snapshot student")
	feed(s, out, ":undo")
	if _, ok := s.State().Snapshots["student"]; ok {
		t.Error("student survived :undo")
	}
	if _, ok := s.State().Snapshots["teacher"]; !ok {
		t.Error(":undo removed teacher too")
	}
	feed(s, out, ":undo", ":undo")
	if s.State().ModelLoaded {
		t.Error("model still loaded after undoing every statement")
	}
	if got := feed(s, out, ":undo"); !strings.Contains(got, "nothing to undo") {
		t.Errorf(":undo on an empty session said %q", got)
	}
}

func TestBlockIsOneStatement(t *testing.T) {
	s, out := session(t, nil)
	feed(s, out, "model lenet\ndata mnist\nsnapshot t", "repeat 2 {\n  distill from=t\n}")
	if n := len(s.entries); n != 4 {
		t.Fatalf("%d statements accepted, want 4", n)
	}
	if s.entries[3].step.Kind != check.KRepeat || s.entries[3].step.Count != 2 {
		t.Errorf("last step = %+v, want repeat 2", s.entries[3].step)
	}
}

func TestSaveWritesARecipeTheCheckerAccepts(t *testing.T) {
	s, out := session(t, nil)
	s.opts.Model = "lenet"
	s.checker = check.NewChecker(s.opts.Env, check.Options{ModelBound: true})
	path := filepath.Join(t.TempDir(), "r.qpipe")
	feed(s, out, "data mnist;snapshot teacher", "replace   gelu with relu", "distill iterations=2 from=teacher",
		"evaluate accuracy", "for b in [2,3] {\nquantize log2 bits=b\n}", ":save "+path)
	if !strings.Contains(out.String(), "saved 6 statements") {
		t.Fatalf("output: %s", out)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "model lenet\ndata mnist\nsnapshot teacher\nreplace gelu with relu\ndistill iterations=2 from=teacher\n" +
		"evaluate accuracy\nfor b in [2, 3] {\n  quantize log2 bits=b\n}\n"
	if string(text) != want {
		t.Errorf("saved:\n%s\nwant:\n%s", text, want)
	}
	f, ds := syntax.Parse(path, text)
	rec, cds := check.Check(f, assisttest.New(), check.Options{})
	if ds.HasErrors() || cds.HasErrors() {
		t.Fatalf("saved recipe does not check: %v %v", ds, cds)
	}
	if len(rec.Steps) != 7 {
		t.Errorf("saved recipe has %d steps, want 7", len(rec.Steps))
	}
}

func TestLoadRunsAFile(t *testing.T) {
	s, out := session(t, nil)
	path := filepath.Join(t.TempDir(), "in.qpipe")
	os.WriteFile(path, []byte("model lenet\nsnapshot base # first\n"), 0o644)
	got := feed(s, out, ":load "+path)
	if !strings.Contains(got, "loaded 2 statements") {
		t.Errorf("output %q", got)
	}
	if _, ok := s.State().Snapshots["base"]; !ok {
		t.Error("snapshot base not defined after :load")
	}
	bad := filepath.Join(t.TempDir(), "bad.qpipe")
	os.WriteFile(bad, []byte("snapshot x\nsnapshot ghost\ndistill from=nope\n"), 0o644)
	got = feed(s, out, ":load "+bad)
	if !strings.Contains(got, bad+":3:") || s.State().Snapshots["x"] != nil {
		t.Errorf("a failing load must report file:line and apply nothing; output:\n%s", got)
	}
}

func TestMetaCommands(t *testing.T) {
	s, out := session(t, nil)
	feed(s, out, "model lenet; let k = 3; evaluate accuracy")
	for cmd, want := range map[string]string{
		":state":         "original     (statement 1: model lenet)",
		":metrics":       "accuracy     not measured",
		":plan":          "run so far: nothing (execution is not available yet)",
		":plan ":         "3. evaluate accuracy  (line 3)\n     reads:  model from 1",
		":help":          "quantize       lower weight precision",
		":help quantize": "bits: int in [2, 8], default 3 [bits] — bit width",
		":help quantise": `did you mean quantize?`,
		":frobnicate":    "unknown command :frobnicate",
	} {
		if got := feed(s, out, cmd); !strings.Contains(got, want) {
			t.Errorf("%s printed:\n%s\nwant it to contain %q", cmd, got, want)
		}
	}
	feed(s, out, ":quit")
	if !s.Done() {
		t.Error(":quit did not end the session")
	}
}

// countingExec is an Executor whose state is how many steps ran.
type countingExec struct {
	ran  []string
	fail string
}

func (e *countingExec) Exec(_ context.Context, st *check.Step) (Result, error) {
	if st.Verb == e.fail {
		return Result{}, errors.New("boom")
	}
	e.ran = append(e.ran, st.Verb)
	return Result{Summary: "ran " + st.Verb, Metrics: map[string]float64{"steps": float64(len(e.ran))}}, nil
}
func (e *countingExec) Clone() Executor {
	return &countingExec{ran: append([]string(nil), e.ran...), fail: e.fail}
}
func (e *countingExec) Summary() string             { return "steps run: " + strings.Join(e.ran, ",") }
func (e *countingExec) Metrics() map[string]float64 { return map[string]float64{"accuracy": 0.5} }

func TestExecutorRunsStepsAndUndoRestoresIt(t *testing.T) {
	s, out := session(t, &countingExec{fail: "replace"})
	got := feed(s, out, "model lenet; snapshot a")
	if !strings.Contains(got, "ran snapshot") || !strings.Contains(got, "steps = 2") {
		t.Errorf("output %q", got)
	}
	got = feed(s, out, "snapshot b; replace gelu with relu")
	if !strings.Contains(got, "replace failed: boom") || s.State().Snapshots["b"] == nil {
		t.Errorf("a failing step keeps the steps before it; output %q", got)
	}
	if e := s.exec.(*countingExec); len(e.ran) != 3 {
		t.Errorf("executor ran %v", e.ran)
	}
	feed(s, out, ":undo")
	if got := feed(s, out, ":state"); !strings.Contains(got, "steps run: model,snapshot\n") {
		t.Errorf(":undo did not restore the executor: %q", got)
	}
	if got := feed(s, out, "evaluate accuracy", ":metrics"); !strings.Contains(got, "accuracy     50.00%") {
		t.Errorf(":metrics = %q", got)
	}
}

func TestSaveCountsStatementsInEnglish(t *testing.T) {
	s, out := session(t, nil)
	feed(s, out, "model lenet")
	path := filepath.Join(t.TempDir(), "one.qpipe")
	if got := feed(s, out, ":save "+path); !strings.Contains(got, "saved 1 statement to ") {
		t.Errorf(":save of one statement: %q", got)
	}
}
