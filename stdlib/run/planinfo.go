package run

import (
	"fmt"
	"os"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/ops/modelio"
	"github.com/qpipe/qpipe/ops/onnx"
	"github.com/qpipe/qpipe/planner"
	"github.com/qpipe/qpipe/stdlib/eval"
	"github.com/qpipe/qpipe/stdlib/prune"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

// planFileLimit bounds the model files the planner loads to count their
// FLOPs; a larger one is counted when the run loads it.
const planFileLimit = 64 << 20

// planInputs resolves, before any run, the model and the dataset a plan
// in env starts from: the dataset's shape and sizes from data.Describe,
// the model built (zoo) or read (file) and its FLOPs counted by
// eval.FLOPs. What cannot be known says why; nothing here fails a plan.
func (e *Env) planInputs(modelStep, dataStep *check.Step) planner.Inputs {
	var in planner.Inputs
	// Building or counting a model can meet the memory budget
	// (--max-memory), which ops reports by panicking; Guard turns that
	// into the reason.
	err := ops.Guard(func() error {
		in = e.resolveInputs(modelStep, dataStep)
		return nil
	})
	if err != nil {
		in.Model, in.ModelUnknown = nil, err.Error()
	}
	return in
}

func (e *Env) resolveInputs(modelStep, dataStep *check.Step) planner.Inputs {
	var in planner.Inputs
	info, why := e.planData(dataStep)
	if why == "" {
		in.Data = dataInfo(info)
	} else {
		in.DataUnknown = why
	}
	m, shape, why := e.planModel(modelStep, info, why)
	if why != "" {
		in.ModelUnknown = why
		return in
	}
	pm, err := newPlanModel(e.Backend, m, shape)
	if err != nil {
		in.ModelUnknown = err.Error()
		return in
	}
	in.Model = pm
	return in
}

// planData describes the dataset a data step (or the binding) opens;
// the reason is "" when it is known.
func (e *Env) planData(step *check.Step) (data.Info, string) {
	var spec DataSpec
	switch {
	case step != nil:
		var err error
		if spec, err = dataSpec(e, step); err != nil {
			return data.Info{}, err.Error()
		}
	case e.DataBind != nil:
		spec = *e.DataBind
	default:
		return data.Info{}, "no dataset is bound"
	}
	opts := e.Data
	opts.ValSplit = spec.ValSplit
	info, ok := data.Describe(spec.Name, opts)
	if !ok {
		return info, fmt.Sprintf("dataset %s is read when the run opens it", spec.Name)
	}
	if spec.Subset > 0 && spec.Subset < info.Train {
		info.Train = spec.Subset
	}
	return info, ""
}

// planModel builds or reads the model a model step (or --model) binds,
// with the input shape it takes.
func (e *Env) planModel(step *check.Step, d data.Info, dataWhy string) (*ops.Model, []int, string) {
	name, isPath := e.Model, looksLikePath(e.Model)
	if step != nil {
		name, isPath = modelSource(e, step)
	}
	switch {
	case name == "":
		return nil, nil, "no model is bound"
	case isPath:
		return e.planModelFile(name)
	case zoo.Summary(name) == "":
		return nil, nil, fmt.Sprintf("unknown model %q", name)
	case dataWhy != "":
		return nil, nil, "model " + name + " takes its input shape from the dataset: " + dataWhy
	}
	classes := d.Classes
	var a modelArgs
	if step != nil && step.Decode(&a) == nil && step.Explicit["classes"] {
		classes = a.Classes
	}
	shape := []int{d.C, d.H, d.W}
	m, err := zoo.Build(name, zoo.Shape{C: d.C, H: d.H, W: d.W}, classes, 1)
	if err != nil {
		return nil, nil, err.Error()
	}
	return m, shape, ""
}

// planModelFile reads a model file of at most planFileLimit bytes.
func (e *Env) planModelFile(name string) (*ops.Model, []int, string) {
	path := e.InputPath(name)
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Sprintf("model file %s: %v", name, unwrapPath(err))
	}
	if fi.Size() > planFileLimit {
		return nil, nil, fmt.Sprintf("model file %s is over %d MiB; its FLOPs are counted when the run loads it", name, planFileLimit>>20)
	}
	if strings.HasSuffix(strings.ToLower(name), ".onnx") {
		shape, err := onnx.InputShapeOf(path)
		if err != nil || len(shape) != 4 {
			return nil, nil, fmt.Sprintf("model file %s: no image input shape (%v)", name, err)
		}
		m, err := onnx.Import(path, onnx.ImportOptions{Backend: e.Backend})
		if err != nil {
			return nil, nil, err.Error()
		}
		return m, shape[1:], ""
	}
	m, meta, err := modelio.Load(path)
	if err != nil {
		return nil, nil, fmt.Sprintf("cannot load model %s: %v", name, err)
	}
	return m, meta.Input[:], ""
}

// planModel is a model the planner follows: its parameter count and
// FLOPs, and a copy structured pruning can shrink.
type planModel struct {
	be    ops.Backend
	m     *ops.Model
	shape []int
	flops float64
}

func newPlanModel(be ops.Backend, m *ops.Model, shape []int) (*planModel, error) {
	f, err := eval.FLOPs(be, m, shape)
	if err != nil {
		return nil, err
	}
	return &planModel{be: be, m: m, shape: shape, flops: f}, nil
}

func (p *planModel) FLOPsPerImage() float64 { return p.flops }
func (p *planModel) Params() int64          { return int64(p.m.ParamCount()) }

// PruneStructured prunes a copy as the prune step will and counts it.
// Per layer, the channels kept depend on the ratio only; with
// scope=global their split between layers follows the weights, which the
// plan knows only as initialised.
func (p *planModel) PruneStructured(ratio float64, scope string) (planner.ModelInfo, error) {
	c := p.m.Clone()
	if _, err := prune.Structured(c, ratio, scope); err != nil {
		return nil, err
	}
	return newPlanModel(p.be, c, p.shape)
}

// dataInfo adapts data.Info to the planner.
type dataInfo data.Info

func (d dataInfo) TrainImages() int64 { return int64(d.Train) }
func (d dataInfo) TestImages() int64  { return int64(d.Test) }
