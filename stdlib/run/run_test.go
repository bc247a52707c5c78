package run

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/ops/modelio"
)

const tiny = `model mlp
data mnist subset=2000
train epochs=1 lr=1e-3
evaluate accuracy size latency runs=3
expect accuracy >= 0.5
export checkpoint "final.safetensors"
`

func TestTinyRunEndToEnd(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if _, err := runRecipe(t, context.Background(), dir, tiny, nil); err != nil {
		t.Fatal(err)
	}
	rep, err := ReadReport(out)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Device != "cpu" || rep.Seed != 1 || !strings.HasSuffix(rep.Recipe, "recipe.qpipe") {
		t.Errorf("report header = %q %q %d", rep.Recipe, rep.Device, rep.Seed)
	}
	wantVerbs := []string{"model", "data", "train", "evaluate", "expect", "export"}
	if len(rep.Steps) != len(wantVerbs) {
		t.Fatalf("%d steps, want %d", len(rep.Steps), len(wantVerbs))
	}
	for i, s := range rep.Steps {
		if s.Index != i || s.Verb != wantVerbs[i] || s.Line != i+1 || s.Status != StatusDone {
			t.Errorf("step %d = %+v", i, s)
		}
		if _, err := os.Stat(s.Checkpoint); err != nil {
			t.Errorf("step %d checkpoint: %v", i, err)
		}
	}
	ev := rep.Steps[3].Metrics
	if a := ev["accuracy"]; a < 0.6 || a > 1 {
		t.Errorf("accuracy %v after one epoch on 2000 images", a)
	}
	if ev["params"] != 235146 || ev["size_bytes"] < 4*235146 || ev["latency_ms_b1"] <= 0 || ev["latency_ms_b64"] <= 0 {
		t.Errorf("evaluate metrics %v", ev)
	}
	if rep.Final.Accuracy == nil || *rep.Final.Accuracy != ev["accuracy"] || *rep.Final.SizeBytes != int64(ev["size_bytes"]) ||
		rep.Final.LatencyMS["b1"] != ev["latency_ms_b1"] || rep.Final.LatencyMS["b64"] != ev["latency_ms_b64"] {
		t.Errorf("final %+v does not repeat the evaluate step", rep.Final)
	}
	m, meta, err := modelio.Load(filepath.Join(out, "final.safetensors"))
	if err != nil || m.ParamCount() != 235146 || meta.Zoo != "mlp" || meta.Input != [3]int{1, 28, 28} {
		t.Errorf("exported checkpoint: %v, meta %+v", err, meta)
	}
}

func TestResumeRestoresFinishedSteps(t *testing.T) {
	dir := t.TempDir()
	failing := strings.Replace(tiny, "expect accuracy >= 0.5", "expect accuracy >= 0.999", 1)
	_, err := runRecipe(t, context.Background(), dir, failing, nil)
	var ee *ExpectError
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "recipe.qpipe:5:1: expect: accuracy >= 0.999 is false (accuracy = ") || !strings.Contains(err.Error(), "%; 0.999 = 99.90%)") {
		t.Fatalf("failing expect: %v", err)
	}
	rep, _ := ReadReport(filepath.Join(dir, "out"))
	if got := statuses(rep); got != "done done done done failed skipped" {
		t.Fatalf("statuses %s", got)
	}
	first := rep.Steps[3].Metrics["accuracy"]
	// The same recipe with the bound relaxed changes the expect only:
	// model, data, train and evaluate come from the step store, except
	// that evaluate times the stored model again (latency is never
	// cached as fixed); expect and export run.
	firstLatency := rep.Steps[3].Metrics["latency_ms_b1"]
	rep2, err := runRecipe(t, context.Background(), dir, strings.Replace(failing, "0.999", "0.5", 1), func(o *Options) { o.Resume = true })
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(rep2); got != "cached cached cached cached done done" {
		t.Fatalf("statuses after resume %s", got)
	}
	ev := rep2.Steps[3]
	if ev.Metrics["accuracy"] != first || *rep2.Final.Accuracy != first || !strings.HasSuffix(ev.Summary, "(latency re-measured; the rest from the step store)") || !strings.Contains(ev.Summary, "latency_ms_b1=") {
		t.Errorf("evaluate after resume %+v, final %v, want accuracy %v", ev, *rep2.Final.Accuracy, first)
	}
	if l := ev.Metrics["latency_ms_b1"]; l <= 0 || l == firstLatency || rep2.Final.LatencyMS["b1"] != l {
		t.Errorf("latency_ms_b1 %v (first run %v), final %v: not re-measured", l, firstLatency, rep2.Final.LatencyMS["b1"])
	}
	// Changing the training re-executes it and everything after it.
	rep3, err := runRecipe(t, context.Background(), dir, strings.Replace(tiny, "epochs=1", "epochs=2", 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(rep3); got != "cached cached done done done done" {
		t.Fatalf("statuses after an edit of line 3: %s", got)
	}
}

func statuses(r *Report) string {
	var s []string
	for _, st := range r.Steps {
		s = append(s, st.Status)
	}
	return strings.Join(s, " ")
}

func TestForBranchesStartFromTheSameState(t *testing.T) {
	dir := t.TempDir()
	rec := `model mlp
data mnist subset=500
train epochs=1
snapshot base
for lr in [1e-3, 1e-2] {
  finetune epochs=1 lr=lr
  evaluate accuracy
  expect accuracy >= 0.3
}
evaluate accuracy
`
	rep, err := runRecipe(t, context.Background(), dir, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	var branches []string
	for _, s := range rep.Steps {
		branches = append(branches, s.Branch)
	}
	if got := strings.Join(branches, "|"); got != "||||lr=0.001|lr=0.001|lr=0.001|lr=0.01|lr=0.01|lr=0.01|" {
		t.Fatalf("branches %s", got)
	}
	a1, a2, after := rep.Steps[5].Metrics["accuracy"], rep.Steps[8].Metrics["accuracy"], rep.Steps[10].Metrics["accuracy"]
	if a1 == a2 || a1 == after || a2 == after {
		t.Errorf("branch accuracies %v %v and after the loop %v should differ", a1, a2, after)
	}
	// After the loop the state is the one before it: the same model as
	// a run that stops before the loop measures.
	base, err := runRecipe(t, context.Background(), t.TempDir(), "model mlp\ndata mnist subset=500\ntrain epochs=1\nevaluate accuracy\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := base.Steps[3].Metrics["accuracy"]; got != after {
		t.Errorf("accuracy after the loop %v, without it %v", after, got)
	}
}

func TestNonFiniteLossStopsAndKeepsLastCheckpoint(t *testing.T) {
	dir := t.TempDir()
	rec := "model mlp\ndata mnist subset=500\ntrain epochs=1 lr=1e-3\ntrain epochs=1 lr=1e12 optimizer=sgd\nevaluate accuracy\n"
	_, err := runRecipe(t, context.Background(), dir, rec, nil)
	if !errors.Is(err, ErrNonFinite) {
		t.Fatalf("err = %v", err)
	}
	msg := err.Error()
	rep, _ := ReadReport(filepath.Join(dir, "out"))
	for _, want := range []string{"recipe.qpipe:4:1: train: loss is not finite", "the last good checkpoint is " + rep.Steps[2].Checkpoint} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if got := statuses(rep); got != "done done done failed skipped" {
		t.Errorf("statuses %s", got)
	}
	if !strings.HasPrefix(rep.Steps[2].Checkpoint, filepath.Join(dir, "cache")) {
		t.Errorf("checkpoint %q is not in the step store", rep.Steps[2].Checkpoint)
	}
	if _, err := os.Stat(testStore(t, dir).Path(rep.Steps[3].Key)); !os.IsNotExist(err) {
		t.Errorf("the failed step was stored: %v", err)
	}
}

// cancelOnTrain cancels the run once training reports progress.
type cancelOnTrain struct{ cancel context.CancelFunc }

func (c cancelOnTrain) Started(StepReport) {}
func (c cancelOnTrain) Progress(s StepReport, t Tick) {
	if s.Verb == "train" && t.Done >= 2 {
		c.cancel()
	}
}
func (c cancelOnTrain) Finished(StepReport) {}

func TestInterruptStopsWithinTheStep(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := runRecipe(t, ctx, dir, tiny, func(o *Options) { o.Observer = cancelOnTrain{cancel} })
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v", err)
	}
	rep, _ := ReadReport(filepath.Join(dir, "out"))
	if got := statuses(rep); got != "done done interrupted skipped skipped skipped" || rep.Steps[2].Error != "interrupted" {
		t.Fatalf("statuses %s, error %q", got, rep.Steps[2].Error)
	}
	rep2, err := runRecipe(t, context.Background(), dir, tiny, func(o *Options) { o.Resume = true })
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(rep2); got != "cached cached done done done done" {
		t.Errorf("statuses after resume %s", got)
	}
}

func TestSameSeedSameAccuracy(t *testing.T) {
	rec := "model cnn\ndata mnist subset=300\ntrain epochs=1 batch=32\nevaluate accuracy\n"
	a, err := runRecipe(t, context.Background(), t.TempDir(), rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := runRecipe(t, context.Background(), t.TempDir(), rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if x, y := a.Steps[3].Metrics, b.Steps[3].Metrics; x["accuracy"] != y["accuracy"] || x["loss"] != y["loss"] {
		t.Errorf("same seed, different results: %v vs %v", x, y)
	}
	c, err := runRecipe(t, context.Background(), t.TempDir(), rec, func(o *Options) { o.Seed = 2 })
	if err != nil {
		t.Fatal(err)
	}
	if c.Steps[3].Metrics["loss"] == a.Steps[3].Metrics["loss"] {
		t.Error("seed 2 gave the same loss as seed 1")
	}
}

func TestPreflightAndPaths(t *testing.T) {
	dir := t.TempDir()
	rec, path := checked(t, dir, "r.qpipe", "model mlp\ndata mnist subset=10\nfor b in [2, 3] {\n  quantize log2 bits=b\n}\nexport onnx \"m.onnx\"\nexport checkpoint \"/abs.safetensors\"\n", nil)
	r, err := New(Options{Recipe: rec, Path: path, OutDir: filepath.Join(dir, "o")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range r.Preflight() {
		got = append(got, d.Span.String()+": "+d.Summary)
	}
	want := []string{
		path + `:7:19: export path "/abs.safetensors" is absolute; export paths are relative to the output directory ` + filepath.Join(dir, "o"),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("preflight:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := os.Stat(filepath.Join(dir, "o")); !os.IsNotExist(err) {
		t.Error("preflight created the output directory")
	}
}

func TestUnwritableOutputDirectory(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	os.WriteFile(blocker, []byte("x"), 0o644)
	_, err := runRecipe(t, context.Background(), dir, "model mlp\n", func(o *Options) { o.OutDir = filepath.Join(blocker, "out") })
	if err == nil || !strings.Contains(err.Error(), "output directory "+filepath.Join(blocker, "out")+" is not writable") {
		t.Fatalf("err = %v", err)
	}
}

func TestCorruptModelFileNamesTheLine(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "m.safetensors"), []byte("\x08\x00\x00\x00\x00\x00\x00\x00{garbage"), 0o644)
	os.WriteFile(filepath.Join(dir, "m.json"), []byte(`{"format":1}`), 0o644)
	_, err := runRecipe(t, context.Background(), dir, "data mnist subset=10\nmodel \"m.safetensors\"\n", nil)
	if err == nil || !strings.Contains(err.Error(), "recipe.qpipe:2:1: model: cannot load model m.safetensors: modelio:") {
		t.Fatalf("err = %v", err)
	}
}
