package slurm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/qpipe/qpipe/planner"
	"github.com/qpipe/qpipe/stdlib/run"
)

// PlanJobs cuts the run's plan into jobs, leaving out what the store
// holds.
func PlanJobs(p *planner.Plan, store *run.Store, s Settings) *Graph {
	stored := func(n *planner.Node) bool {
		if store == nil || !run.Reusable(n) {
			return false
		}
		e, err := store.Get(n.Key)
		return err == nil && e != nil
	}
	return Build(p, Options{PerNode: s.PerNode, Stored: stored})
}

// sbatchArgs are the options every job of the run is submitted with.
func (s Settings) sbatchArgs() []string {
	var a []string
	if s.Partition != "" {
		a = append(a, "--partition="+s.Partition)
	}
	if s.Account != "" {
		a = append(a, "--account="+s.Account)
	}
	if s.Time != "" {
		a = append(a, "--time="+s.Time)
	}
	if s.GPUs > 0 {
		a = append(a, "--gpus="+strconv.Itoa(s.GPUs))
	}
	if s.CPUs > 0 {
		a = append(a, "--cpus-per-task="+strconv.Itoa(s.CPUs))
	}
	if s.Mem != "" {
		a = append(a, "--mem="+s.Mem)
	}
	return append(a, s.ExtraArgs...)
}

// Preflight asks the cluster whether jobs with these settings would be
// accepted, before anything is submitted: the partition exists, and
// `sbatch --test-only` takes the options (account, time, memory, GPUs).
func Preflight(ctx context.Context, c Cluster, s Settings) error {
	if _, err := c.Run(ctx, "sinfo", "--version"); err != nil {
		return fmt.Errorf("no Slurm here: %v", err)
	}
	if s.Partition != "" {
		if _, err := c.Run(ctx, "scontrol", "show", "partition", s.Partition); err != nil {
			known, _ := c.Run(ctx, "sinfo", "-h", "-o", "%R")
			return fmt.Errorf("partition %q does not exist on this cluster (partitions: %s); fix `partition` in the executor block or --slurm-partition; nothing was submitted",
				s.Partition, strings.Join(strings.Fields(known), ", "))
		}
	}
	args := append([]string{"--test-only"}, s.sbatchArgs()...)
	args = append(args, "--wrap", "true")
	if _, err := c.Run(ctx, "sbatch", args...); err != nil {
		return fmt.Errorf("Slurm would refuse the jobs (sbatch --test-only %s): %v; nothing was submitted", strings.Join(s.sbatchArgs(), " "), err)
	}
	return nil
}

// Submit submits the jobs of spec.Graph in order, recording their ids in
// spec (written to DIR/slurm/run.json after every submission, so a run
// interrupted while submitting can still be cancelled). When a
// submission fails, the jobs already submitted are cancelled.
func Submit(ctx context.Context, c Cluster, spec *Spec) error {
	dir := filepath.Join(spec.Out, Folder)
	for _, sub := range []string{"jobs", "logs", "parts"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}
	spec.IDs, spec.Logs, spec.Submitted = nil, nil, time.Now()
	if err := WriteSpec(spec); err != nil {
		return err
	}
	for k, j := range spec.Graph.Jobs {
		id, log, err := submitJob(ctx, c, spec, k, j)
		if err != nil {
			cancelErr := Cancel(context.Background(), c, spec)
			if cancelErr != nil {
				err = fmt.Errorf("%w (and cancelling the jobs already submitted failed: %v)", err, cancelErr)
			}
			return fmt.Errorf("submitting job %s (%s): %w", j.Name, j.Describe(), err)
		}
		spec.IDs, spec.Logs = append(spec.IDs, id), append(spec.Logs, log)
		if err := WriteSpec(spec); err != nil {
			return err
		}
	}
	return nil
}

// submitJob writes job k's script and submits it.
func submitJob(ctx context.Context, c Cluster, spec *Spec, k int, j *Job) (id, log string, err error) {
	dir := filepath.Join(spec.Out, Folder)
	script := filepath.Join(dir, "jobs", unit(k, -1)+".sh")
	body := fmt.Sprintf("#!/bin/sh\n# qpipe job %s of %s: %s\nexec %s exec-node --spec %s --job %d\n",
		j.Name, spec.Recipe, j.Describe(), shellQuote(spec.Settings.Qpipe), shellQuote(SpecFile(spec.Out)), k)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		return "", "", err
	}
	log = filepath.Join(dir, "logs", unit(k, -1)+"-%j.out")
	if j.Array {
		log = filepath.Join(dir, "logs", unit(k, -1)+"_%a-%A.out")
	}
	args := []string{"--parsable", "--job-name=qpipe:" + jobLabel(spec.Recipe) + ":" + j.Name,
		"--output=" + log, "--chdir=" + spec.Workdir, "--kill-on-invalid-dep=yes"}
	if j.Array {
		args = append(args, "--array="+ArraySpec(j.Indices))
	}
	if d := spec.Graph.Deps(j, spec.IDs); d != "" {
		args = append(args, "--dependency="+d)
	}
	args = append(args, spec.Settings.sbatchArgs()...)
	args = append(args, script)
	out, err := c.Run(ctx, "sbatch", args...)
	if err != nil {
		return "", "", err
	}
	id = strings.TrimSpace(strings.SplitN(strings.TrimSpace(out), ";", 2)[0])
	if _, perr := strconv.Atoi(id); perr != nil {
		return "", "", fmt.Errorf("sbatch answered %q, not a job id", strings.TrimSpace(out))
	}
	return id, log, nil
}

// Cancel cancels every job of the run (scancel).
func Cancel(ctx context.Context, c Cluster, spec *Spec) error {
	if len(spec.IDs) == 0 {
		return nil
	}
	_, err := c.Run(ctx, "scancel", spec.IDs...)
	return err
}

func jobLabel(recipe string) string {
	return strings.TrimSuffix(filepath.Base(recipe), filepath.Ext(recipe))
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
