package prune

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/qpipe/qpipe/ops"
)

// Shrunk is one layer that lost output channels.
type Shrunk struct {
	Name     string
	From, To int
	Kept     []int // indices of the channels kept, ascending
}

// Skipped is a layer Structured left whole, and why.
type Skipped struct {
	Name, Reason string
}

// StructuredReport is what Structured did.
type StructuredReport struct {
	Shrunk                    []Shrunk
	Skipped                   []Skipped
	ParamsBefore, ParamsAfter int
}

// LayerError is a structured pruning that would leave a layer with no
// channel.
type LayerError struct {
	Layer          string
	Channels, Drop int
}

func (e *LayerError) Error() string {
	return fmt.Sprintf("prune: structured pruning would remove all %d channels of layer %s", e.Channels, e.Layer)
}

// follower is a layer whose output channels can be removed: the nodes
// that must follow the change.
type follower struct {
	layer *ops.Node
	norms []*ops.Node // batch norms on the way
	// reshapes flatten to (-1, C*H*W) on the way; their sizes follow.
	reshapes []*ops.Node
	next     *ops.Node // the conv2d or linear layer that reads the channels
	group    int       // input features of next per channel (flatten: H*W)
	keep     []bool
}

// Structured removes the fraction ratio of output channels with the
// smallest L2 norm, from every convolution and linear layer whose output
// the rewrite can follow (scope PerLayer: that fraction of each layer;
// scope Global: of all such channels ranked together by their RMS, so
// layers of different fan-in compare). The network is rebuilt smaller.
// Removing every channel of a layer is a *LayerError; nothing is changed
// then.
func Structured(m *ops.Model, ratio float64, scope string) (StructuredReport, error) {
	var rep StructuredReport
	if ratio < 0 || ratio >= 1 || math.IsNaN(ratio) {
		return rep, fmt.Errorf("prune: ratio %v is outside [0, 1)", ratio)
	}
	if len(m.FindKind(ops.OpFakeQuant, ops.OpQLinear, ops.OpQConv2d)) > 0 {
		return rep, fmt.Errorf("prune: structured pruning rebuilds layers and the model is already quantized; prune before quantize")
	}
	var fs []*follower
	for _, n := range m.FindKind(ops.OpConv2d, ops.OpLinear) {
		f, why := follow(m, n)
		if why != "" {
			rep.Skipped = append(rep.Skipped, Skipped{Name: n.Name, Reason: why})
			continue
		}
		fs = append(fs, f)
	}
	if len(fs) == 0 {
		return rep, fmt.Errorf("prune: no layer of model %s can lose channels (%s)", m.Name, skippedText(rep.Skipped))
	}
	if err := choose(m, fs, ratio, scope); err != nil {
		return rep, err
	}
	rep.ParamsBefore = m.ParamCount()
	for _, f := range fs {
		from := len(f.keep)
		if err := f.apply(m); err != nil {
			return rep, err
		}
		rep.Shrunk = append(rep.Shrunk, Shrunk{Name: f.layer.Name, From: from, To: count(f.keep), Kept: kept(f.keep)})
	}
	rep.ParamsAfter = m.ParamCount()
	return rep, m.Validate()
}

func skippedText(s []Skipped) string {
	if len(s) == 0 {
		return "it has no convolution or linear layer"
	}
	return s[0].Name + ": " + s[0].Reason
}

// channelThrough are kinds that keep the channels of their input.
var channelThrough = []ops.OpKind{ops.OpMaxPool2d, ops.OpAvgPool2d, ops.OpGlobalAvgPool, ops.OpDropout, ops.OpIdentity}

// follow walks from a layer's output to the next layer reading its
// channels; why says what stops it.
func follow(m *ops.Model, layer *ops.Node) (*follower, string) {
	if len(layer.Inputs) > 1 {
		return nil, "its weight is an exposed input"
	}
	if layer.Kind == ops.OpConv2d && layer.Attrs.Groups > 1 {
		return nil, "it is a grouped convolution"
	}
	f := &follower{layer: layer, group: 1}
	flat := false
	for cur := layer; ; {
		if slices.Contains(m.Outputs, cur.ID) {
			return nil, "its output is the model's output"
		}
		cs := m.Consumers(cur)
		if len(cs) != 1 {
			return nil, fmt.Sprintf("its output has %d readers (%s)", len(cs), names(cs))
		}
		c := cs[0]
		switch {
		case c.Kind == ops.OpBatchNorm:
			f.norms = append(f.norms, c)
		case ops.IsActivation(c.Kind) || slices.Contains(channelThrough, c.Kind):
		case c.Kind == ops.OpFlatten && c.Attrs.Axis <= 1:
			flat = true
		case c.Kind == ops.OpReshape && flattens(c, outChannels(m, layer)):
			flat = true
			f.reshapes = append(f.reshapes, c)
		case c.Kind == ops.OpConv2d && !flat && c.Attrs.Groups <= 1 && len(c.Inputs) == 1:
			f.next = c
			return f, ""
		case c.Kind == ops.OpLinear && len(c.Inputs) == 1:
			f.next = c
			return f, f.linearGroup(m, flat)
		case c.Kind == ops.OpAdd || c.Kind == ops.OpConcat || c.Kind == ops.OpSub || c.Kind == ops.OpMul:
			return nil, fmt.Sprintf("its channels meet a residual %s (%s), which must keep matching channels", c.Kind, c.Name)
		default:
			return nil, fmt.Sprintf("its output reaches %s (%s), which cannot follow a channel change", c.Name, c.Kind)
		}
		cur = c
	}
}

// linearGroup sets how many input features of the next linear layer each
// channel feeds (H*W after a flatten).
func (f *follower) linearGroup(m *ops.Model, flat bool) string {
	out := outChannels(m, f.layer)
	in := m.Param(f.next.Params["weight"]).Value.Shape[1]
	if !flat {
		if in != out {
			return fmt.Sprintf("the next layer %s reads %d features, not its %d channels", f.next.Name, in, out)
		}
		return ""
	}
	if in%out != 0 {
		return fmt.Sprintf("the next layer %s reads %d features, not a multiple of its %d channels", f.next.Name, in, out)
	}
	f.group = in / out
	return ""
}

// flattens reports a reshape to (batch, -1) or (-1, C*H*W), as exported
// models flatten.
func flattens(n *ops.Node, channels int) bool {
	s := n.Attrs.Shape
	return len(s) == 2 && (s[1] == -1 && s[0] <= 1 || s[0] == -1 && s[1] > 0 && s[1]%channels == 0)
}

func names(ns []*ops.Node) string {
	var s []string
	for _, n := range ns {
		s = append(s, n.Name)
	}
	if len(s) == 0 {
		return "none"
	}
	return fmt.Sprint(s)
}

func outChannels(m *ops.Model, n *ops.Node) int {
	return m.Param(n.Params["weight"]).Value.Shape[0]
}

// channelNorms are the L2 norms of a layer's output channels (rows of its
// weight), and the weight's fan-in.
func channelNorms(m *ops.Model, n *ops.Node) ([]float64, int) {
	w := m.Param(n.Params["weight"]).Value
	rows := w.Shape[0]
	fan := len(w.Data) / rows
	out := make([]float64, rows)
	for r := range rows {
		var s float64
		for _, v := range w.Data[r*fan : (r+1)*fan] {
			s += float64(v) * float64(v)
		}
		out[r] = math.Sqrt(s)
	}
	return out, fan
}

type channel struct {
	f     *follower
	i     int
	score float64
}

// choose sets every follower's keep flags.
func choose(m *ops.Model, fs []*follower, ratio float64, scope string) error {
	var groups [][]channel
	var all []channel
	for _, f := range fs {
		norms, fan := channelNorms(m, f.layer)
		f.keep = make([]bool, len(norms))
		var g []channel
		for i, v := range norms {
			f.keep[i] = true
			c := channel{f: f, i: i, score: v}
			if scope == Global {
				c.score = v / math.Sqrt(float64(fan))
			}
			g = append(g, c)
		}
		groups = append(groups, g)
		all = append(all, g...)
	}
	switch scope {
	case Global:
		groups = [][]channel{all}
	case PerLayer:
	default:
		return fmt.Errorf("prune: unknown scope %q (want global or layer)", scope)
	}
	for _, g := range groups {
		sort.SliceStable(g, func(a, b int) bool { return g[a].score < g[b].score })
		for _, c := range g[:int(math.Round(ratio*float64(len(g))))] {
			c.f.keep[c.i] = false
		}
	}
	for _, f := range fs {
		if count(f.keep) == 0 {
			return &LayerError{Layer: f.layer.Name, Channels: len(f.keep), Drop: len(f.keep)}
		}
	}
	return nil
}

func kept(keep []bool) []int {
	var out []int
	for i, k := range keep {
		if k {
			out = append(out, i)
		}
	}
	return out
}

func count(keep []bool) int {
	n := 0
	for _, k := range keep {
		if k {
			n++
		}
	}
	return n
}

// apply rebuilds the layer, its batch norms and the next layer's inputs.
func (f *follower) apply(m *ops.Model) error {
	for _, role := range []string{"weight", "bias"} {
		if err := slice(m, f.layer.Params[role], 0, 1, f.keep); err != nil {
			return err
		}
	}
	for _, bn := range f.norms {
		for _, name := range bn.Params {
			if err := slice(m, name, 0, 1, f.keep); err != nil {
				return err
			}
		}
	}
	for _, r := range f.reshapes {
		if r.Attrs.Shape[1] > 0 {
			r.Attrs.Shape[1] = r.Attrs.Shape[1] / len(f.keep) * count(f.keep)
		}
	}
	return slice(m, f.next.Params["weight"], 1, f.group, f.keep)
}

// slice keeps the chosen blocks along axis of a parameter; each flag
// covers group consecutive indices of that axis.
func slice(m *ops.Model, name string, axis, group int, keep []bool) error {
	if name == "" {
		return nil
	}
	p := m.Param(name)
	if p == nil {
		return fmt.Errorf("prune: model %s has no parameter %q", m.Name, name)
	}
	shape := p.Value.Shape
	if shape[axis] != len(keep)*group {
		return fmt.Errorf("prune: parameter %s has %d entries on axis %d, want %d", name, shape[axis], axis, len(keep)*group)
	}
	outer := ops.Numel(shape[:axis])
	inner := ops.Numel(shape[axis+1:]) * group
	data := selectBlocks(p.Value.Data, outer, len(keep), inner, keep)
	newShape := slices.Clone(shape)
	newShape[axis] = count(keep) * group
	var mask []bool
	if old := p.Mask(); old != nil {
		mask = selectBlocks(old, outer, len(keep), inner, keep)
	}
	t, err := ops.FromData(data, newShape...)
	if err != nil {
		return err
	}
	return m.ResizeParam(name, t, mask)
}

// selectBlocks views v as [outer][n][inner] and keeps the middle indices
// whose flag is set.
func selectBlocks[T any](v []T, outer, n, inner int, keep []bool) []T {
	out := make([]T, 0, outer*count(keep)*inner)
	for o := range outer {
		for i := range n {
			if keep[i] {
				base := (o*n + i) * inner
				out = append(out, v[base:base+inner]...)
			}
		}
	}
	return out
}
