package slurm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/qpipe/qpipe/planner"
	"github.com/qpipe/qpipe/stdlib/run"
)

// ArrayElement is the array element a job runs: $SLURM_ARRAY_TASK_ID,
// -1 outside an array.
func ArrayElement(getenv func(string) string) (int, error) {
	v := getenv("SLURM_ARRAY_TASK_ID")
	if v == "" {
		return -1, nil
	}
	e, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("SLURM_ARRAY_TASK_ID=%q is not an array index", v)
	}
	return e, nil
}

// ExecNode executes job k (element e) of a submitted run on this machine
// with the run's Local executor r (planned from spec's recipe text): the
// job's nodes only, from the states the store holds, writing its report
// and exit.json to its part folder. obs also sees the nodes (progress in
// the job's log).
func ExecNode(ctx context.Context, spec *Spec, r *run.Runner, k, e int, obs run.Observer) error {
	if k < 0 || k >= len(spec.Graph.Jobs) {
		return fmt.Errorf("the run has no job %d (it has %d)", k, len(spec.Graph.Jobs))
	}
	j := spec.Graph.Jobs[k]
	if j.Array != (e >= 0) || (j.Array && !contains(j.Indices, e)) {
		return fmt.Errorf("job %s: array element %d does not exist", j.Name, e)
	}
	dir := PartDir(spec.Out, k, e)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	os.Remove(dir + "/exit.json")
	err := execNodes(ctx, spec, r, j.Labels(e), dir, obs)
	host, _ := os.Hostname()
	x := &Exit{OK: err == nil, Host: host}
	if err != nil {
		x.Error = err.Error()
		var me *run.MissingError
		var se *run.StepError
		switch {
		case errors.As(err, &me):
			x.Node = me.Node.Label
		case errors.As(err, &se):
			x.Node, x.Cause = failedNode(r.Plan(), se), se.Err.Error()
		}
	}
	if werr := writeExit(dir, x); werr != nil && err == nil {
		err = werr
	}
	return err
}

func execNodes(ctx context.Context, spec *Spec, r *run.Runner, labels []string, dir string, obs run.Observer) error {
	want := map[string]bool{}
	for _, l := range labels {
		want[l] = true
	}
	for _, n := range r.Plan().Work() {
		if want[n.Label] && spec.Keys[n.Label] != n.Key {
			return fmt.Errorf("node %s (line %d) plans differently on this machine than where the run was submitted (key %s, not %s): "+
				"use the same qpipe version and the same input files on every node", n.Label, n.Line, n.Key, spec.Keys[n.Label])
		}
	}
	store, err := r.Store()
	if err != nil {
		return err
	}
	rw := &run.ReportWriter{Dir: dir, Report: &run.Report{Recipe: spec.Recipe, Device: spec.Device, Seed: spec.Seed, Steps: []run.StepReport{}}}
	l := r.Local()
	l.Select = func(n *planner.Node) bool { return want[n.Label] }
	obsv := run.Observers{rw}
	if obs != nil {
		obsv = append(obsv, obs)
	}
	err = l.Execute(ctx, r.Plan(), store, obsv)
	if err == nil && rw.Err != nil {
		err = rw.Err
	}
	return err
}

// failedNode finds the label of the node a step error names.
func failedNode(p *planner.Plan, se *run.StepError) string {
	for _, n := range p.Work() {
		if n.Step == se.Step {
			return n.Label
		}
	}
	return ""
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// Keys records the chained key of every work node, by label.
func Keys(p *planner.Plan) map[string]string {
	m := map[string]string{}
	for _, n := range p.Work() {
		m[n.Label] = n.Key
	}
	return m
}
