package run

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/ops/modelio"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

func init() {
	Register("model", Verb{Run: runModel})
	Register("data", Verb{Run: runData})
}

// modelArgs are a model step's word and arguments.
type modelArgs struct {
	Name    check.Value `word:"name"`
	Classes int         `arg:"classes"`
	Seed    uint64      `arg:"seed"`
}

// modelSource is the model a model step loads: --model (or the project's
// model) wins over the recipe's word.
func modelSource(env *Env, step *check.Step) (name string, isPath bool) {
	if env.Model != "" {
		return env.Model, looksLikePath(env.Model)
	}
	var a modelArgs
	if err := step.Decode(&a); err != nil {
		return "", false
	}
	return a.Name.Str, a.Name.Kind == check.VString
}

func looksLikePath(s string) bool {
	return strings.ContainsAny(s, `/\`) || strings.Contains(strings.ToLower(filepath.Ext(s)), "safetensors") ||
		strings.HasSuffix(strings.ToLower(s), ".onnx")
}

func runModel(ctx context.Context, env *Env, st *State, step *check.Step) (*Outcome, error) {
	var a modelArgs
	if err := step.Decode(&a); err != nil {
		return nil, err
	}
	name, isPath := modelSource(env, step)
	spec := ModelSpec{Name: name, Classes: a.Classes, ClassesSet: step.Explicit["classes"], Seed: env.Seed}
	if step.Explicit["seed"] {
		spec.Seed = a.Seed
	}
	return bindModelSpec(env, st, isPath, spec)
}

// bindModel binds --model when the recipe has no model line.
func bindModel(env *Env, st *State, name string) error {
	_, err := bindModelSpec(env, st, looksLikePath(name), ModelSpec{Name: name, Classes: 10, Seed: env.Seed})
	return err
}

// bindModelSpec loads a model file, or builds a zoo architecture now when
// a dataset gives its input shape and later otherwise.
func bindModelSpec(env *Env, st *State, isPath bool, spec ModelSpec) (*Outcome, error) {
	if isPath {
		return loadModelFile(env, st, spec.Name)
	}
	if zoo.Summary(spec.Name) == "" {
		return nil, fmt.Errorf("unknown model %q; built-in models: %s", spec.Name, strings.Join(zoo.Names(), ", "))
	}
	st.Model, st.Pending = nil, &spec
	st.ModelChanged()
	if st.Data == nil {
		return &Outcome{Summary: fmt.Sprintf("model %s: built once a dataset gives its input shape", spec.Name)}, nil
	}
	if err := buildPending(st); err != nil {
		return nil, err
	}
	return modelOutcome(st), nil
}

func loadModelFile(env *Env, st *State, name string) (*Outcome, error) {
	path := env.InputPath(name)
	if strings.HasSuffix(strings.ToLower(name), ".onnx") {
		return loadONNX(env, st, path)
	}
	m, meta, err := modelio.Load(path)
	if err != nil {
		return nil, fmt.Errorf("cannot load model %s: %w", name, err)
	}
	st.SetModel(m, meta)
	st.TakeSnapshot("original")
	return modelOutcome(st), nil
}

func modelOutcome(st *State) *Outcome {
	return &Outcome{Summary: fmt.Sprintf("model %s: %d parameters, input %dx%dx%d, %d classes", st.Model.Name,
		st.Model.ParamCount(), st.Meta.Input[0], st.Meta.Input[1], st.Meta.Input[2], st.Meta.Classes),
		Metrics: map[string]float64{"params": float64(st.Model.ParamCount())}}
}

// buildPending builds the waiting zoo architecture for the bound dataset
// and names it `original`.
func buildPending(st *State) error {
	p, d := st.Pending, st.Data.Splits.Train
	classes := len(d.Classes)
	if p.ClassesSet && p.Classes != classes {
		return fmt.Errorf("model %s was given classes=%d but dataset %s has %d classes", p.Name, p.Classes, st.Data.Spec.Name, classes)
	}
	m, err := zoo.Build(p.Name, zoo.Shape{C: d.C, H: d.H, W: d.W}, classes, p.Seed)
	if err != nil {
		return err
	}
	st.SetModel(m, modelio.Meta{Zoo: p.Name, Input: d.Shape(), Classes: classes})
	st.TakeSnapshot("original")
	return nil
}

// dataArgs are a data step's words and arguments.
type dataArgs struct {
	Path      string      `word:"path"`
	Subset    int         `arg:"subset"`
	ValSplit  float64     `arg:"val_split"`
	Augment   bool        `arg:"augment"`
	Batch     int         `arg:"batch"`
	Normalize check.Value `arg:"normalize"`
}

// dataSpec reads a data step, with the command line's or project's
// binding on top.
func dataSpec(env *Env, step *check.Step) (DataSpec, error) {
	var a dataArgs
	if err := step.Decode(&a); err != nil {
		return DataSpec{}, err
	}
	spec := DataSpec{Name: step.Variant, Subset: a.Subset, ValSplit: a.ValSplit, Augment: a.Augment, Batch: a.Batch}
	if a.Path != "" {
		spec.Path = env.InputPath(a.Path)
	}
	if a.Normalize.Kind == check.VList {
		n, err := normalizeOf(a.Normalize)
		if err != nil {
			return spec, err
		}
		spec.Normalize = n
	}
	if b := env.DataBind; b != nil {
		spec = overlay(spec, *b)
	}
	return spec, nil
}

// overlay puts the set fields of a binding over the recipe's spec.
func overlay(spec, b DataSpec) DataSpec {
	if b.Name != "" {
		spec.Name, spec.Path = b.Name, b.Path
	}
	if b.Subset != 0 {
		spec.Subset = b.Subset
	}
	if b.ValSplit != 0 {
		spec.ValSplit = b.ValSplit
	}
	if b.Augment {
		spec.Augment = true
	}
	if b.Batch != 0 {
		spec.Batch = b.Batch
	}
	if b.Normalize != nil {
		spec.Normalize = b.Normalize
	}
	return spec
}

func normalizeOf(v check.Value) (*data.Normalize, error) {
	if len(v.List) != 2 {
		return nil, fmt.Errorf("normalize takes [MEAN, STD]")
	}
	return &data.Normalize{Mean: floats(v.List[0]), Std: floats(v.List[1])}, nil
}

func floats(v check.Value) []float32 {
	if v.Kind != check.VList {
		return []float32{float32(v.Number())}
	}
	out := make([]float32, len(v.List))
	for i, e := range v.List {
		out[i] = float32(e.Number())
	}
	return out
}

// openData opens a dataset spec: its splits, the training subset taken.
func openData(env *Env, spec DataSpec) (*Dataset, error) {
	opts := env.Data
	opts.Path, opts.ValSplit, opts.Seed = spec.Path, spec.ValSplit, env.Seed
	s, err := data.Open(spec.Name, opts)
	if err != nil {
		if errors.Is(err, data.ErrNotFound) {
			return nil, fmt.Errorf("dataset %s is not on this machine: %w", spec.Name, err)
		}
		return nil, err
	}
	if spec.Subset > 0 {
		s = &data.Splits{Train: s.Train.Subset(spec.Subset), Validation: s.Validation, Test: s.Test}
	}
	return &Dataset{Spec: spec, Splits: s}, nil
}

func runData(ctx context.Context, env *Env, st *State, step *check.Step) (*Outcome, error) {
	spec, err := dataSpec(env, step)
	if err != nil {
		return nil, err
	}
	d, err := openData(env, spec)
	if err != nil {
		return nil, err
	}
	st.Data = d
	out := &Outcome{Summary: dataSummary(d), Metrics: map[string]float64{"train_samples": float64(d.Splits.Train.Len())}}
	if t := d.Splits.Test; t != nil {
		out.Metrics["test_samples"] = float64(t.Len())
	}
	if st.Pending != nil {
		if err := buildPending(st); err != nil {
			return nil, err
		}
		out.Summary += "; " + modelOutcome(st).Summary
	}
	return out, nil
}

func dataSummary(d *Dataset) string {
	tr := d.Splits.Train
	s := fmt.Sprintf("data %s: %d training images of %dx%dx%d, %d classes", d.Spec.Name, tr.Len(), tr.C, tr.H, tr.W, len(tr.Classes))
	if d.Splits.Test != nil {
		s += fmt.Sprintf(", %d test", d.Splits.Test.Len())
	}
	return s
}
