package prune

import (
	"fmt"
	"math"
	"slices"

	"github.com/qpipe/qpipe/ops"
)

// Scopes of the ranking.
const (
	Global   = "global" // rank every prunable weight of the model together
	PerLayer = "layer"  // rank within each layer
)

// Weight is one prunable weight: a convolution's or linear layer's.
type Weight struct {
	Node  *ops.Node
	Param *ops.Param
}

// Weights lists the prunable weights of m in graph order: the weights of
// its conv2d and linear nodes.
func Weights(m *ops.Model) []Weight {
	var out []Weight
	for _, n := range m.FindKind(ops.OpConv2d, ops.OpLinear) {
		if p := m.Param(n.Params["weight"]); p != nil {
			out = append(out, Weight{Node: n, Param: p})
		}
	}
	return out
}

// LayerSparsity is how many of one layer's weights are zero.
type LayerSparsity struct {
	Name         string
	Zeros, Total int
}

// Sparsity is the fraction of the layer's weights that are zero.
func (l LayerSparsity) Sparsity() float64 { return ratio(l.Zeros, l.Total) }

// Report is the sparsity of a model's prunable weights, per layer and
// overall.
type Report struct {
	Layers       []LayerSparsity
	Zeros, Total int
}

// Sparsity is the overall fraction of prunable weights that are zero.
func (r Report) Sparsity() float64 { return ratio(r.Zeros, r.Total) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Measure counts the exact zeros of m's prunable weights.
func Measure(m *ops.Model) Report {
	var r Report
	for _, l := range Weights(m) {
		z := 0
		for _, v := range l.Param.Value.Data {
			if v == 0 {
				z++
			}
		}
		r.Layers = append(r.Layers, LayerSparsity{Name: l.Node.Name, Zeros: z, Total: len(l.Param.Value.Data)})
		r.Zeros += z
		r.Total += len(l.Param.Value.Data)
	}
	return r
}

// Magnitude masks the fraction ratio (in [0, 1)) of the weights that are
// still unpruned, those of smallest |w|, ranked over the whole model
// (scope Global) or within each layer (scope Layer). Weights pruned
// before stay pruned. It returns the sparsity afterwards.
func Magnitude(m *ops.Model, ratio float64, scope string) (Report, error) {
	if ratio < 0 || ratio >= 1 || math.IsNaN(ratio) {
		return Report{}, fmt.Errorf("prune: ratio %v is outside [0, 1)", ratio)
	}
	layers := Weights(m)
	if len(layers) == 0 {
		return Report{}, fmt.Errorf("prune: model %s has no convolution or linear weights to prune", m.Name)
	}
	switch scope {
	case Global:
		if err := maskBelow(layers, threshold(layers, ratio)); err != nil {
			return Report{}, err
		}
	case PerLayer:
		for _, l := range layers {
			if err := maskBelow([]Weight{l}, threshold([]Weight{l}, ratio)); err != nil {
				return Report{}, err
			}
		}
	default:
		return Report{}, fmt.Errorf("prune: unknown scope %q (want global or layer)", scope)
	}
	m.Invalidate()
	return Measure(m), nil
}

// cut is a magnitude threshold with a tie count: weights of |w| < t are
// pruned, and of those equal to t, the first ties (in layer order) too, so
// exactly the asked number goes whatever the ties.
type cut struct {
	t    float32
	ties int
}

// threshold finds the cut that removes round(ratio * unpruned) of the
// layers' unpruned weights.
func threshold(layers []Weight, ratio float64) cut {
	var mags []float32
	for _, l := range layers {
		keep := l.Param.Mask()
		for i, v := range l.Param.Value.Data {
			if keep == nil || keep[i] {
				mags = append(mags, float32(math.Abs(float64(v))))
			}
		}
	}
	k := int(math.Round(ratio * float64(len(mags))))
	if k == 0 {
		return cut{t: -1}
	}
	slices.Sort(mags)
	t := mags[k-1]
	below, _ := slices.BinarySearch(mags, t)
	return cut{t: t, ties: k - below}
}

// maskBelow masks every unpruned weight under the cut, and the first
// c.ties unpruned weights exactly at it.
func maskBelow(layers []Weight, c cut) error {
	ties := c.ties
	for _, l := range layers {
		old := l.Param.Mask()
		keep := make([]bool, len(l.Param.Value.Data))
		for i, v := range l.Param.Value.Data {
			if old != nil && !old[i] {
				continue
			}
			switch a := float32(math.Abs(float64(v))); {
			case a > c.t:
				keep[i] = true
			case a == c.t && ties > 0:
				ties--
			case a == c.t:
				keep[i] = true
			}
		}
		if err := l.Param.SetMask(keep); err != nil {
			return err
		}
	}
	return nil
}
