// Package assisttest is a small, fixed vocabulary for the tests of the REPL,
// completion and the language server, so they pin behaviour without
// depending on the wording of the standard library's documentation.
package assisttest

import (
	"sort"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
)

// Env is a check.Env over a few signatures shaped like the real ones.
type Env map[string]*check.Signature

// Lookup returns a verb's signature.
func (e Env) Lookup(verb string) (*check.Signature, bool) {
	s, ok := e[verb]
	return s, ok
}

// Verbs lists the verbs in order.
func (e Env) Verbs() []string {
	out := make([]string, 0, len(e))
	for k := range e {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func f(x float64) *float64 { return &x }

var activations = []string{"gelu", "relu", "silu"}

// New returns the fixture vocabulary.
func New() Env {
	sigs := []*check.Signature{
		{Verb: "model", Summary: "load a model", Effects: check.Effects{LoadsModel: true},
			Slots: []check.Param{{Name: "source", Type: check.TNameOrPath, Values: []string{"swin-micro", "lenet"}, Doc: "built-in name or file"}}},
		{Verb: "data", Summary: "load a dataset", Effects: check.Effects{LoadsData: true},
			Slots: []check.Param{{Name: "source", Type: check.TNameOrPath, Values: []string{"mnist", "fashion-mnist"}}}},
		{Verb: "snapshot", Summary: "name the current model state", Effects: check.Effects{NeedsModel: true},
			Slots: []check.Param{{Name: "name", Type: check.TName, Doc: "the new snapshot's name"}},
			Rules: defineSnapshot},
		{Verb: "replace", Summary: "swap one activation for another", Effects: check.Effects{NeedsModel: true, ChangesModel: true},
			Slots: []check.Param{
				{Name: "from", Type: check.TEnum, Values: activations, Noun: "activation"},
				{Name: "with", Type: check.TKeyword, Values: []string{"with"}},
				{Name: "to", Type: check.TEnum, Values: activations, Noun: "activation"}}},
		{Verb: "distill", Summary: "train against a teacher", Doc: "Knowledge distillation from a snapshot.",
			Effects: check.Effects{NeedsModel: true, NeedsData: true, ChangesModel: true, Trains: true},
			Params: []check.Param{
				{Name: "from", Type: check.TSnapshot, Required: true, Doc: "the teacher snapshot"},
				{Name: "iterations", Type: check.TInt, Min: f(1), Max: f(100), Default: 1, Unit: "rounds", Doc: "distillation rounds"},
				{Name: "temperature", Type: check.TFloat, Min: f(0), MinOpen: true, Default: 4.0, Doc: "softmax temperature"}}},
		{Verb: "quantize", Summary: "lower weight precision", DefaultVariant: "uniform",
			Effects: check.Effects{NeedsModel: true, ChangesModel: true},
			Params:  []check.Param{{Name: "weights", Type: check.TEnum, Values: []string{"per_channel", "per_tensor"}, Default: "per_channel", Doc: "weight granularity"}},
			Variants: []check.Variant{
				{Name: "uniform", Doc: "uniform integer grid", Params: []check.Param{{Name: "bits", Type: check.TInt, Min: f(1), Max: f(8), Default: 8, Unit: "bits", Doc: "bit width"}}},
				{Name: "log2", Doc: "powers-of-two grid", Params: []check.Param{{Name: "bits", Type: check.TInt, Min: f(2), Max: f(8), Default: 3, Unit: "bits", Doc: "bit width"}}}}},
		{Verb: "evaluate", Summary: "measure the model", Effects: check.Effects{NeedsModel: true},
			Slots:   []check.Param{{Name: "metrics", Type: check.TEnum, Values: []string{"accuracy", "latency"}, Repeated: true, Noun: "metric"}},
			Metrics: []check.Metric{{Name: "accuracy", Type: check.TFraction, When: "accuracy"}, {Name: "latency", Type: check.TDuration, When: "latency"}}},
	}
	env := Env{}
	for _, s := range sigs {
		env[s.Verb] = s
	}
	return env
}

// defineSnapshot is the snapshot verb's rule.
func defineSnapshot(st *check.State, step *check.Step) diag.Diagnostics {
	name := step.Words["name"].Str
	step.Name = name
	st.DefineSnapshot(name, step)
	return nil
}
