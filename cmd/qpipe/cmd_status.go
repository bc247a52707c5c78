package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/qpipe/qpipe/stdlib/run"
	"github.com/qpipe/qpipe/stdlib/run/slurm"
)

func init() {
	register(&command{
		Name:    "exec-node",
		Args:    "--spec DIR/slurm/run.json --job K",
		Summary: "run job K of a Slurm run on this node (the run's sbatch scripts call it; docs/slurm.md)",
		Flags:   execNodeFlags,
	})
	register(&command{
		Name:    "status",
		Args:    "[--wait] DIR",
		Summary: "where the Slurm jobs of the run into DIR are; once they are done, its merged report",
		Flags:   statusFlags,
	})
}

func execNodeFlags(fs *flag.FlagSet) func(*IO, []string) error {
	var specFile string
	var k int
	fs.StringVar(&specFile, "spec", "", "the run's `run.json` (DIR/slurm/run.json)")
	fs.IntVar(&k, "job", -1, "the job's index `K` in the run")
	return func(sys *IO, args []string) error {
		if specFile == "" || k < 0 || len(args) > 0 {
			return usagef("exec-node takes --spec FILE and --job K, and no arguments")
		}
		spec, err := slurm.ReadSpecFile(specFile)
		if err != nil {
			return failf(exitFailure, "%v", err)
		}
		e, err := slurm.ArrayElement(sys.Getenv)
		if err != nil {
			return failf(exitFailure, "%v", err)
		}
		l, err := loadSpecRecipe(sys, spec)
		if err != nil {
			return err
		}
		r, err := specRunner(sys, l, spec)
		if err != nil {
			return err
		}
		ctx, stop := interruptContext(context.Background(), sys.Stderr, os.Exit)
		defer stop()
		obs := run.NewProgress(sys.Stderr, false, len(r.Plan().Work())) // numbered as in the plan
		err = slurm.ExecNode(ctx, spec, r, k, e, obs)
		obs.Close()
		if err != nil {
			return failf(exitFailure, "%v", err)
		}
		return nil
	}
}

func statusFlags(fs *flag.FlagSet) func(*IO, []string) error {
	var wait bool
	fs.BoolVar(&wait, "wait", false, "follow the jobs until they end, as `qpipe run` does")
	return func(sys *IO, args []string) error {
		if len(args) != 1 {
			return usagef("status takes one output folder DIR")
		}
		return runStatus(sys, args[0], wait)
	}
}

// runStatus prints where a Slurm run's jobs are; when they have all
// ended, it merges their reports (report.json, report.html) and exits 1
// if one failed.
func runStatus(sys *IO, dir string, wait bool) error {
	spec, err := slurm.ReadSpec(dir)
	if err != nil {
		return failf(exitFailure, "%v", err)
	}
	l, err := loadSpecRecipe(sys, spec)
	if err != nil {
		return err
	}
	r, err := specRunner(sys, l, spec)
	if err != nil {
		return err
	}
	var units []*slurm.Unit
	if wait {
		if units, err = followInterruptibly(sys, spec); err != nil {
			return err
		}
	} else {
		units = spec.Units()
		if err := slurm.Poll(context.Background(), slurmCluster, spec, units); err != nil {
			return failf(exitFailure, "%v", err)
		}
		printStatus(sys.Stderr, spec, units)
	}
	for _, u := range units {
		if !u.Terminal() {
			fmt.Fprintf(sys.Stderr, "the run is not over; `qpipe status --wait %s` follows it to the end\n", dir)
			return nil
		}
	}
	return finishSlurm(sys, l, r, spec, units)
}

// printStatus is one line per job: its Slurm state, nodes finished and
// log.
func printStatus(w io.Writer, spec *slurm.Spec, units []*slurm.Unit) {
	fmt.Fprintf(w, "%s: submitted %s ago, %s (%s with array elements), %d of %d nodes to run\n", spec.Recipe,
		time.Since(spec.Submitted).Round(time.Second), plural(len(spec.IDs), "job"), plural(len(units), "unit"),
		spec.Graph.Nodes-spec.Graph.Stored, spec.Graph.Nodes)
	for _, u := range units {
		j := spec.Graph.Jobs[u.Job]
		done := 0
		if u.Part != nil {
			for _, s := range u.Part.Steps {
				if s.Status == run.StatusDone || s.Status == run.StatusCached {
					done++
				}
			}
		}
		st := u.State
		if u.Reason != "" && u.Reason != "None" && !u.Terminal() {
			st += " (" + u.Reason + ")"
		}
		fmt.Fprintf(w, "  job %-8s %-22s %d/%d nodes  %s  log %s\n", u.ID, st, done, len(j.Labels(u.Element)),
			j.DescribeUnit(u.Element), spec.LogPath(u.Job, u.Element))
	}
}
