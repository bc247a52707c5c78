package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/planner"
	"github.com/qpipe/qpipe/stdlib/run"
)

// agreementRecipes are the examples and every recipe under a testdata
// folder of the repository.
func agreementRecipes(t *testing.T) []string {
	t.Helper()
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	files, _ := filepath.Glob(filepath.Join(root, "examples", "*.qpipe"))
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".qpipe") && strings.Contains(path, string(filepath.Separator)+"testdata"+string(filepath.Separator)) {
			files = append(files, path)
		}
		return nil
	})
	return files
}

// planJSON is what `qpipe plan --format json` prints, as far as the
// run is concerned.
type planJSON struct {
	Nodes []struct {
		Label string        `json:"label"`
		Kind  planner.Kind  `json:"kind"`
		Verb  string        `json:"verb"`
		Args  []planner.Arg `json:"args"`
		Index int           `json:"index"`
		Key   string        `json:"key"`
	} `json:"nodes"`
}

// visit records the nodes an execution runs, without running verbs.
func visit(_ context.Context, env *run.Env, _ *run.State, n *planner.Node) (*run.Outcome, error) {
	return &run.Outcome{Summary: n.Label}, nil
}

// TestPlanAndRunAgree: for every example and testdata recipe that checks,
// the nodes `qpipe run` executes are the work nodes `qpipe plan --format
// json` lists: same ids, verbs, resolved arguments, keys, in index order.
func TestPlanAndRunAgree(t *testing.T) {
	compared := 0
	for _, file := range agreementRecipes(t) {
		l := loadRecipe(file, check.Options{})
		if l.recipe == nil || l.ds.HasErrors() {
			continue
		}
		compared++
		var out bytes.Buffer
		if code := Main([]string{"plan", "--format", "json", file}, &IO{Stdout: &out, Stderr: io.Discard, Getenv: os.Getenv}); code != 0 {
			t.Errorf("%s: qpipe plan exited %d", file, code)
			continue
		}
		var printed planJSON
		if err := json.Unmarshal(out.Bytes(), &printed); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		store, err := run.OpenStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		r, err := run.New(run.Options{Recipe: l.recipe, Path: file, Seed: 1, Device: "cpu", OutDir: t.TempDir(), Store: store})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		rw := &run.ReportWriter{Dir: t.TempDir(), Report: &run.Report{}}
		if err := (&run.Local{RunNode: visit}).Execute(context.Background(), r.Plan(), nil, rw); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		agree(t, file, printed, r.Plan(), rw.Report)
	}
	t.Logf("%d recipes compared", compared)
	if compared < 10 {
		t.Errorf("only %d recipes compared", compared)
	}
}

func agree(t *testing.T, file string, printed planJSON, p *planner.Plan, rep *run.Report) {
	t.Helper()
	var want []string
	for _, n := range printed.Nodes {
		if n.Kind == planner.KindStep || n.Kind == planner.KindLet || n.Kind == planner.KindExpect {
			args, _ := json.Marshal(n.Args)
			want = append(want, n.Label+" "+n.Verb+" "+string(args)+" "+n.Key)
		}
	}
	var planned []string
	for _, n := range p.Work() {
		args, _ := json.Marshal(n.Args)
		planned = append(planned, n.Label+" "+n.Verb+" "+string(args)+" "+n.Key)
	}
	for i, s := range rep.Steps {
		if s.Index != i || s.Status != run.StatusDone || s.Summary != s.Node {
			t.Errorf("%s: report entry %d: %+v", file, i, s)
		}
	}
	if strings.Join(planned, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: the run plans\n%s\nqpipe plan prints\n%s", file, strings.Join(planned, "\n"), strings.Join(want, "\n"))
	}
	if len(rep.Steps) != len(planned) {
		t.Fatalf("%s: %d nodes ran, %d planned", file, len(rep.Steps), len(planned))
	}
	for i, n := range p.Work() {
		if rep.Steps[i].Node != n.Label || rep.Steps[i].Key != n.Key {
			t.Errorf("%s: entry %d ran node %s (%s), planned %s (%s)", file, i, rep.Steps[i].Node, rep.Steps[i].Key, n.Label, n.Key)
		}
	}
}

// TestPlanAndRunAgreeOnBindings: for a run of qpipe.hcl (its dataset sets
// batch=) and a run with --data, the batch every step executes with is
// the one `qpipe plan --format json` prints for it, and both come from
// the binding or the recipe's data line as the run's data opens them.
func TestPlanAndRunAgreeOnBindings(t *testing.T) {
	dir := t.TempDir()
	recipe := "model mlp\ndata mnist batch=128 subset=300\ntrain epochs=1\nquantize log2 bits=4 epochs=1\nevaluate accuracy\n"
	os.WriteFile(filepath.Join(dir, "r.qpipe"), []byte(recipe), 0o644)
	os.WriteFile(filepath.Join(dir, "qpipe.hcl"), []byte(`dataset "d" {
  source = "digits"
  batch  = 16
}
run "small" {
  recipe = "r.qpipe"
  data   = dataset.d
}
`), 0o644)
	t.Chdir(dir)
	for _, c := range []struct {
		args  []string
		batch string // every batch the steps run with
	}{
		{[]string{"small"}, "16"},
		{[]string{"--data", "digits", "r.qpipe"}, "128"},
		{[]string{"r.qpipe"}, "128"},
	} {
		var out bytes.Buffer
		argv := append([]string{"plan", "--format", "json"}, c.args...)
		if code := Main(argv, &IO{Stdout: &out, Stderr: io.Discard, Getenv: os.Getenv}); code != 0 {
			t.Fatalf("%v: qpipe plan exited %d", c.args, code)
		}
		var printed planJSON
		if err := json.Unmarshal(out.Bytes(), &printed); err != nil {
			t.Fatal(err)
		}
		ro := &runOptions{seed: 1, projectFile: "qpipe.hcl", set: map[string]bool{}}
		for i := 0; i < len(c.args)-1; i++ {
			if c.args[i] == "--data" {
				ro.data = c.args[i+1]
			}
		}
		j, err := resolveJob(&IO{Stderr: io.Discard, Getenv: os.Getenv}, ro, c.args[len(c.args)-1])
		if err != nil {
			t.Fatal(err)
		}
		l := loadRecipe(j.recipe, j.checkOptions(true))
		if l.ds.HasErrors() {
			t.Fatalf("%v: %v", c.args, l.ds)
		}
		r, err := run.New(run.Options{Recipe: l.recipe, Path: j.recipe, Seed: 1, Device: "cpu", OutDir: t.TempDir(), Data: j.data})
		if err != nil {
			t.Fatal(err)
		}
		ran := map[string]string{}
		record := func(_ context.Context, _ *run.Env, _ *run.State, n *planner.Node) (*run.Outcome, error) {
			if n.Step != nil {
				if b, ok := n.Step.Args["batch"]; ok {
					ran[n.Label] = b.String()
				}
			}
			return &run.Outcome{Summary: n.Label}, nil
		}
		rw := &run.ReportWriter{Dir: t.TempDir(), Report: &run.Report{}}
		if err := (&run.Local{RunNode: record}).Execute(context.Background(), r.Plan(), nil, rw); err != nil {
			t.Fatal(err)
		}
		agree(t, strings.Join(c.args, " "), printed, r.Plan(), rw.Report)
		seen := 0
		for _, n := range printed.Nodes {
			for _, a := range n.Args {
				if a.Name != "batch" {
					continue
				}
				seen++
				want := c.batch
				if n.Verb == "evaluate" {
					want = "64" // evaluate's batch is its own, not the data line's
				}
				if a.Value != want || ran[n.Label] != want {
					t.Errorf("%v: node %s %s: plan prints batch=%s, the step runs with %s; want %s", c.args, n.Label, n.Verb, a.Value, ran[n.Label], want)
				}
			}
		}
		if seen != 4 { // data, train, quantize, evaluate
			t.Errorf("%v: %d nodes with a batch, want 4", c.args, seen)
		}
	}
}
