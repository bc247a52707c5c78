package main

import (
	"bufio"
	"context"
	"fmt"
	"github.com/qpipe/qpipe/planner"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/project"
	"github.com/qpipe/qpipe/stdlib/run"
	"github.com/qpipe/qpipe/stdlib/run/htmlreport"
	"github.com/qpipe/qpipe/stdlib/run/slurm"
)

// Running on Slurm (docs/slurm.md): `qpipe run --executor slurm` cuts the
// plan into sbatch jobs (stdlib/run/slurm), each running `qpipe
// exec-node` on a compute node; the submitter follows them and merges
// their reports. `qpipe status DIR` reads back a detached run.

// slurmCluster is the cluster the commands talk to; tests replace it.
var slurmCluster slurm.Cluster = slurm.Commands{}

// executorFor picks the run's executor: --executor, else the executor
// block of the project file (the run's, or ./qpipe.hcl beside a recipe
// when it exists), else local. It returns the Slurm settings too.
func executorFor(sys *IO, o *runOptions, j *job) (string, slurm.Settings, error) {
	name := o.executor
	ex := j.executor
	if ex == nil && o.executor != "local" && strings.HasSuffix(j.recipe, ".qpipe") && j.recipe != "" && !o.set["manifest"] {
		if _, err := os.Stat(o.projectFile); err == nil {
			p, ds := project.Load(o.projectFile)
			if ds.HasErrors() {
				printProjectDiagnostics(sys, p, ds)
				return "", slurm.Settings{}, failf(exitFailure, "%s in %s; nothing run", tally(ds), o.projectFile)
			}
			ex = p.Executors["slurm"]
		}
	}
	if name == "" {
		name = "local"
		if ex != nil {
			name = ex.Name
		}
	}
	if err := oneOf("executor", name, project.Executors...); err != nil {
		return "", slurm.Settings{}, err
	}
	if name == "local" && (o.detach || o.dryRun || o.perNode) {
		return "", slurm.Settings{}, usagef("--detach, --dry-run and --per-node are about Slurm jobs; they need --executor slurm")
	}
	var s slurm.Settings
	if ex != nil && ex.Name == "slurm" {
		s = slurm.Settings{Partition: ex.Partition, Account: ex.Account, Time: ex.Time, GPUs: ex.GPUs, CPUs: ex.CPUs,
			Mem: ex.Mem, ExtraArgs: ex.ExtraArgs, PerNode: ex.PerNode, Qpipe: ex.Qpipe, Poll: ex.Poll}
	}
	if o.perNode {
		s.PerNode = true
	}
	return name, s, nil
}

func printProjectDiagnostics(sys *IO, p *project.Project, ds diag.Diagnostics) {
	files := diag.FileMap{}
	if p != nil && p.Source != nil {
		files[p.Source.Name] = p.Source
	}
	diag.NewPrinter(sys.Stderr, files).Fprint(sys.Stderr, ds)
}

// runSlurm submits a checked recipe's plan to Slurm and, unless
// --detach, follows its jobs to the end.
func runSlurm(sys *IO, l *loaded, j *job, o *runOptions, s slurm.Settings) error {
	ctx := context.Background()
	spec, err := newSpec(l, j, s)
	if err != nil {
		return err
	}
	r, err := specRunner(sys, l, spec)
	if err != nil {
		return err
	}
	files := diag.FileMap{l.src.Name: l.src}
	if ds := r.Preflight(); ds.HasErrors() {
		return runFailure(sys, files, j, ds)
	}
	store, err := r.Store()
	if err != nil {
		return failf(exitFailure, "%v", err)
	}
	spec.Keys = slurm.Keys(r.Plan())
	spec.Graph = slurm.PlanJobs(r.Plan(), store, s)
	if o.dryRun {
		printDryRun(sys.Stdout, spec)
		return nil
	}
	if err := checkOutDir(j.out); err != nil {
		return failf(exitFailure, "%v", err)
	}
	if err := refuseActive(ctx, spec.Out); err != nil {
		return err
	}
	if err := slurm.Preflight(ctx, slurmCluster, s); err != nil {
		return failf(exitFailure, "%v", err)
	}
	os.RemoveAll(filepath.Join(spec.Out, slurm.Folder, "parts"))
	if len(spec.Graph.Jobs) == 0 {
		fmt.Fprintf(sys.Stderr, "all %d nodes of %s are in the step store; nothing to submit\n", spec.Graph.Nodes, j.recipe)
		if err := slurm.WriteSpec(spec); err != nil {
			return failf(exitFailure, "%v", err)
		}
		return finishSlurm(sys, l, r, spec, nil)
	}
	if err := slurm.Submit(ctx, slurmCluster, spec); err != nil {
		return failf(exitFailure, "%v; nothing is left running", err)
	}
	printJobs(sys.Stderr, spec)
	if strings.Contains(spec.Settings.Qpipe, string(filepath.Separator)+"go-build") {
		fmt.Fprintf(sys.Stderr, "note: the jobs run %s, a temporary build of `go run` that is removed when this qpipe exits; "+
			"for runs that outlive it, build qpipe (`go build -o ~/bin/qpipe ./cmd/qpipe`) or set qpipe in the executor block\n", spec.Settings.Qpipe)
	}
	if o.detach {
		fmt.Fprintf(sys.Stderr, "detached: the jobs run on; `qpipe status %s` says where they are and writes the report when they are done; `scancel %s` cancels them\n",
			j.out, strings.Join(spec.IDs, " "))
		return nil
	}
	units, err := followInterruptibly(sys, spec)
	if err != nil {
		return err
	}
	return finishSlurm(sys, l, r, spec, units)
}

// newSpec describes the run for its jobs (absolute folders, the binary).
func newSpec(l *loaded, j *job, s slurm.Settings) (*slurm.Spec, error) {
	out, err := filepath.Abs(j.out)
	if err != nil {
		return nil, err
	}
	storeDir, err := run.DefaultStoreDir()
	if err != nil {
		return nil, failf(exitFailure, "%v", err)
	}
	storeDir, _ = filepath.Abs(storeDir)
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	if s.Qpipe == "" {
		if s.Qpipe, err = os.Executable(); err != nil {
			return nil, failf(exitFailure, "cannot tell the path of this qpipe binary (%v); set qpipe = \"/path/to/qpipe\" in the executor block", err)
		}
	}
	return &slurm.Spec{Recipe: j.recipe, Text: string(l.src.Text), Sets: j.sets, Seed: j.seed, Device: j.device,
		Model: j.model, Data: j.data, Out: out, Store: storeDir, Workdir: wd, Settings: s}, nil
}

// specRunner plans the spec's recipe as the jobs do.
func specRunner(sys *IO, l *loaded, spec *slurm.Spec) (*run.Runner, error) {
	store, err := run.OpenStore(spec.Store)
	if err != nil {
		return nil, failf(exitFailure, "%v", err)
	}
	var r *run.Runner
	plan := func() *planner.Plan { return r.Plan() }
	r, err = run.New(run.Options{Recipe: l.recipe, Path: spec.Recipe, Device: spec.Device, Seed: spec.Seed, OutDir: spec.Out,
		Model: spec.Model, Data: spec.Data, Sets: spec.Sets, Store: store,
		Warn: func(s string) { fmt.Fprintf(sys.Stderr, "note: %s\n", s) }, Render: pageWriter(sys, l, plan)})
	if err != nil {
		return nil, failf(exitFailure, "%v", err)
	}
	return r, nil
}

// loadSpecRecipe checks the recipe text a spec holds.
func loadSpecRecipe(sys *IO, spec *slurm.Spec) (*loaded, error) {
	j := &job{recipe: spec.Recipe, model: spec.Model, data: spec.Data, sets: spec.Sets}
	opts := j.checkOptions(true)
	l := loadText(spec.Recipe, []byte(spec.Text), opts)
	if l.ds.HasErrors() {
		printDiagnostics(sys.Stderr, []*loaded{l})
		return nil, failf(exitFailure, "%s in the recipe of %s", tally(l.ds), slurm.SpecFile(spec.Out))
	}
	return l, nil
}

// refuseActive stops a second submission into a folder whose jobs still
// run.
func refuseActive(ctx context.Context, out string) error {
	spec, err := slurm.ReadSpec(out)
	if err != nil || len(spec.IDs) == 0 {
		return nil
	}
	units := spec.Units()
	if err := slurm.Poll(ctx, slurmCluster, spec, units); err != nil {
		return nil
	}
	for _, u := range units {
		if !u.Terminal() {
			return failf(exitFailure, "jobs of an earlier run into %s are still %s (job %s); wait for them (`qpipe status %s`) or cancel them (`scancel %s`)",
				out, strings.ToLower(u.State), u.ID, out, strings.Join(spec.IDs, " "))
		}
	}
	return nil
}

// printJobs lists the submitted jobs and their dependencies.
func printJobs(w io.Writer, spec *slurm.Spec) {
	g := spec.Graph
	fmt.Fprintf(w, "submitted %s of %s to Slurm: %d of %d nodes to run (%d in the step store), output in %s\n",
		plural(len(g.Jobs), "job"), spec.Recipe, g.Nodes-g.Stored, g.Nodes, g.Stored, spec.Out)
	for k, j := range g.Jobs {
		what := j.Describe()
		if j.Array {
			what += ", --array=" + slurm.ArraySpec(j.Indices)
		}
		if d := g.Deps(j, spec.IDs); d != "" {
			what += ", --dependency=" + d
		}
		fmt.Fprintf(w, "  job %s %s: %s\n", spec.IDs[k], j.Name, what)
	}
}

// printDryRun lists the jobs a run would submit, their nodes and what
// they wait for, by job name.
func printDryRun(w io.Writer, spec *slurm.Spec) {
	g := spec.Graph
	fmt.Fprintf(w, "%s would be submitted for %s: %d of %d nodes to run (%d in the step store)\n",
		plural(len(g.Jobs), "job"), spec.Recipe, g.Nodes-g.Stored, g.Nodes, g.Stored)
	for _, j := range g.Jobs {
		what := j.Describe()
		if j.Array {
			what += ", --array=" + slurm.ArraySpec(j.Indices)
		}
		var after []string
		for _, d := range j.After {
			a := g.Jobs[d.Job].Name
			if d.Element >= 0 {
				a += fmt.Sprintf(" element %d", d.Element)
			}
			after = append(after, a)
		}
		if len(after) > 0 {
			what += ", after " + strings.Join(after, ", ")
		}
		fmt.Fprintf(w, "  %-8s %s\n", j.Name, what)
	}
}

// followInterruptibly follows the jobs; Ctrl-C asks whether to cancel
// them (yes: scancel; no: leave them running, detached).
func followInterruptibly(sys *IO, spec *slurm.Spec) ([]*slurm.Unit, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-ctx.Done():
		}
	}()
	f := &slurm.Follower{C: slurmCluster, Spec: spec, W: sys.Stderr}
	units, err := f.Follow(ctx)
	if err == nil {
		return units, nil
	}
	if ctx.Err() == nil {
		return nil, failf(exitFailure, "following the jobs: %v; they run on: `qpipe status %s`", err, spec.Out)
	}
	fmt.Fprintf(sys.Stderr, "\ninterrupted: cancel the run's %s (scancel %s)? [y/N] ", plural(len(spec.IDs), "job"), strings.Join(spec.IDs, " "))
	answer := make(chan string, 1)
	go func() {
		line, err := bufio.NewReader(sys.Stdin).ReadString('\n')
		if err != nil && line == "" {
			line = "eof"
		}
		answer <- strings.TrimSpace(strings.ToLower(line))
	}()
	var a string
	select {
	case a = <-answer:
	case <-sigs:
		a = "n"
	}
	if a == "y" || a == "yes" || a == "eof" {
		if err := slurm.Cancel(context.Background(), slurmCluster, spec); err != nil {
			return nil, failf(exitFailure, "scancel failed: %v", err)
		}
		return nil, failf(exitInterrupted, "cancelled %s; finished nodes are in the step store, so running again resubmits only the rest", plural(len(spec.IDs), "job"))
	}
	return nil, failf(exitInterrupted, "the jobs run on: `qpipe status %s` says where they are and writes the report when they are done", spec.Out)
}

// printJobFailure says why a job did not finish: a failed step at its
// recipe line with a caret, as a local run prints it, then the job and
// its Slurm log.
func printJobFailure(w io.Writer, l *loaded, r *run.Runner, f *slurm.JobError) {
	x := f.Unit.Exit
	if x == nil || x.Cause == "" {
		fmt.Fprintf(w, "%v\n", f)
		return
	}
	for _, n := range r.Plan().Work() {
		if n.Label == x.Node && n.Step != nil {
			d := diag.Errorf(n.Step.Span, fmt.Sprintf("%s failed: %s", n.Step.Verb, x.Cause))
			diag.NewPrinter(w, diag.FileMap{l.src.Name: l.src}).Fprint(w, diag.Diagnostics{d})
		}
	}
	fmt.Fprintf(w, "job %s ended %s: %s%s\n  Slurm log: %s\n", f.Unit.ID, f.Unit.State, f.Job.DescribeUnit(f.Unit.Element), onHost(x.Host), f.Log)
}

func onHost(h string) string {
	if h == "" {
		return ""
	}
	return ", on " + h
}

// finishSlurm merges the jobs' reports into report.json, report.html and
// manifest.json, prints the summary, and says which job failed and where
// its log is.
func finishSlurm(sys *IO, l *loaded, r *run.Runner, spec *slurm.Spec, units []*slurm.Unit) error {
	store, err := r.Store()
	if err != nil {
		return failf(exitFailure, "%v", err)
	}
	base := run.Report{Recipe: spec.Recipe, Device: spec.Device, Seed: spec.Seed}
	rep := run.Merge(r.Plan(), store, base, slurm.Parts(units))
	if err := run.WriteReport(spec.Out, rep); err != nil {
		return failf(exitFailure, "%v", err)
	}
	r.Render(rep)
	if err := r.WriteManifestOf(rep); err != nil {
		return failf(exitFailure, "%v", err)
	}
	run.WriteSummary(sys.Stdout, rep)
	fmt.Fprintln(sys.Stdout, pageLink(filepath.Join(spec.Out, htmlreport.File)))
	failed := slurm.Failed(spec, units)
	if len(failed) == 0 {
		fmt.Fprintf(sys.Stderr, "report: %s\n", filepath.Join(spec.Out, run.ReportFile))
		return nil
	}
	var blocked []string
	for _, f := range failed {
		if f.Blocked() {
			blocked = append(blocked, f.Unit.ID)
			continue
		}
		printJobFailure(sys.Stderr, l, r, f)
	}
	if len(blocked) > 0 {
		fmt.Fprintf(sys.Stderr, "%s that depended on it were cancelled by Slurm: %s\n", plural(len(blocked), "job"), strings.Join(blocked, ", "))
	}
	return failf(exitFailure, "%s of %d did not finish; report in %s; finished nodes are in the step store, so running again resubmits only the rest",
		plural(len(failed), "job"), len(units), filepath.Join(spec.Out, run.ReportFile))
}
