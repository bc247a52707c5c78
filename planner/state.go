package planner

import (
	"maps"

	"github.com/qpipe/qpipe/lang/check"
)

// state is the pipeline as the planner simulates it: which node last
// wrote each resource, the current dataset, the weights' precision and
// the names in scope.
type state struct {
	writers map[string]int
	data    string // resource of the current dataset, "" before one
	bits    int
	density float64 // fraction of prunable weights unpruned (sparsity.go)
	vars    scope
	// model and dataset names bound on the command line, "" if none.
	modelBinding, dataBinding string
	// model is the model as the branch holds it, nil when unknown;
	// last is its state after the previous step that touched it.
	model ModelInfo
	last  *ModelState
	// prev is the last work node of the branch, -1 before the first.
	prev int
}

func newState(lets map[string]check.Value, opts Options) *state {
	vars := scope{}
	maps.Copy(vars, lets)
	return &state{
		writers:      map[string]int{},
		bits:         32,
		prev:         -1,
		density:      1,
		vars:         vars,
		modelBinding: opts.Model,
		dataBinding:  opts.Data,
	}
}

// fork copies the state for a branch.
func (s *state) fork() *state {
	c := *s
	c.writers = maps.Clone(s.writers)
	c.vars = maps.Clone(s.vars)
	return &c
}

func (s *state) hasSnapshot(name string) bool {
	_, ok := s.writers[snapshotRes(name)]
	return ok
}

// dataName is the dataset a `data` step binds: the command line's, else
// the step's path word (`data imagefolder "dir/"`), else its first word
// or variant (`data mnist`).
func (s *state) dataName(step *check.Step) string {
	if s.dataBinding != "" {
		return s.dataBinding
	}
	if p := pathWord(step, s); p != "" {
		return p
	}
	if w := firstWord(s, step); w != "" {
		return w
	}
	return step.Variant
}

// firstWord is the name in a step's first word slot ("" when none).
func firstWord(s *state, step *check.Step) string {
	if names := wordNames(step, s); len(names) > 0 {
		return names[0]
	}
	return ""
}
