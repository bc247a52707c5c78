package planner

import (
	"slices"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
)

// testEnv is a small vocabulary for the planner's own tests, so they pin
// the planner's behaviour whatever the standard library's signatures
// become (the example recipes are planned with the real one in
// examples_test.go).
type testEnv map[string]*check.Signature

func (e testEnv) Lookup(verb string) (*check.Signature, bool) {
	s, ok := e[verb]
	return s, ok
}

func (e testEnv) Verbs() []string {
	var out []string
	for v := range e {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

func fptr(x float64) *float64 { return &x }

var (
	needsModel = check.Effects{NeedsModel: true}
	transform  = check.Effects{NeedsModel: true, ChangesModel: true}
	training   = check.Effects{NeedsModel: true, NeedsData: true, Trains: true, ChangesModel: true}
)

func newTestEnv() testEnv {
	sigs := []*check.Signature{
		{Verb: "model", Slots: []check.Param{{Name: "name", Type: check.TNameOrPath, Values: []string{"cnn", "mlp"}}},
			Effects: check.Effects{LoadsModel: true}},
		{Verb: "data", Variants: []check.Variant{{Name: "mnist"}, {Name: "digits"}},
			Effects: check.Effects{LoadsData: true}},
		{Verb: "train", Effects: training, Params: []check.Param{
			{Name: "epochs", Type: check.TInt, Default: 1, Min: fptr(1)},
			{Name: "lr", Type: check.TFloat, Default: 0.001, Min: fptr(0), MinOpen: true}}},
		{Verb: "snapshot", Effects: needsModel, Rules: defineSnapshot,
			Slots: []check.Param{{Name: "name", Type: check.TName}}},
		{Verb: "distill", Effects: training, Params: []check.Param{
			{Name: "from", Type: check.TSnapshot, Default: "original"},
			{Name: "iterations", Type: check.TInt, Default: 1, Min: fptr(1)},
			{Name: "epochs", Type: check.TInt, Default: 1, Min: fptr(1)},
			{Name: "temperature", Type: check.TFloat, Default: 4.0}}},
		{Verb: "quantize", Effects: check.Effects{NeedsModel: true, NeedsData: true, ChangesModel: true},
			Variants: []check.Variant{
				{Name: "int8", Params: []check.Param{
					{Name: "calibrate", Type: check.TEnum, Values: []string{"minmax", "mse"}, Default: "minmax"},
					{Name: "mode", Type: check.TEnum, Values: []string{"ptq", "qat"}, Default: "ptq"},
					{Name: "epochs", Type: check.TInt, Default: 1}}},
				{Name: "log2", Params: []check.Param{
					{Name: "bits", Type: check.TInt, Default: 3, Min: fptr(2), Max: fptr(8)}}}}},
		{Verb: "prune", Effects: transform,
			Slots: []check.Param{{Name: "method", Type: check.TEnum, Values: []string{"magnitude"}}},
			Params: []check.Param{{Name: "ratio", Type: check.TFraction, Required: true},
				{Name: "structured", Type: check.TBool}, {Name: "scope", Type: check.TEnum, Values: []string{"layer", "global"}}}},
		{Verb: "evaluate", Effects: needsModel,
			Slots:  []check.Param{{Name: "metrics", Type: check.TEnum, Repeated: true, Values: []string{"accuracy", "size", "latency"}}},
			Params: []check.Param{{Name: "shift", Type: check.TEnum, Values: []string{"digits"}}},
			Metrics: []check.Metric{{Name: "accuracy", Type: check.TFraction, When: "accuracy"},
				{Name: "size", Type: check.TBytes, When: "size"},
				{Name: "latency", Type: check.TDuration, When: "latency"}}},
		{Verb: "export", Effects: check.Effects{NeedsModel: true, Writes: true},
			Slots: []check.Param{{Name: "format", Type: check.TEnum, Values: []string{"onnx"}},
				{Name: "path", Type: check.TPath}}},
	}
	env := testEnv{}
	for _, s := range sigs {
		env[s.Verb] = s
	}
	return env
}

func defineSnapshot(st *check.State, step *check.Step) diag.Diagnostics {
	st.DefineSnapshot(step.Words["name"].Str, step)
	return nil
}
