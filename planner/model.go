package planner

import (
	"fmt"

	"github.com/qpipe/qpipe/lang/check"
)

// ModelState is the model as it stands after a step: what the engine will
// hold when it gets there, as far as the planner can know it before a
// run.
type ModelState struct {
	// Params counts the parameters (structured pruning removes some).
	Params int64 `json:"params"`
	// FLOPsPerImage is the work of one forward pass (eval.FLOPs).
	FLOPsPerImage float64 `json:"flops_per_image"`
	// Bits is the weights' precision: 32 until a quantize step.
	Bits int `json:"bits"`
	// WeightBytes is Params at Bits bits each.
	WeightBytes int64 `json:"weight_bytes"`
	// Density is the fraction of prunable weights left nonzero by
	// unstructured pruning (1 without it).
	Density float64 `json:"density"`
	// Change says what this step changed, "" when nothing.
	Change string `json:"change,omitempty"`
}

// Pruner is a ModelInfo that knows what structured pruning does to it:
// the engine prunes a copy of the model with the step's ratio and scope
// and counts again.
type Pruner interface {
	PruneStructured(ratio float64, scope string) (ModelInfo, error)
}

// Inputs are the model and dataset a plan starts from, as far as they
// can be known before a run; an Unknown reason replaces what is not.
type Inputs struct {
	Model        ModelInfo
	ModelUnknown string
	Data         DataInfo
	DataUnknown  string
}

// ResolveFunc finds the plan's inputs: model and data are the recipe's
// model and data statements (nil when the command line binds them or
// there is none).
type ResolveFunc func(model, data *check.Step) Inputs

// resolve sets the builder's model and data information from Options.
func (b *builder) resolve(model, data *check.Step) {
	b.model, b.data = b.opts.ModelInfo, b.opts.DataInfo
	if b.opts.Resolve == nil || b.model != nil {
		return
	}
	in := b.opts.Resolve(model, data)
	b.model, b.data = in.Model, in.Data
	if in.Model != nil {
		p, f := in.Model.Params(), in.Model.FLOPsPerImage()
		b.plan.Model.Params, b.plan.Model.FLOPsPerImage = &p, &f
	} else {
		b.plan.Model.Unknown = in.ModelUnknown
	}
	if in.Data != nil {
		tr, te := in.Data.TrainImages(), in.Data.TestImages()
		b.plan.Data.TrainImages, b.plan.Data.TestImages = &tr, &te
	} else {
		b.plan.Data.Unknown = in.DataUnknown
	}
}

// reshape follows the model through a step: loading one starts from the
// resolved model, structured pruning asks the Pruner.
func (b *builder) reshape(n *Node, s *check.Step, st *state) {
	switch {
	case s != nil && loadsModel(s):
		st.model = b.model
	case s != nil && s.Verb == "prune" && s.Args["structured"].Bool && st.model != nil:
		p, ok := st.model.(Pruner)
		ratio, known := number(s.Args["ratio"], st)
		if !ok || !known {
			st.model = nil
			return
		}
		m, err := p.PruneStructured(ratio, plainName(st.vars.resolve(s.Args["scope"])))
		if err != nil {
			n.Note = "model after this step unknown: " + err.Error()
		}
		st.model = m
	}
}

// modelState is the model after n, nil when unknown or when n does not
// touch the model; Change compares it with the state before.
func (b *builder) modelState(n *Node, st *state) *ModelState {
	if st.model == nil || !touchesModel(n) {
		return nil
	}
	ms := &ModelState{Params: st.model.Params(), FLOPsPerImage: st.model.FLOPsPerImage(), Bits: st.bits, Density: st.density}
	ms.WeightBytes = ms.Params * int64(ms.Bits) / 8
	if prev := st.last; prev != nil && writes(n, ResModel) {
		ms.Change = changeText(prev, ms)
	}
	st.last = ms
	return ms
}

func touchesModel(n *Node) bool { return writes(n, ResModel) || reads(n, ResModel) }

func writes(n *Node, r string) bool {
	for _, w := range n.Writes {
		if w == r {
			return true
		}
	}
	return false
}

func reads(n *Node, r string) bool {
	for _, x := range n.Reads {
		if x == r {
			return true
		}
	}
	return false
}

// changeText lists what differs between two model states.
func changeText(a, b *ModelState) string {
	var parts []string
	if a.Params != b.Params {
		parts = append(parts, fmt.Sprintf("params %s → %s (%s)", count(a.Params), count(b.Params), percent(float64(a.Params), float64(b.Params))))
	}
	if a.FLOPsPerImage != b.FLOPsPerImage {
		parts = append(parts, fmt.Sprintf("%s → %s per image (%s)", humanFLOPs(a.FLOPsPerImage), humanFLOPs(b.FLOPsPerImage),
			percent(a.FLOPsPerImage, b.FLOPsPerImage)))
	}
	if a.WeightBytes != b.WeightBytes {
		w := fmt.Sprintf("weights %s → %s", humanBytes(a.WeightBytes), humanBytes(b.WeightBytes))
		if a.Bits != b.Bits {
			w += fmt.Sprintf(" (%d → %d bits)", a.Bits, b.Bits)
		}
		parts = append(parts, w)
	}
	if a.Density != b.Density {
		parts = append(parts, fmt.Sprintf("nonzero prunable weights %.4g%% → %.4g%%", 100*a.Density, 100*b.Density))
	}
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += ", "
		}
		out += p
	}
	return out
}

func percent(a, b float64) string {
	if a == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%+.1f%%", 100*(b-a)/a)
}

// count renders an integer with thousands separators.
func count(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + count(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// ModelText is a model state in one line, as `qpipe plan` prints it.
func ModelText(m *ModelState) string {
	s := fmt.Sprintf("%s params, %s per image, weights %s at %d bits", count(m.Params), humanFLOPs(m.FLOPsPerImage), humanBytes(m.WeightBytes), m.Bits)
	if m.Density < 1 {
		s += fmt.Sprintf(", %.4g%% of prunable weights nonzero", 100*m.Density)
	}
	return s
}
