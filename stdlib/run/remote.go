package run

import (
	"fmt"
	"maps"

	"github.com/qpipe/qpipe/planner"
)

// Executing a plan elsewhere
//
// A cluster executor (stdlib/run/slurm) runs a plan as several jobs, each
// executing some of its nodes with a Local executor whose Select picks
// them; the nodes a job starts from are read from the shared step store,
// where the jobs before it left them. What it needs of this package is
// here: which nodes the store can stand in for, the Local executor of a
// run, and the merge of the jobs' reports into one.

// Reusable reports whether a node's stored result stands for executing it
// again: false for nodes that write files (export) or measure time
// (latency, throughput), which always execute.
func Reusable(n *planner.Node) bool { return reusable(n) }

// MissingError is a node a job starts from that is not in the step store.
type MissingError struct{ Node *planner.Node }

func (e *MissingError) Error() string {
	return fmt.Sprintf("node %s (line %d, %s) is not in the step store: the job that computes it did not finish; run again to compute it",
		e.Node.Label, e.Node.Line, e.Node.Verb)
}

// selectNodes prepares an execution of the nodes Local.Select picks: the
// nodes they start from come from the store (whatever their kind), and
// the state after the plan's last node is not wanted.
func (x *execution) selectNodes() error {
	x.last = -1
	x.need = make([]bool, len(x.work))
	need := x.need
	for i := len(x.work) - 1; i >= 0; i-- {
		if (x.selected(i) || need[i]) && x.pred[i] >= 0 {
			need[x.pred[i]] = true
		}
	}
	for i := range x.work {
		if !need[i] || x.selected(i) || x.store == nil {
			continue
		}
		e, err := x.store.Get(x.work[i].Key)
		if err != nil {
			x.warn(err)
			continue
		}
		if e == nil {
			return &MissingError{Node: x.work[i]}
		}
		x.cached[i] = e
	}
	return nil
}

// selected reports whether work node i executes in this execution.
func (x *execution) selected(i int) bool {
	return x.l.Select == nil || x.l.Select(x.work[i])
}

// Local is the Local executor of this run (its environment, jobs and
// store options), for executing some of its nodes (Local.Select).
func (r *Runner) Local() *Local {
	return &Local{Env: r.env, Jobs: r.opts.Jobs, NoCache: r.opts.NoCache, Recipe: r.opts.Path, Warn: r.opts.Warn}
}

// Store opens the run's step store.
func (r *Runner) Store() (*Store, error) { return r.openStore() }

// Render writes what Options.Render writes (report.html) for rep.
func (r *Runner) Render(rep *Report) {
	r.report = rep
	r.render()
}

// WriteManifestOf writes manifest.json for rep into the run's folder.
func (r *Runner) WriteManifestOf(rep *Report) error {
	r.report = rep
	return WriteManifest(r.opts.OutDir, r.Manifest())
}

// Merge builds the run's report from the reports of the jobs that
// executed parts of its plan: each node's entry comes from the job that
// reported it last (parts in submission order), else from the step store
// (status cached), else it is skipped. The headline figures are those of
// the last top-level node.
func Merge(p *planner.Plan, store *Store, base Report, parts []*Report) *Report {
	byIndex := map[int]StepReport{}
	finals := map[int]Final{}
	for _, part := range parts {
		for _, s := range part.Steps {
			if s.Status == "" || (s.Status == StatusSkipped && byIndex[s.Index].Status != "") {
				continue
			}
			byIndex[s.Index] = s
		}
		if len(part.Steps) > 0 {
			finals[lastDone(part)] = part.Final
		}
	}
	x := &execution{p: p}
	out := base
	out.Steps = []StepReport{}
	out.Final = Final{}
	for _, n := range p.Work() {
		s, ok := byIndex[n.Index]
		var stored *Entry
		if store != nil && (!ok || !x.inBranch(n)) {
			stored, _ = store.Get(n.Key)
		}
		switch {
		case ok:
		case stored != nil:
			s = x.entry(n)
			s.Status, s.Summary, s.Checkpoint, s.Series = StatusCached, stored.Summary, store.Path(stored.Key), stored.Series
			maps.Copy(s.Metrics, stored.Metrics)
		default:
			s = x.entry(n)
			s.Status = StatusSkipped
		}
		out.Steps = append(out.Steps, s)
		if x.inBranch(n) {
			continue
		}
		if f, has := finals[n.Index]; ok && has {
			out.Final = f
		} else if stored != nil {
			out.Final = finalOf(orEmpty(stored.State.Reported))
		}
	}
	return &out
}

// lastDone is the index of the last node a job finished: its report's
// headline figures are that node's when it is a top-level node.
func lastDone(r *Report) int {
	last := -1
	for _, s := range r.Steps {
		if s.Status == StatusDone || s.Status == StatusCached {
			last = max(last, s.Index)
		}
	}
	return last
}
