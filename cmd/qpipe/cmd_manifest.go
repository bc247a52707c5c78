package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/qpipe/qpipe/planner"
	"github.com/qpipe/qpipe/stdlib/run"
)

// runManifest re-runs the plan a manifest.json records: its recipe text,
// --set values, seed, bindings and backend, with every node executed (the
// step store would only hand back the same numbers), then says where the
// new results differ from the manifest's.
func runManifest(sys *IO, o *runOptions, args []string) error {
	if len(args) > 0 {
		return usagef("run --manifest takes no FILE or RUN: the manifest holds the recipe")
	}
	m, err := run.ReadManifest(o.manifest)
	if err != nil {
		return failf(exitFailure, "%v", unwrapPath(err))
	}
	j := manifestJob(o, m)
	if err := checkDevice(j.device); err != nil {
		return err
	}
	l := loadText(j.recipe, []byte(m.RecipeText), j.checkOptions(true))
	printDiagnostics(sys.Stderr, []*loaded{l})
	if l.ds.HasErrors() {
		return failf(exitFailure, "%s in the recipe of %s; nothing run", tally(l.ds), o.manifest)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ro := *o
	ro.noCache, ro.resume, ro.jobs = true, false, max(o.jobs, 1)
	r, err := execute(ctx, sys, l, j, &ro)
	if err != nil || r == nil {
		return err
	}
	return compareManifest(sys, o.manifest, m, r.Manifest())
}

// manifestJob is the job a manifest records, with --out, --device and
// --jobs from the command line.
func manifestJob(o *runOptions, m *run.Manifest) *job {
	j := &job{recipe: m.Recipe, seed: m.Seed, device: m.Build.Backend, sets: m.Sets, out: o.out}
	if m.Model.From == planner.FromCommand {
		j.model = m.Model.Name
	}
	if m.DataSpec != nil {
		j.data = m.DataSpec
	}
	if o.device != "" || j.device == "" {
		j.device = chooseDevice(o.device, os.Getenv)
	}
	if j.out == "" {
		j.out = filepath.Join(filepath.Dir(o.manifest), "rerun")
	}
	return j
}

func compareManifest(sys *IO, file string, m, again *run.Manifest) error {
	diffs := m.Differences(again)
	for _, d := range diffs {
		fmt.Fprintln(sys.Stderr, d)
	}
	if len(diffs) > 0 {
		return failf(exitFailure, "the re-run differs from %s in %d places (above)", file, len(diffs))
	}
	fmt.Fprintf(sys.Stderr, "the re-run reproduces %s: %d nodes, the same keys and metrics (latency and throughput are not compared)\n", file, len(again.Plan))
	return nil
}
