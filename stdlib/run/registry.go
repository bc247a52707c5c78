package run

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
)

// Verb is how a verb executes. Run performs one checked step on the state;
// Unsupported, when set, names a part of a step this build cannot execute
// yet (a word or variant) and where it is written, so the runner refuses
// the recipe before anything runs.
type Verb struct {
	Run         func(ctx context.Context, env *Env, st *State, step *check.Step) (*Outcome, error)
	Unsupported func(step *check.Step) (what string, at source.Span, ok bool)
	// Prepare, when set, validates a step against the run's options before
	// anything runs (export paths inside the output directory).
	Prepare func(env *Env, step *check.Step) error
	// Version names the version of Run's code; change it when a change
	// makes the results the step store kept for the verb wrong.
	Version string
	// Remeasure, when set, re-measures only the nondeterministic metrics
	// (latency, throughput) of a step whose result the step store holds:
	// st is the stored state after the step, and Remeasure records the
	// new values in it and returns them. Without it such a step runs in
	// full on every run.
	Remeasure func(ctx context.Context, env *Env, st *State, step *check.Step) (*Outcome, error)
}

// Outcome is what one executed step reports.
type Outcome struct {
	// Summary is one line saying what happened.
	Summary string
	// Metrics are the measured values under report.json's names.
	Metrics map[string]float64
	// Series, when set, are the step's curves and tables for report.html
	// (series.go).
	Series *Series
}

// Env is what a verb may use besides the state: the backend, the run's
// options and a progress callback.
type Env struct {
	Backend ops.Backend
	Device  string
	// Seed is the run seed; StepSeed derives each step's.
	Seed uint64
	// Index is the executed step's index in the run (report order).
	Index int
	// IndexBase is added to each node's Index (a REPL session counts its
	// steps across inputs).
	IndexBase int
	// OutDir receives exports; RecipeDir anchors the recipe's input paths.
	OutDir, RecipeDir string
	// Data are the base options every dataset opens with (cache, offline).
	Data data.Options
	// Model and DataBind override the recipe's model and data lines.
	Model    string
	DataBind *DataSpec
	// Tick reports progress of a long step; never nil.
	Tick func(Tick)
	// Scope holds the lets and loop variables in scope at the step.
	Scope map[string]check.Value
	// Source is the recipe text, for quoting expressions in messages.
	Source *source.File
}

// StepSeed is the seed of the current step: the run seed mixed with the
// step's index, so every step draws its own stream and a resumed run draws
// the same ones.
func (e *Env) StepSeed() uint64 {
	z := e.Seed + 0x9e3779b97f4a7c15*uint64(e.Index+1)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// InputPath resolves a path the recipe reads (model files, dataset
// folders) against the recipe's directory.
func (e *Env) InputPath(p string) string {
	if filepath.IsAbs(p) || e.RecipeDir == "" {
		return p
	}
	return filepath.Join(e.RecipeDir, p)
}

// verbs is the verb table; each verb_*.go file adds its entries from init,
// before main runs, and nothing changes it afterwards.
var verbs = map[string]Verb{}

// Register adds the implementation of a verb. It is meant to be called
// from init functions; registering a verb twice panics.
func Register(verb string, impl Verb) {
	if _, dup := verbs[verb]; dup {
		panic("run: verb " + verb + " registered twice")
	}
	if impl.Run == nil {
		panic("run: verb " + verb + " has no Run")
	}
	verbs[verb] = impl
}

// Executable lists the verbs this build can run, sorted.
func Executable() []string {
	out := make([]string, 0, len(verbs))
	for v := range verbs {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// lookup finds a verb's implementation.
func lookup(verb string) (Verb, bool) {
	v, ok := verbs[verb]
	return v, ok
}

// NotExecutableError is a step this build checks but cannot run.
type NotExecutableError struct {
	What string
	Span source.Span
}

func (e *NotExecutableError) Error() string {
	return fmt.Sprintf("%s: %q is not yet executable", e.Span, e.What)
}
