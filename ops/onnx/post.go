package onnx

import (
	"fmt"
	"math"

	"github.com/qpipe/qpipe/ops"
)

// Passes over the imported qpipe model.

// foldRolls turns torch.roll's export, Concat(Slice(x, k:), Slice(x, :k))
// along one axis, into a roll node by n-k.
func foldRolls(m *ops.Model, shapes map[int][]int) {
	for _, n := range m.Nodes {
		if n.Kind != ops.OpConcat || len(n.Inputs) != 2 {
			continue
		}
		a, b := m.Node(n.Inputs[0]), m.Node(n.Inputs[1])
		if a.Kind != ops.OpSlice || b.Kind != ops.OpSlice || a.Inputs[0] != b.Inputs[0] {
			continue
		}
		ax := n.Attrs.Axis
		if a.Attrs.Axis != ax || b.Attrs.Axis != ax || orOne(a.Attrs.Step) != 1 || orOne(b.Attrs.Step) != 1 {
			continue
		}
		k, src := a.Attrs.Start, shapes[a.Inputs[0]]
		if src == nil || b.Attrs.Start != 0 || b.Attrs.End != k || k == 0 || a.Attrs.End != src[ax] {
			continue
		}
		size := src[ax]
		n.Kind = ops.OpRoll
		n.Inputs = []int{a.Inputs[0]}
		n.Attrs = ops.Attrs{Shifts: []int{size - k}, Axes: []int{ax}}
	}
}

func orOne(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

// pruneDead removes nodes that no output depends on (parameters only
// they used go too).
func pruneDead(m *ops.Model) {
	live := map[int]bool{}
	for _, id := range m.Outputs {
		live[id] = true
	}
	for _, id := range m.Inputs {
		live[id] = true
	}
	for i := len(m.Nodes) - 1; i >= 0; i-- {
		if n := m.Nodes[i]; live[n.ID] {
			for _, in := range n.Inputs {
				live[in] = true
			}
		}
	}
	kept := m.Nodes[:0]
	usedParams := map[string]bool{}
	for _, n := range m.Nodes {
		if live[n.ID] {
			kept = append(kept, n)
			for _, p := range n.Params {
				usedParams[p] = true
			}
		}
	}
	m.Nodes = kept
	for _, p := range append([]*ops.Param{}, m.Params()...) {
		if !usedParams[p.Name] {
			m.RemoveParam(p.Name)
		}
	}
	m.Invalidate()
}

// dynamicBatch compares two imports of one graph traced at batch sizes ba
// and bb and writes -1 into each reshape dimension that follows the
// batch, so the model runs at any batch size.
func dynamicBatch(a, b *ops.Model, ba, bb int) error {
	if len(a.Nodes) != len(b.Nodes) {
		return fmt.Errorf("the graph's structure depends on the batch size (%d vs %d nodes)", len(a.Nodes), len(b.Nodes))
	}
	for i, n := range a.Nodes {
		o := b.Nodes[i]
		if n.Kind != o.Kind {
			return fmt.Errorf("node %s: the graph's structure depends on the batch size", n.Name)
		}
		if n.Kind != ops.OpReshape {
			if fmt.Sprint(n.Attrs) != fmt.Sprint(o.Attrs) {
				return fmt.Errorf("node %s (%s): its attributes depend on the batch size", n.Name, n.Kind)
			}
			continue
		}
		if err := batchDim(n, o.Attrs.Shape, ba, bb); err != nil {
			return err
		}
	}
	return nil
}

func batchDim(n *ops.Node, other []int, ba, bb int) error {
	s := n.Attrs.Shape
	if len(s) != len(other) {
		return fmt.Errorf("node %s (reshape): its rank depends on the batch size", n.Name)
	}
	found := -1
	for d := range s {
		if s[d] == other[d] {
			continue
		}
		if found >= 0 || s[d]*bb != other[d]*ba {
			return fmt.Errorf("node %s (reshape): target %v depends on the batch size in a way qpipe cannot express (%v at another batch)", n.Name, s, other)
		}
		found = d
	}
	if found >= 0 {
		s[found] = -1
	}
	return nil
}

// foldBatchNorms folds each batchnorm whose input is a conv2d read by it
// alone into the convolution's weight and bias (the running statistics
// of an eval-mode export are constants), as the zoo's conv+BN pairs run;
// the batchnorm node becomes an identity.
func foldBatchNorms(m *ops.Model) error {
	readers := map[int]int{}
	for _, n := range m.Nodes {
		for _, in := range n.Inputs {
			readers[in]++
		}
	}
	for _, id := range m.Outputs {
		readers[id]++
	}
	for _, bn := range m.Nodes {
		if bn.Kind != ops.OpBatchNorm || len(bn.Inputs) != 1 {
			continue
		}
		conv := m.Node(bn.Inputs[0])
		if conv == nil || conv.Kind != ops.OpConv2d || readers[conv.ID] != 1 || len(conv.Inputs) != 1 {
			continue
		}
		if err := foldInto(m, conv, bn); err != nil {
			return err
		}
	}
	return nil
}

func foldInto(m *ops.Model, conv, bn *ops.Node) error {
	get := func(role string) *ops.Tensor {
		if p := m.Param(bn.Params[role]); p != nil {
			return p.Value
		}
		return nil
	}
	mean, variance, gamma, beta := get("running_mean"), get("running_var"), get("weight"), get("bias")
	w := m.Param(conv.Params["weight"])
	if mean == nil || variance == nil || w == nil {
		return nil
	}
	out := w.Value.Shape[0]
	if len(mean.Data) != out || len(variance.Data) != out {
		return fmt.Errorf("node %s: batch norm over %d channels after a conv with %d", bn.Name, len(mean.Data), out)
	}
	eps := float64(bn.Attrs.Eps)
	if eps == 0 {
		eps = 1e-5
	}
	nw := w.Value.Clone()
	nb := ops.New(out)
	per := len(nw.Data) / out
	for c := range out {
		g := 1 / math.Sqrt(float64(variance.Data[c])+eps)
		if gamma != nil {
			g *= float64(gamma.Data[c])
		}
		for i := range per {
			nw.Data[c*per+i] = float32(float64(nw.Data[c*per+i]) * g)
		}
		b := 0.0
		if p := m.Param(conv.Params["bias"]); p != nil {
			b = float64(p.Value.Data[c])
		}
		b = (b - float64(mean.Data[c])) * g
		if beta != nil {
			b += float64(beta.Data[c])
		}
		nb.Data[c] = float32(b)
	}
	wname, bname := freeParam(m, conv.Params["weight"]+"_bnfold"), freeParam(m, conv.Name+".bias_bnfold")
	if _, err := m.AddParam(wname, nw, true); err != nil {
		return err
	}
	if _, err := m.AddParam(bname, nb, true); err != nil {
		return err
	}
	conv.Params = map[string]string{"weight": wname, "bias": bname}
	bn.Kind, bn.Params, bn.Attrs = ops.OpIdentity, nil, ops.Attrs{}
	return nil
}

func freeParam(m *ops.Model, name string) string {
	base, i := name, 1
	for m.Param(name) != nil {
		name = fmt.Sprintf("%s_%d", base, i)
		i++
	}
	return name
}
