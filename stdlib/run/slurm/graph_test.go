package slurm

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/syntax"
	"github.com/qpipe/qpipe/planner"
	"github.com/qpipe/qpipe/stdlib"
	"github.com/qpipe/qpipe/stdlib/run"
)

// plan parses, checks and plans recipe text with the standard vocabulary.
func plan(t *testing.T, text string) *planner.Plan {
	t.Helper()
	f, ds := syntax.ParseString("r.qpipe", text)
	if ds.HasErrors() {
		t.Fatalf("parse: %v", ds)
	}
	rec, ds := check.Check(f, run.Vocabulary(stdlib.Env()), check.Options{RequireExecutable: true})
	if ds.HasErrors() {
		t.Fatalf("check: %v", ds)
	}
	p, err := planner.Build(rec, planner.Options{Keys: planner.KeyOptions{Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// shape renders a graph as one line per job: name, nodes (or elements),
// indices and dependencies, to compare with what the recipe implies.
func shape(g *Graph) []string {
	var out []string
	for _, j := range g.Jobs {
		s := j.Name + " "
		if j.Array {
			var els []string
			for _, e := range j.Elements {
				els = append(els, strings.Join(e, ","))
			}
			s += "[" + strings.Join(els, " | ") + "] idx=" + ArraySpec(j.Indices)
		} else {
			s += strings.Join(j.Nodes, ",")
		}
		var deps []string
		for _, d := range j.After {
			dep := g.Jobs[d.Job].Name
			if d.Element >= 0 {
				dep += "#" + string(rune('0'+d.Element))
			}
			deps = append(deps, dep)
		}
		if len(deps) > 0 {
			s += " after " + strings.Join(deps, ",")
		}
		out = append(out, s)
	}
	return out
}

const sweep = `data mnist subset=500
let epochs = 1
for s in [1, 2, 3] {
  model mlp seed=s
  train epochs=epochs
  evaluate accuracy
}
let done = 1
`

func TestSweepIsOneArray(t *testing.T) {
	g := Build(plan(t, sweep), Options{})
	want := []string{
		"1-2 1,2",
		"3[] [3.1.1,3.1.2,3.1.3 | 3.2.1,3.2.2,3.2.3 | 3.3.1,3.3.2,3.3.3] idx=0-2 after 1-2",
		// the statement after the loop starts from the loop's entry
		"4 4 after 1-2",
	}
	if got := shape(g); !reflect.DeepEqual(got, want) {
		t.Errorf("jobs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if g.Nodes != 12 || g.Stored != 0 {
		t.Errorf("nodes %d stored %d, want 12 and 0", g.Nodes, g.Stored)
	}
	if b := g.Jobs[1].Branches; !reflect.DeepEqual(b, []string{"s=1", "s=2", "s=3"}) {
		t.Errorf("branches %v", b)
	}
}

func TestStoredNodesAreNotSubmitted(t *testing.T) {
	p := plan(t, sweep)
	// Everything but branch s=2 is stored (a run whose job 2[]_1 was
	// killed): only that element is submitted, with no dependency.
	stored := func(n *planner.Node) bool { return !strings.HasPrefix(n.Label, "3.2.") }
	g := Build(p, Options{Stored: stored})
	want := []string{"3[] [3.1.1,3.1.2,3.1.3 | 3.2.1,3.2.2,3.2.3 | 3.3.1,3.3.2,3.3.3] idx=1"}
	if got := shape(g); !reflect.DeepEqual(got, want) {
		t.Errorf("jobs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if g.Stored != 9 {
		t.Errorf("stored %d, want 9", g.Stored)
	}
	// Half a branch stored: the branch is submitted whole (its job takes
	// the stored nodes from the store), after the stored data node.
	stored = func(n *planner.Node) bool { return n.Label == "1" || n.Label == "2" || n.Label == "3.3.1" }
	got := shape(Build(p, Options{Stored: stored}))
	want = []string{"3[] [3.1.1,3.1.2,3.1.3 | 3.2.1,3.2.2,3.2.3 | 3.3.1,3.3.2,3.3.3] idx=0-2", "4 4"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("jobs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if g := Build(p, Options{Stored: func(*planner.Node) bool { return true }}); len(g.Jobs) != 0 {
		t.Errorf("everything stored still submits %v", shape(g))
	}
}

func TestPerNode(t *testing.T) {
	g := Build(plan(t, "data mnist subset=100\nmodel mlp\ntrain epochs=1\nfor b in [2, 3] {\n  quantize log2 bits=b\n}\n"), Options{PerNode: true})
	want := []string{"1 1", "2 2 after 1", "3 3 after 2", "4[] [4.1.1 | 4.2.1] idx=0-1 after 3"}
	if got := shape(g); !reflect.DeepEqual(got, want) {
		t.Errorf("jobs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRobustnessExample is the job graph of examples/robustness.qpipe:
// the data line and lets, the two networks as an array, and for each
// network its three arms as arrays that depend on that network's element.
func TestRobustnessExample(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", "robustness.qpipe"))
	if err != nil {
		t.Fatal(err)
	}
	g := Build(plan(t, string(text)), Options{})
	want := []string{
		"1-4 1,2,3,4",
		"5[] [5.1.1,5.1.2,5.1.3,5.1.4 | 5.2.1,5.2.2,5.2.3,5.2.4] idx=0-1 after 1-4",
		"5.1.5[] [5.1.5.1.1,5.1.5.1.2 | 5.1.5.2.1,5.1.5.2.2] idx=0-1 after 5[]#0",
		"5.1.6[] [5.1.6.1.1,5.1.6.1.2,5.1.6.1.3 | 5.1.6.2.1,5.1.6.2.2,5.1.6.2.3] idx=0-1 after 5[]#0",
		"5.1.7[] [5.1.7.1.1,5.1.7.1.2,5.1.7.1.3] idx=0 after 5[]#0",
		"5.2.5[] [5.2.5.1.1,5.2.5.1.2 | 5.2.5.2.1,5.2.5.2.2] idx=0-1 after 5[]#1",
		"5.2.6[] [5.2.6.1.1,5.2.6.1.2,5.2.6.1.3 | 5.2.6.2.1,5.2.6.2.2,5.2.6.2.3] idx=0-1 after 5[]#1",
		"5.2.7[] [5.2.7.1.1,5.2.7.1.2,5.2.7.1.3] idx=0 after 5[]#1",
	}
	if got := shape(g); !reflect.DeepEqual(got, want) {
		t.Errorf("jobs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The mlp network stored (a run whose cnn element failed): the array
	// of networks is submitted for cnn only, and the mlp arms wait for
	// nothing, since their input is in the store.
	p := plan(t, string(text))
	mlp := func(n *planner.Node) bool {
		l := n.Label
		return len(strings.Split(l, ".")) <= 3 && (strings.HasPrefix(l, "5.1.") || !strings.HasPrefix(l, "5"))
	}
	got := shape(Build(p, Options{Stored: mlp}))
	wantStored := []string{
		"5[] [5.1.1,5.1.2,5.1.3,5.1.4 | 5.2.1,5.2.2,5.2.3,5.2.4] idx=1",
		"5.1.5[] [5.1.5.1.1,5.1.5.1.2 | 5.1.5.2.1,5.1.5.2.2] idx=0-1",
		"5.1.6[] [5.1.6.1.1,5.1.6.1.2,5.1.6.1.3 | 5.1.6.2.1,5.1.6.2.2,5.1.6.2.3] idx=0-1",
		"5.1.7[] [5.1.7.1.1,5.1.7.1.2,5.1.7.1.3] idx=0",
		"5.2.5[] [5.2.5.1.1,5.2.5.1.2 | 5.2.5.2.1,5.2.5.2.2] idx=0-1 after 5[]#1",
		"5.2.6[] [5.2.6.1.1,5.2.6.1.2,5.2.6.1.3 | 5.2.6.2.1,5.2.6.2.2,5.2.6.2.3] idx=0-1 after 5[]#1",
		"5.2.7[] [5.2.7.1.1,5.2.7.1.2,5.2.7.1.3] idx=0 after 5[]#1",
	}
	if !reflect.DeepEqual(got, wantStored) {
		t.Errorf("jobs with mlp stored:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantStored, "\n"))
	}
	ids := []string{"10", "11", "12", "13", "14", "15", "16", "17"}
	if d := g.Deps(g.Jobs[2], ids); d != "afterok:11_0" {
		t.Errorf("deps of the first arm: %q", d)
	}
	if d := g.Deps(g.Jobs[1], ids); d != "afterok:10" {
		t.Errorf("deps of the networks: %q", d)
	}
}

// A for whose branches hold a nested for cannot be one array (each branch
// is several jobs); its branches are jobs of their own.
func TestNestedForAfterWork(t *testing.T) {
	g := Build(plan(t, "data mnist subset=100\nfor n in [mlp, cnn] {\n  model n\n  for b in [2, 3] {\n    quantize log2 bits=b\n  }\n  evaluate accuracy\n}\n"), Options{})
	want := []string{
		"1 1",
		"2.1.1 2.1.1 after 1",
		"2.1.2[] [2.1.2.1.1 | 2.1.2.2.1] idx=0-1 after 2.1.1",
		"2.1.3 2.1.3 after 2.1.1",
		"2.2.1 2.2.1 after 1",
		"2.2.2[] [2.2.2.1.1 | 2.2.2.2.1] idx=0-1 after 2.2.1",
		"2.2.3 2.2.3 after 2.2.1",
	}
	if got := shape(g); !reflect.DeepEqual(got, want) {
		t.Errorf("jobs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestArraySpec(t *testing.T) {
	for _, c := range []struct {
		in   []int
		want string
	}{{[]int{0, 1, 2}, "0-2"}, {[]int{1}, "1"}, {[]int{0, 2, 3, 5}, "0,2-3,5"}, {[]int{3, 0, 1}, "0-1,3"}} {
		if got := ArraySpec(c.in); got != c.want {
			t.Errorf("ArraySpec(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
