package slurm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/qpipe/qpipe/stdlib/run"
)

// Unit is one job, or one element of an array job, as the cluster sees
// it.
type Unit struct {
	Job     int    // index in Graph.Jobs
	Element int    // array element, -1 for a plain job
	ID      string // Slurm id: "12" or "13_2"
	// State is Slurm's (PENDING, RUNNING, COMPLETED, FAILED, CANCELLED,
	// TIMEOUT, ...), or UNKNOWN when the cluster no longer knows the job
	// and it left no exit.json.
	State  string
	Reason string
	// Exit is what the job wrote when it ended on its own; nil if not.
	Exit *Exit
	// Part is the job's report so far; nil before its first node.
	Part *run.Report
}

// Terminal reports whether the unit will not change any more.
func (u *Unit) Terminal() bool {
	switch u.State {
	case "PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED", "RESIZING", "SUSPENDED", "STAGE_OUT", "SIGNALING", "REQUEUE_HOLD", "REQUEUE_FED", "":
		return false
	}
	return true
}

// OK reports whether the unit finished its nodes.
func (u *Unit) OK() bool { return u.State == "COMPLETED" && (u.Exit == nil || u.Exit.OK) }

// Units lists the run's jobs and array elements in submission order.
func (s *Spec) Units() []*Unit {
	var out []*Unit
	for k, j := range s.Graph.Jobs {
		if k >= len(s.IDs) {
			break
		}
		if !j.Array {
			out = append(out, &Unit{Job: k, Element: -1, ID: s.IDs[k]})
			continue
		}
		for _, e := range j.Indices {
			out = append(out, &Unit{Job: k, Element: e, ID: s.IDs[k] + "_" + strconv.Itoa(e)})
		}
	}
	return out
}

// Poll asks the cluster where every unit is: squeue for the jobs it
// still knows, then each job's exit.json, then sacct when the cluster
// keeps accounting.
func Poll(ctx context.Context, c Cluster, s *Spec, units []*Unit) error {
	if len(s.IDs) == 0 {
		return nil
	}
	out, err := c.Run(ctx, "squeue", "-h", "-r", "-t", "all", "-j", strings.Join(s.IDs, ","), "-o", "%i|%T|%r")
	if err != nil && !strings.Contains(err.Error(), "Invalid job id") {
		return err
	}
	states := parseSqueue(out)
	var missing []*Unit
	for _, u := range units {
		dir := PartDir(s.Out, u.Job, u.Element)
		u.Exit = readExit(dir)
		if r, err := run.ReadReport(dir); err == nil {
			u.Part = r
		}
		if st, ok := states[u.ID]; ok {
			u.State, u.Reason = st[0], st[1]
			continue
		}
		switch {
		case u.Exit != nil && u.Exit.OK:
			u.State = "COMPLETED"
		case u.Exit != nil:
			u.State = "FAILED"
		default:
			missing = append(missing, u)
		}
	}
	if len(missing) > 0 {
		fromSacct(ctx, c, missing)
	}
	return nil
}

// parseSqueue reads `squeue -h -r -o %i|%T|%r` lines into id -> state,
// reason.
func parseSqueue(out string) map[string][2]string {
	m := map[string][2]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) < 3 {
			continue
		}
		m[f[0]] = [2]string{f[1], f[2]}
	}
	return m
}

// fromSacct fills the states of jobs squeue forgot from accounting, where
// the cluster keeps it; otherwise they stay UNKNOWN.
func fromSacct(ctx context.Context, c Cluster, units []*Unit) {
	ids := make([]string, len(units))
	for i, u := range units {
		u.State = "UNKNOWN"
		ids[i] = u.ID
	}
	conf, err := c.Run(ctx, "scontrol", "show", "config")
	if err != nil || !HasAccounting(conf) {
		return
	}
	out, err := c.Run(ctx, "sacct", "-n", "-P", "-X", "-j", strings.Join(ids, ","), "-o", "JobID,State")
	if err != nil {
		return
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) < 2 {
			continue
		}
		for _, u := range units {
			if u.ID == f[0] {
				u.State = strings.Fields(f[1])[0] // "CANCELLED by 0"
			}
		}
	}
}

// HasAccounting reports whether `scontrol show config` names an
// accounting storage other than none.
func HasAccounting(config string) bool {
	for _, line := range strings.Split(config, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok && strings.TrimSpace(k) == "AccountingStorageType" {
			return !strings.Contains(v, "none")
		}
	}
	return false
}

// Follower follows a submitted run until its jobs end, printing what
// changes.
type Follower struct {
	C    Cluster
	Spec *Spec
	W    io.Writer
	// seen remembers printed states and finished nodes.
	states map[string]string
	nodes  map[string]bool
	done   int
}

// Follow polls until every unit is terminal or ctx ends (then it returns
// ctx's error and the units as last seen).
func (f *Follower) Follow(ctx context.Context) ([]*Unit, error) {
	units := f.Spec.Units()
	poll := f.Spec.Settings.Poll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	for {
		if err := Poll(ctx, f.C, f.Spec, units); err != nil {
			if ctx.Err() != nil {
				return units, ctx.Err()
			}
			return units, err
		}
		f.Print(units)
		if allTerminal(units) {
			return units, nil
		}
		select {
		case <-ctx.Done():
			return units, ctx.Err()
		case <-time.After(poll):
		}
	}
}

func allTerminal(units []*Unit) bool {
	for _, u := range units {
		if !u.Terminal() {
			return false
		}
	}
	return true
}

// Print writes the state changes and the nodes finished since the last
// call.
func (f *Follower) Print(units []*Unit) {
	if f.states == nil {
		f.states, f.nodes = map[string]string{}, map[string]bool{}
	}
	total := 0
	for _, u := range units {
		total += len(f.Spec.Graph.Jobs[u.Job].Labels(u.Element))
	}
	for _, u := range units {
		if u.Part != nil {
			for _, s := range u.Part.Steps {
				if s.Status == "" || f.nodes[s.Node] {
					continue
				}
				f.nodes[s.Node] = true
				f.done++
				fmt.Fprintf(f.W, "[%d/%d] %s line %d %s: %s (job %s, %.1f s)\n", f.done, total, s.Node, s.Line, s.Verb, s.Status, u.ID, s.Seconds)
			}
		}
		st := u.State
		if u.Reason != "" && u.Reason != "None" && !u.Terminal() {
			st += " (" + u.Reason + ")"
		}
		if f.states[u.ID] == st {
			continue
		}
		f.states[u.ID] = st
		fmt.Fprintf(f.W, "job %s %s: %s\n", u.ID, f.Spec.Graph.Jobs[u.Job].DescribeUnit(u.Element), st)
	}
}

// DescribeUnit names a unit's nodes: the job's, or the array element's.
func (j *Job) DescribeUnit(e int) string {
	if !j.Array {
		return j.Describe()
	}
	ns := j.Elements[e]
	s := "nodes " + ns[0] + "-" + ns[len(ns)-1]
	if len(ns) == 1 {
		s = "node " + ns[0]
	}
	return s + ", branch " + j.Branches[e]
}

// JobError is a job that did not finish its nodes.
type JobError struct {
	Unit *Unit
	Job  *Job
	Log  string
}

func (e *JobError) Error() string {
	what := fmt.Sprintf("job %s ended %s: %s", e.Unit.ID, e.Unit.State, e.Job.DescribeUnit(e.Unit.Element))
	switch {
	case e.Unit.Exit != nil && e.Unit.Exit.Error != "":
		what += "\n  error: " + e.Unit.Exit.Error
	case e.Unit.State == "CANCELLED":
		what += "\n  it was cancelled (scancel, or a preemption) before its nodes finished"
	case e.Unit.State == "TIMEOUT":
		what += "\n  it ran past its time limit: raise time in the executor block"
	case e.Unit.State == "OUT_OF_MEMORY":
		what += "\n  it ran out of memory: raise mem in the executor block"
	case e.Unit.State == "UNKNOWN":
		what += "\n  the cluster no longer knows the job and it left no exit.json: it was killed"
	}
	return what + "\n  Slurm log: " + e.Log
}

// Blocked reports whether the unit was cancelled because a job it depends
// on failed.
func (e *JobError) Blocked() bool { return strings.Contains(e.Unit.Reason, "Dependency") }

// Failed lists the units that did not finish, with their logs: first
// those that failed on their own, then those cancelled because a job
// they depend on failed.
func Failed(s *Spec, units []*Unit) []*JobError {
	var first, rest []*JobError
	for _, u := range units {
		if u.OK() {
			continue
		}
		e := &JobError{Unit: u, Job: s.Graph.Jobs[u.Job], Log: s.LogPath(u.Job, u.Element)}
		if e.Blocked() {
			rest = append(rest, e)
		} else {
			first = append(first, e)
		}
	}
	return append(first, rest...)
}

// Parts are the reports of the units that wrote one, in submission
// order.
func Parts(units []*Unit) []*run.Report {
	var out []*run.Report
	for _, u := range units {
		if u.Part != nil {
			out = append(out, u.Part)
		}
	}
	return out
}

// ErrDetached is returned when the user chose to leave the jobs running.
var ErrDetached = errors.New("detached: the jobs keep running")
