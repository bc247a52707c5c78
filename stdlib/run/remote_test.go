package run

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/qpipe/qpipe/planner"
)

// fakeNodes stands in for every node's verb: it records the node and
// reports its index as a metric, so the test needs no data or model.
type fakeNodes struct {
	mu  sync.Mutex
	ran []string
}

func (f *fakeNodes) run(_ context.Context, _ *Env, st *State, n *planner.Node) (*Outcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ran = append(f.ran, n.Label)
	st.Metrics["accuracy"] = float64(n.Index) / 10
	return &Outcome{Metrics: map[string]float64{"accuracy": float64(n.Index) / 10}}, nil
}

// collect is an observer that keeps finished entries.
type collect struct{ steps []StepReport }

func (c *collect) Started(StepReport)        {}
func (c *collect) Progress(StepReport, Tick) {}
func (c *collect) Finished(s StepReport)     { c.steps = append(c.steps, s) }
func (c *collect) statuses() map[string]string {
	m := map[string]string{}
	for _, s := range c.steps {
		m[s.Node] = s.Status
	}
	return m
}

const twoBranches = `data mnist subset=100
for s in [1, 2] {
  model mlp seed=s
  evaluate accuracy
}
`

// TestSelectRunsOneJobsNodes is what a Slurm job does: execute the nodes
// of one branch, starting from the state the store holds.
func TestSelectRunsOneJobsNodes(t *testing.T) {
	dir := t.TempDir()
	rec, path := checked(t, dir, "r.qpipe", twoBranches, nil)
	store := testStore(t, dir)
	r, err := New(Options{Recipe: rec, Path: path, Seed: 1, OutDir: filepath.Join(dir, "out"), Store: store})
	if err != nil {
		t.Fatal(err)
	}
	branch2 := func(n *planner.Node) bool { return strings.HasPrefix(n.Label, "2.2.") }

	// The branch's input (node 1) is not stored yet: a located error, and
	// nothing runs.
	f := &fakeNodes{}
	l := r.Local()
	l.RunNode, l.Select = f.run, branch2
	err = l.Execute(context.Background(), r.Plan(), store, &collect{})
	var me *MissingError
	if !errors.As(err, &me) || me.Node.Label != "1" || len(f.ran) != 0 {
		t.Fatalf("error %v, ran %v", err, f.ran)
	}
	if !strings.Contains(err.Error(), "node 1 (line 1, data) is not in the step store") {
		t.Errorf("message %q", err)
	}

	// Node 1 alone (the first job), then branch 2 (a later job).
	l.Select = func(n *planner.Node) bool { return n.Label == "1" }
	if err := l.Execute(context.Background(), r.Plan(), store, &collect{}); err != nil {
		t.Fatal(err)
	}
	l.Select = branch2
	f.ran = nil
	var obs collect
	if err := l.Execute(context.Background(), r.Plan(), store, &obs); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.ran, ","); got != "2.2.1,2.2.2" {
		t.Errorf("ran %s, want the branch's two nodes", got)
	}
	if got := obs.statuses(); len(got) != 2 || got["2.2.1"] != StatusDone || got["2.2.2"] != StatusDone {
		t.Errorf("reported %v: only the selected nodes", got)
	}

	// The merged report: branch 2 from its job, node 1 from the store,
	// branch 1 never ran.
	base := Report{Recipe: path, Device: "cpu", Seed: 1}
	m := Merge(r.Plan(), store, base, []*Report{{Steps: obs.steps}})
	var got []string
	for _, s := range m.Steps {
		got = append(got, s.Node+"="+s.Status)
	}
	if strings.Join(got, " ") != "1=cached 2.1.1=skipped 2.1.2=skipped 2.2.1=done 2.2.2=done" {
		t.Errorf("merged %v", got)
	}
	if m.Steps[4].Metrics["accuracy"] != 0.4 || m.Steps[4].Key == "" {
		t.Errorf("merged entry %+v", m.Steps[4])
	}
}
