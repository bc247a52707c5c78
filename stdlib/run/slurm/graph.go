// Package slurm runs a recipe's plan on a Slurm cluster: the plan's
// branches become sbatch jobs that run qpipe itself on the compute nodes
// (`qpipe exec-node`) against the shared output folder and step store,
// chained with --dependency=afterok, with the branches of a `for` sweep as
// one job array. The submitting process follows the jobs with squeue and
// scontrol (sacct where the cluster keeps accounting), shows their
// progress and merges their reports into one report.json. docs/slurm.md
// documents it.
package slurm

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/qpipe/qpipe/planner"
)

// The job graph
//
// A plan's work nodes form chains: each node starts from its input, the
// node before it on its branch. A *segment* is a run of nodes of one
// branch (or of the top level) where each node starts from the one before;
// a segment ends where another branch forks from its last node (the entry
// of a `for`), so the branches can start as soon as the state they fork
// from is stored, and the statements after the loop form a segment of
// their own. By setting (PerNode) every node is a segment.
//
// Each segment is one sbatch job, except that the branches of one `for`
// whose every branch is a single segment become one job array, element i
// running branch i. A job depends (afterok) on the jobs of the segments
// its first nodes start from: a whole job, or one element of an array.
// Segments whose every node is stored (and reusable) are not submitted,
// nor array elements whose branch is; dependencies on them are dropped,
// since the state they stand for is in the store already.

// Job is one sbatch submission: a segment, or the branches of a for loop
// as an array.
type Job struct {
	// Name identifies the job in the run ("1-4", "6.1.1-6.1.3", "6[]").
	Name string `json:"name"`
	// Nodes are the labels of the work nodes it executes; for an array,
	// Elements[i] are those of element i instead.
	Nodes    []string   `json:"nodes,omitempty"`
	Elements [][]string `json:"elements,omitempty"`
	// Indices are the array elements to submit (those not stored).
	Indices []int `json:"indices,omitempty"`
	// Branches name each array element's binding ("seed=2"), or the
	// job's own branch.
	Branches []string `json:"branches,omitempty"`
	// After are the jobs it depends on.
	After []Dep `json:"after,omitempty"`
	// Array is true for a job array.
	Array bool `json:"array,omitempty"`
}

// Dep is a dependency on a job of the graph, or on one element of an
// array job (Element >= 0).
type Dep struct {
	Job     int `json:"job"`
	Element int `json:"element"`
}

// Graph is the jobs of a plan, in an order where every job follows the
// jobs it depends on.
type Graph struct {
	Jobs []*Job `json:"jobs"`
	// Nodes counts the plan's work nodes; Stored those the store stands
	// for, which no job executes.
	Nodes  int `json:"nodes"`
	Stored int `json:"stored"`
}

// Options control how a plan is cut into jobs.
type Options struct {
	// PerNode makes every node a job of its own.
	PerNode bool
	// Stored reports whether the step store stands for a node (its key
	// is stored and it is reusable); nil means none is.
	Stored func(n *planner.Node) bool
}

// segment is a chain of work nodes (plan IDs) of one group.
type segment struct {
	nodes []*planner.Node
	group int // innermost branch node's ID, -1 at top level
	after int // segment its first node starts from, -1 for none
}

// Build cuts p into jobs.
func Build(p *planner.Plan, o Options) *Graph {
	segs := segments(p, o.PerNode)
	g := &Graph{Nodes: len(p.Work())}
	stored := func(n *planner.Node) bool { return o.Stored != nil && o.Stored(n) }
	for _, n := range p.Work() {
		if stored(n) {
			g.Stored++
		}
	}
	// where[s] is the job and element that run segment s.
	type place struct{ job, element int }
	where := make([]place, len(segs))
	for i := range where {
		where[i] = place{-1, -1}
	}
	arrays := arrayGroups(p, segs)
	done := make([]bool, len(segs))
	for si := range segs {
		if done[si] {
			continue
		}
		members := []int{si}
		if a, ok := arrays[si]; ok {
			members = a
		}
		j := &Job{Array: len(members) > 1 || arrays[si] != nil}
		var after []Dep
		for e, m := range members {
			done[m] = true
			labels := labelsOf(segs[m].nodes)
			if j.Array {
				j.Elements = append(j.Elements, labels)
				j.Branches = append(j.Branches, p.Nodes[segs[m].group].Bind)
			} else {
				j.Nodes = labels
				if segs[m].group >= 0 {
					j.Branches = []string{branchPath(p, segs[m].group)}
				}
			}
			if allStored(segs[m].nodes, stored) {
				continue
			}
			if j.Array {
				j.Indices = append(j.Indices, e)
			}
			if a := segs[m].after; a >= 0 && where[a].job >= 0 {
				after = appendDep(after, Dep{Job: where[a].job, Element: where[a].element})
			}
		}
		j.Name = jobName(p, segs, members, j.Array)
		if (j.Array && len(j.Indices) == 0) || (!j.Array && allStored(segs[si].nodes, stored)) {
			continue // nothing to run: the store has it
		}
		j.After = after
		g.Jobs = append(g.Jobs, j)
		for e, m := range members {
			switch {
			case allStored(segs[m].nodes, stored): // not submitted: nothing waits for it
			case j.Array:
				where[m] = place{len(g.Jobs) - 1, e}
			default:
				where[m] = place{len(g.Jobs) - 1, -1}
			}
		}
	}
	return g
}

// segments cuts the plan's work nodes into chains.
func segments(p *planner.Plan, perNode bool) []*segment {
	work := p.Work()
	forked := map[int]bool{}
	for _, n := range work {
		if len(n.Inputs) > 0 && group(p, p.Nodes[n.Inputs[0]]) != group(p, n) {
			forked[n.Inputs[0]] = true
		}
	}
	var segs []*segment
	of := map[int]int{}
	open := map[int]int{} // group -> index of its open segment
	for _, n := range work {
		g := group(p, n)
		pred := -1
		if len(n.Inputs) > 0 {
			pred = n.Inputs[0]
		}
		si, ok := open[g]
		if !ok || perNode || pred < 0 || last(segs[si]).ID != pred || forked[pred] {
			after := -1
			if pred >= 0 {
				after = of[pred]
			}
			segs = append(segs, &segment{group: g, after: after})
			si = len(segs) - 1
			open[g] = si
		}
		segs[si].nodes = append(segs[si].nodes, n)
		of[n.ID] = si
	}
	return segs
}

func last(s *segment) *planner.Node { return s.nodes[len(s.nodes)-1] }

// group is the ID of the innermost branch around n, -1 at top level.
func group(p *planner.Plan, n *planner.Node) int {
	for q := n.Parent; q >= 0; q = p.Nodes[q].Parent {
		if p.Nodes[q].Kind == planner.KindBranch {
			return q
		}
	}
	return -1
}

// arrayGroups maps the first segment of every for loop whose branches
// are one segment each to those segments, in branch order.
func arrayGroups(p *planner.Plan, segs []*segment) map[int][]int {
	byGroup := map[int][]int{}
	for i, s := range segs {
		if s.group >= 0 {
			byGroup[s.group] = append(byGroup[s.group], i)
		}
	}
	out := map[int][]int{}
	for _, f := range p.Nodes {
		if f.Kind != planner.KindFor {
			continue
		}
		var members []int
		ok := true
		for _, b := range f.Children {
			if p.Nodes[b].Kind != planner.KindBranch {
				continue
			}
			s := byGroup[b]
			if len(s) != 1 {
				ok = false
				break
			}
			members = append(members, s[0])
		}
		if ok && len(members) > 0 {
			out[members[0]] = members
		}
	}
	return out
}

// branchPath is the bindings of a branch and its enclosing branches
// ("net=mlp,bits=2").
func branchPath(p *planner.Plan, b int) string {
	var binds []string
	for q := b; q >= 0; q = p.Nodes[q].Parent {
		if p.Nodes[q].Kind == planner.KindBranch {
			binds = append([]string{p.Nodes[q].Bind}, binds...)
		}
	}
	return strings.Join(binds, ",")
}

func labelsOf(ns []*planner.Node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Label
	}
	return out
}

func allStored(ns []*planner.Node, stored func(*planner.Node) bool) bool {
	for _, n := range ns {
		if !stored(n) {
			return false
		}
	}
	return true
}

func appendDep(ds []Dep, d Dep) []Dep {
	for _, x := range ds {
		if x == d {
			return ds
		}
	}
	return append(ds, d)
}

// jobName names a job by its nodes: "3" or "1-4" for a segment, "6[]"
// for the array of for loop 6.
func jobName(p *planner.Plan, segs []*segment, members []int, array bool) string {
	if array {
		b := p.Nodes[segs[members[0]].group]
		return p.Nodes[b.Parent].Label + "[]"
	}
	ns := segs[members[0]].nodes
	if len(ns) == 1 {
		return ns[0].Label
	}
	return ns[0].Label + "-" + last(&segment{nodes: ns}).Label
}

// Deps renders a job's dependencies for sbatch: "afterok:12:13_2", given
// the Slurm ids of the graph's jobs; "" for none.
func (g *Graph) Deps(j *Job, ids []string) string {
	if len(j.After) == 0 {
		return ""
	}
	parts := make([]string, len(j.After))
	for i, d := range j.After {
		parts[i] = ids[d.Job]
		if d.Element >= 0 {
			parts[i] += "_" + strconv.Itoa(d.Element)
		}
	}
	return "afterok:" + strings.Join(parts, ":")
}

// ArraySpec renders an array job's elements for --array ("0-2", "0,2").
func ArraySpec(indices []int) string {
	idx := append([]int(nil), indices...)
	sort.Ints(idx)
	var parts []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(idx[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", idx[i], idx[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// Describe is a job's one-line description: its nodes and branches.
func (j *Job) Describe() string {
	if j.Array {
		n := fmt.Sprintf("%d branches", len(j.Elements))
		if len(j.Elements) == 1 {
			n = "1 branch"
		}
		return fmt.Sprintf("array of %s (%s)", n, strings.Join(j.Branches, ", "))
	}
	s := "node " + j.Nodes[0]
	if len(j.Nodes) > 1 {
		s = fmt.Sprintf("nodes %s-%s", j.Nodes[0], j.Nodes[len(j.Nodes)-1])
	}
	if len(j.Branches) > 0 && j.Branches[0] != "" {
		s += ", branch " + j.Branches[0]
	}
	return s
}

// Labels are the nodes of element e of the job (e ignored unless an
// array).
func (j *Job) Labels(e int) []string {
	if j.Array {
		if e < 0 || e >= len(j.Elements) {
			return nil
		}
		return j.Elements[e]
	}
	return j.Nodes
}
