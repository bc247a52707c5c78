package planner

import (
	"slices"
	"sort"
	"strings"
)

// Bytes per float32 parameter, and how many float32 copies training keeps
// of each: weights, gradients and two optimizer moments.
const (
	floatBytes     = 4
	trainingCopies = 4
	// backwardFactor counts a training step as one forward and a backward
	// costing two forwards.
	backwardFactor = 3
)

// cost fills a step's cost: the counts from its effects, then what
// the resolved dataset and the model as the branch holds it make
// knowable.
func (b *builder) cost(n *Node, eff Effects, st *state) Cost {
	c := Cost{TrainEpochs: eff.TrainEpochs, ForwardPasses: eff.TrainForwardPasses + eff.EvalPasses}
	d, m := b.data, st.model
	if d != nil {
		train := c.TrainEpochs + eff.TrainForwardPasses
		imgs := int64(train*float64(d.TrainImages()) + eff.EvalPasses*float64(d.TestImages()))
		c.Images = &imgs
	}
	if m == nil || !slices.Contains(n.Reads, ResModel) {
		return c
	}
	mem := paramMemory(m.Params(), c.TrainEpochs > 0, eff.Teacher)
	c.ParamMemoryBytes = &mem
	if hasFile(n.Writes) {
		out := m.Params() * int64(st.bits) / 8
		c.OutputBytes = &out
	}
	if d != nil {
		f := m.FLOPsPerImage() * (backwardFactor*c.TrainEpochs*float64(d.TrainImages()) +
			eff.TrainForwardPasses*float64(d.TrainImages()) + eff.EvalPasses*float64(d.TestImages()))
		c.FLOPs = &f
	}
	return c
}

func paramMemory(params int64, training, teacher bool) int64 {
	copies := int64(1)
	if training {
		copies = trainingCopies
	}
	if teacher {
		copies++
	}
	return params * floatBytes * copies
}

func hasFile(writes []string) bool {
	for _, w := range writes {
		if strings.HasPrefix(w, "file:") {
			return true
		}
	}
	return false
}

// total sums the step nodes' costs; memory is the peak, not the sum.
// Model-dependent totals stay nil unless every contributing step knew its
// own.
func total(nodes []*Node, withModel bool) Cost {
	var t Cost
	for _, n := range nodes {
		if n.Kind != KindStep {
			continue
		}
		c := n.Cost
		t.TrainEpochs += c.TrainEpochs
		t.ForwardPasses += c.ForwardPasses
		t.Images = addInt(t.Images, c.Images)
		t.FLOPs = addFloat(t.FLOPs, c.FLOPs)
		t.OutputBytes = addInt(t.OutputBytes, c.OutputBytes)
		if c.ParamMemoryBytes != nil && (t.ParamMemoryBytes == nil || *c.ParamMemoryBytes > *t.ParamMemoryBytes) {
			v := *c.ParamMemoryBytes
			t.ParamMemoryBytes = &v
		}
	}
	if !withModel {
		t.FLOPs, t.ParamMemoryBytes, t.OutputBytes = nil, nil, nil
	}
	return t
}

func addInt(a, b *int64) *int64 {
	if b == nil {
		return a
	}
	v := *b
	if a != nil {
		v += *a
	}
	return &v
}

func addFloat(a, b *float64) *float64 {
	if b == nil {
		return a
	}
	v := *b
	if a != nil {
		v += *a
	}
	return &v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
