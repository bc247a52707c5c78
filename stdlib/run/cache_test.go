package run

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sweep forks after training: the branches and the step after the loop
// all start from the trained model.
const sweep = `model mlp
data npy "ds"
train epochs=1 batch=16
for lr in [1e-3, 1e-2] {
  finetune epochs=1 lr=lr batch=16
  evaluate accuracy
}
evaluate accuracy
`

// writeNpyData writes a 64+32 image two-class dataset of 8x8 images into
// dir/ds; shift changes every pixel of the training images.
func writeNpyData(t testing.TB, dir string, shift byte) {
	t.Helper()
	ds := filepath.Join(dir, "ds")
	os.MkdirAll(ds, 0o755)
	for _, split := range []struct {
		name string
		n    int
	}{{"train", 64}, {"test", 32}} {
		x := make([]byte, split.n*64)
		y := make([]int64, split.n)
		for i := range y {
			y[i] = int64(i % 2)
			for j := 0; j < 64; j++ {
				x[i*64+j] = byte(int(y[i])*120+j+i%7) + shift
			}
		}
		if split.name == "test" {
			shiftBack(x, shift)
		}
		writeNpy(t, filepath.Join(ds, "x_"+split.name+".npy"), "|u1", []int{split.n, 1, 8, 8}, x)
		writeNpy(t, filepath.Join(ds, "y_"+split.name+".npy"), "<i8", []int{split.n}, y)
	}
}

func shiftBack(x []byte, shift byte) {
	for i := range x {
		x[i] -= shift
	}
}

// writeNpy writes an array in .npy version 1 format.
func writeNpy(t testing.TB, path, descr string, shape []int, data any) {
	t.Helper()
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s,), }", descr, strings.Join(dims, ", "))
	for (10+len(header)+1)%64 != 0 {
		header += " "
	}
	var buf bytes.Buffer
	buf.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&buf, binary.LittleEndian, uint16(len(header)+1))
	buf.WriteString(header + "\n")
	binary.Write(&buf, binary.LittleEndian, data)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// executed lists the node ids a run executed (status done), in order.
func executed(r *Report) string {
	var out []string
	for _, s := range r.Steps {
		if s.Status == StatusDone {
			out = append(out, s.Node)
		}
	}
	return strings.Join(out, " ")
}

func mustRun(t *testing.T, dir, text string, mod func(*Options)) *Report {
	t.Helper()
	rep, err := runRecipe(t, context.Background(), dir, text, mod)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestSecondRunExecutesNothingAndReportsTheSameMetrics(t *testing.T) {
	dir := t.TempDir()
	writeNpyData(t, dir, 0)
	first := mustRun(t, dir, sweep, nil)
	if got := executed(first); got != "1 2 3 4.1.1 4.1.2 4.2.1 4.2.2 5" {
		t.Fatalf("first run executed %q", got)
	}
	second := mustRun(t, dir, sweep, nil)
	if got := executed(second); got != "" {
		t.Fatalf("second run executed %q", got)
	}
	for i, s := range second.Steps {
		if s.Status != StatusCached || fmt.Sprint(s.Metrics) != fmt.Sprint(first.Steps[i].Metrics) || s.Node != first.Steps[i].Node {
			t.Errorf("node %s: %s %v, first run %v", s.Node, s.Status, s.Metrics, first.Steps[i].Metrics)
		}
	}
	if *second.Final.Accuracy != *first.Final.Accuracy {
		t.Errorf("final accuracy %v, first run %v", *second.Final.Accuracy, *first.Final.Accuracy)
	}
}

func TestAnEditReExecutesTheNodeAndItsDescendantsOnly(t *testing.T) {
	dir := t.TempDir()
	writeNpyData(t, dir, 0)
	mustRun(t, dir, sweep, nil)
	cases := []struct{ name, text, want string }{
		{"second loop value", strings.Replace(sweep, "1e-2]", "3e-2]", 1), "4.2.1 4.2.2"},
		{"spelling only", strings.Replace(sweep, "1e-3,", "0.001,", 1), ""},
		{"training epochs", strings.Replace(sweep, "train epochs=1", "train epochs=2", 1), "3 4.1.1 4.1.2 4.2.1 4.2.2 5"},
		{"finetune in both branches", strings.Replace(sweep, "finetune epochs=1", "finetune epochs=2", 1), "4.1.1 4.1.2 4.2.1 4.2.2"},
	}
	for _, c := range cases {
		if got := executed(mustRun(t, dir, c.text, nil)); got != c.want {
			t.Errorf("%s: executed %q, want %q", c.name, got, c.want)
		}
	}
}

func TestModelSeedAndDatasetInvalidateTheirNodes(t *testing.T) {
	dir := t.TempDir()
	writeNpyData(t, dir, 0)
	mustRun(t, dir, sweep, nil)
	all := "1 2 3 4.1.1 4.1.2 4.2.1 4.2.2 5"
	if got := executed(mustRun(t, dir, sweep, func(o *Options) { o.Seed = 2 })); got != all {
		t.Errorf("seed 2 executed %q", got)
	}
	if got := executed(mustRun(t, dir, sweep, func(o *Options) { o.Model = "cnn" })); got != all {
		t.Errorf("--model cnn executed %q", got)
	}
	writeNpyData(t, dir, 3)
	if got := executed(mustRun(t, dir, sweep, nil)); got != "2 3 4.1.1 4.1.2 4.2.1 4.2.2 5" {
		t.Errorf("after the dataset changed, executed %q", got)
	}
}

func TestDamagedEntryIsReportedAndRecomputed(t *testing.T) {
	dir := t.TempDir()
	writeNpyData(t, dir, 0)
	first := mustRun(t, dir, sweep, nil)
	train := first.Steps[2]
	var notes []string
	warn := func(o *Options) { o.Warn = func(s string) { notes = append(notes, s) } }

	// A truncated entry file.
	b, _ := os.ReadFile(train.Checkpoint)
	os.WriteFile(train.Checkpoint, b[:len(b)/2], 0o644)
	rep := mustRun(t, dir, sweep, warn)
	if got := executed(rep); got != "3" || len(notes) != 1 || !strings.Contains(notes[0], "is damaged") {
		t.Fatalf("after truncating node 3's entry: executed %q, notes %q", got, notes)
	}
	if rep.Steps[2].Metrics["train_loss"] != train.Metrics["train_loss"] {
		t.Errorf("recomputed train_loss %v, first %v", rep.Steps[2].Metrics["train_loss"], train.Metrics["train_loss"])
	}

	// A damaged model file: node 3 and node 5 (the same model) name it.
	var e Entry
	st := testStore(t, dir)
	got, err := st.Get(train.Key)
	if err != nil || got == nil {
		t.Fatalf("entry of node 3: %v", err)
	}
	e = *got
	blob := filepath.Join(st.Dir, e.State.Model.File)
	wb, _ := os.ReadFile(blob)
	wb[len(wb)-1] ^= 1
	os.WriteFile(blob, wb, 0o644)
	notes = nil
	if got := executed(mustRun(t, dir, sweep, warn)); got != "3 5" || len(notes) != 2 {
		t.Errorf("after flipping a bit of node 3's model: executed %q, notes %q", got, notes)
	}
}

func TestJobsTwoGivesTheSameMetricsAsOne(t *testing.T) {
	dir := t.TempDir()
	writeNpyData(t, dir, 0)
	one := mustRun(t, dir, sweep, func(o *Options) { o.NoCache = true })
	two := mustRun(t, dir, sweep, func(o *Options) { o.NoCache, o.Jobs = true, 2 })
	if len(one.Steps) != len(two.Steps) {
		t.Fatalf("%d and %d steps", len(one.Steps), len(two.Steps))
	}
	for i := range one.Steps {
		a, b := one.Steps[i], two.Steps[i]
		if a.Node != b.Node || b.Status != StatusDone || fmt.Sprint(a.Metrics) != fmt.Sprint(b.Metrics) {
			t.Errorf("step %d: --jobs 1 %s %v, --jobs 2 %s %s %v", i, a.Node, a.Metrics, b.Node, b.Status, b.Metrics)
		}
	}
}

func TestGCBoundsTheStoreAndRemovesLeftovers(t *testing.T) {
	dir := t.TempDir()
	writeNpyData(t, dir, 0)
	mustRun(t, dir, sweep, nil)
	st := testStore(t, dir)
	os.WriteFile(filepath.Join(st.Dir, "blobs", ".x.safetensors.tmp-123"), []byte("half"), 0o644)
	before, _ := st.List()
	r, err := st.GC(1 << 40)
	if err != nil || r.Entries != 0 || r.Temps != 1 || r.Blobs != 0 {
		t.Fatalf("gc under the bound: %+v %v", r, err)
	}
	r, err = st.GC(0)
	after, _ := st.List()
	size, _ := st.Size()
	if err != nil || r.Entries != len(before) || len(after) != 0 || size != 0 || r.Blobs == 0 {
		t.Errorf("gc to 0: %+v %v, %d entries and %d bytes left", r, err, len(after), size)
	}
}

func TestManifestSaysWhereARerunDiffers(t *testing.T) {
	dir := t.TempDir()
	writeNpyData(t, dir, 0)
	mustRun(t, dir, sweep, nil)
	m, err := ReadManifest(filepath.Join(dir, "out", ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Plan) != 8 || m.Seed != 1 || m.RecipeText != sweep || len(m.Inputs) != 2 || m.Build.Go == "" {
		t.Fatalf("manifest: %d nodes, seed %d, %d inputs, build %+v", len(m.Plan), m.Seed, len(m.Inputs), m.Build)
	}
	if d := m.Differences(m); len(d) != 0 {
		t.Errorf("a manifest differs from itself: %q", d)
	}
	again := *m
	again.Plan = append([]ManifestNode(nil), m.Plan...)
	again.Plan[6].Metrics = map[string]float64{"accuracy": 0.25, "loss": m.Plan[6].Metrics["loss"]}
	again.Plan[2].Key = "0123456789abcdef"
	again.Inputs = append([]ManifestInput(nil), m.Inputs...)
	again.Inputs[1].Fingerprint = "changed"
	want := []string{"node 2 (data): its input changed: changed, was ",
		"node 3 (train, line 3): key 0123456789ab, the manifest has " + m.Plan[2].Key[:12],
		"node 4.2.2 (evaluate, line 6): accuracy = 25.00%, the manifest has "}
	got := m.Differences(&again)
	if len(got) != len(want) {
		t.Fatalf("differences %q", got)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("difference %d = %q, want prefix %q", i, got[i], want[i])
		}
	}
}
