package planner

import (
	"github.com/qpipe/qpipe/lang/check"
)

// bind records where the model and the dataset come from. A name given
// on the command line wins over the recipe's statement; when the recipe
// has no such statement, a node for the binding opens the plan so the
// dataflow has a writer for "model", "snapshot:original" and the dataset.
func (b *builder) bind(steps []*check.Step, st *state) {
	modelStep := findLoader(steps, loadsModel)
	dataStep := findLoader(steps, loadsData)
	b.plan.Model = binding(modelStep, b.opts.Model, firstWord, st)
	b.plan.Data = binding(dataStep, b.opts.Data, (*state).dataName, st)
	b.resolve(modelStep, dataStep)
	if b.opts.Model != "" && modelStep == nil {
		b.synthetic("model", b.opts.Model, []string{ResModel, snapshotRes("original")}, st)
	}
	if b.opts.Data != "" && dataStep == nil {
		b.synthetic("data", b.opts.Data, []string{dataRes(b.opts.Data)}, st)
		st.data = dataRes(b.opts.Data)
	}
}

func binding(s *check.Step, flag string, name func(*state, *check.Step) string, st *state) Binding {
	if flag != "" {
		return Binding{Name: flag, From: FromCommand}
	}
	if s != nil {
		return Binding{Name: name(st, s), From: FromRecipe}
	}
	return Binding{}
}

// synthetic adds a node for a binding made on the command line only.
func (b *builder) synthetic(verb, name string, writes []string, st *state) {
	n := &Node{Kind: KindStep, Verb: verb, Text: verb + " " + name, Writes: writes,
		Note: "bound by --" + verb}
	// At most two nodes exist here, far below any size bound.
	_ = b.add(n, nil)
	b.chain(n, nil, st)
	b.flow(n, st)
	if verb == "model" {
		st.model = b.model
		n.Model = b.modelState(n, st)
	}
}

// overrideNote tells the reader that the command line replaced this
// statement's binding.
func (b *builder) overrideNote(s *check.Step) string {
	switch {
	case loadsModel(s) && b.opts.Model != "":
		return "overridden by --model " + b.opts.Model
	case loadsData(s) && b.opts.Data != "":
		return "overridden by --data " + b.opts.Data
	}
	return ""
}

func loadsModel(s *check.Step) bool { return s.Sig != nil && s.Sig.Effects.LoadsModel }
func loadsData(s *check.Step) bool  { return s.Sig != nil && s.Sig.Effects.LoadsData }

// findLoader returns the first top-level command that loads, or nil.
func findLoader(steps []*check.Step, loads func(*check.Step) bool) *check.Step {
	for _, s := range steps {
		if s.Kind == check.KCommand && loads(s) {
			return s
		}
	}
	return nil
}
