package eval

import (
	"fmt"

	"github.com/qpipe/qpipe/ops"
)

// FLOPs is the floating-point work of one forward pass of m on one image
// of shape (C, H, W), counted as fvcore and ptflops count it: two FLOPs
// per multiply-add of the convolutions, linear layers, matrix products
// and attention score and value products; element-wise operations,
// normalization and pooling are not counted. It runs m once on a zero
// image of batch 1 on be to learn every node's shapes, so it counts
// exactly the graph the engine runs (a pruned layer's fewer channels,
// Swin's windows).
func FLOPs(be ops.Backend, m *ops.Model, shape []int) (float64, error) {
	be, err := ops.OrDefault(be)
	if err != nil {
		return 0, err
	}
	if len(m.Inputs) != 1 {
		return 0, fmt.Errorf("eval: FLOPs of model %s: want one input, it has %d", m.Name, len(m.Inputs))
	}
	var macs float64
	hook := func(n *ops.Node, in []*ops.Tensor, out *ops.Tensor) { macs += nodeMACs(m, n, in, out) }
	c := ops.NewContext(be, ops.Options{})
	x := ops.New(append([]int{1}, shape...)...)
	if _, err := m.ForwardObserved(c, hook, x); err != nil {
		return 0, fmt.Errorf("eval: FLOPs of model %s for input %v: %w", m.Name, shape, err)
	}
	return 2 * macs, nil
}

// nodeMACs counts a node's multiply-adds from its shapes.
func nodeMACs(m *ops.Model, n *ops.Node, in []*ops.Tensor, out *ops.Tensor) float64 {
	switch n.Kind {
	case ops.OpConv2d, ops.OpLinear, ops.OpQConv2d, ops.OpQLinear:
		// Each output element sums one weight row: (in/groups)·kh·kw
		// for a convolution, in_features for a linear layer.
		w := weightShape(m, n, in)
		if len(w) == 0 || w[0] == 0 {
			return 0
		}
		return float64(out.Numel()) * float64(ops.Numel(w)/w[0])
	case ops.OpMatMul:
		a := in[0].Shape
		k := a[len(a)-1]
		if n.Attrs.TransA {
			k = a[len(a)-2]
		}
		return float64(out.Numel()) * float64(k)
	case ops.OpAttention:
		// in[0] is the fused qkv (B, N, 3C): scores Q·Kᵀ and the
		// weighted sum of V each cost B·N·N·C multiply-adds.
		x := in[0].Shape
		b, tokens, ch := x[0], x[1], x[2]/3
		return 2 * float64(b) * float64(tokens) * float64(tokens) * float64(ch)
	}
	return 0
}

// weightShape is the shape of a node's weight: its exposed input when a
// verb exposed it, else the named parameter.
func weightShape(m *ops.Model, n *ops.Node, in []*ops.Tensor) []int {
	if name, ok := n.Params["weight"]; ok {
		if p := m.Param(name); p != nil {
			return p.Value.Shape
		}
	}
	if len(in) > 1 {
		return in[1].Shape
	}
	return nil
}
