package ops

import (
	"fmt"

	"github.com/qpipe/qpipe/lang/source"
)

// Int8Options configure ConvertInt8.
type Int8Options struct {
	// InputScales maps a linear, conv2d or attention node's name to the
	// per-tensor scale of its input activation (from calibration; for
	// attention, the fused qkv codes).
	InputScales map[string]float32
	// Span is the recipe statement doing the conversion.
	Span source.Span
}

// Int8Report counts what ConvertInt8 did.
type Int8Report struct {
	Converted   int // layers now running the int8 GEMM
	FusedReLU   int // ReLUs folded into an integer epilogue
	Int8Outputs int // layers that requantize straight into the next int8 layer
	Attention   int // attention nodes on the integer kernel (qattention)
	Int8Adds    int // residual adds writing int8 codes (ReLU fused) for int8 layers
	Skipped     []string
}

// ConvertInt8 turns every linear/conv2d node named in o.InputScales into
// qlinear/qconv2d. A ReLU that is a layer's only consumer is fused into the
// epilogue and removed; a layer whose consumers are all int8 layers with
// the same input scale requantizes into that scale, so int8 values flow
// between them with no float step. An attention node named in
// o.InputScales whose consumers are all int8 layers with one input scale
// becomes qattention (int8 qkv in, int8 out in that scale); otherwise it
// stays float (listed in Skipped). Grouped convolutions stay float
// (listed in Skipped) unless depthwise (see int8_dw.go).
func (m *Model) ConvertInt8(o Int8Options) (Int8Report, error) {
	var r Int8Report
	for name := range o.InputScales {
		if m.NodeByName(name) == nil {
			return r, fmt.Errorf("ops: int8: no node named %q", name)
		}
	}
	for _, n := range m.Nodes {
		s, ok := o.InputScales[n.Name]
		if !ok || (n.Kind != OpLinear && n.Kind != OpConv2d && n.Kind != OpAttention) {
			continue
		}
		if n.Kind == OpAttention {
			continue
		}
		if len(n.Inputs) > 1 {
			return r, fmt.Errorf("ops: int8: node %s has weights fed by other nodes (remove fake-quant first)", n.Name)
		}
		if n.Kind == OpConv2d && orOne(n.Attrs.Groups) != 1 && !m.IsDepthwiseConv(n) {
			r.Skipped = append(r.Skipped, n.Name)
			continue
		}
		n.Kind = map[OpKind]OpKind{OpLinear: OpQLinear, OpConv2d: OpQConv2d}[n.Kind]
		n.Attrs.InScale, n.Span = s, o.Span
		r.Converted++
	}
	m.convertAttention(o, &r)
	for _, n := range m.FindKind(OpQLinear, OpQConv2d) {
		if cs := m.Consumers(n); len(cs) == 1 && cs[0].Kind == OpReLU && !m.isOutput(n) {
			n.Attrs.FusedReLU = true
			if err := m.Bypass(cs[0]); err != nil {
				return r, err
			}
			r.FusedReLU++
		}
	}
	if err := m.convertAdds(&r); err != nil {
		return r, err
	}
	for _, n := range m.FindKind(OpQLinear, OpQConv2d) {
		if s := m.commonInt8Scale(n); s > 0 {
			n.Attrs.OutScale = s
			r.Int8Outputs++
		}
	}
	m.invalidate()
	return r, m.Validate()
}

func (m *Model) isOutput(n *Node) bool {
	for _, o := range m.Outputs {
		if o == n.ID {
			return true
		}
	}
	return false
}

// commonInt8Scale returns the input scale shared by all of n's consumers
// when every one is an int8 layer reading n as its activation (or a max
// pool or flatten whose consumers are, see passesInt8) or an add (which
// reads codes in any scale) and at least one has a scale, else 0.
func (m *Model) commonInt8Scale(n *Node) float32 {
	cs := m.Consumers(n)
	if len(cs) == 0 || m.isOutput(n) {
		return 0
	}
	s := float32(0)
	for _, c := range cs {
		if c.Kind == OpAdd {
			continue // an add reads codes in any scale (see runAdd)
		}
		cs := c.Attrs.InScale
		if !takesInt8(c.Kind) || c.Inputs[0] != n.ID {
			cs = m.passInt8Scale(n, c) // a max pool or flatten feeding int8 layers
		}
		if cs == 0 || (s != 0 && cs != s) {
			return 0
		}
		s = cs
	}
	return s
}

// convertAttention turns the attention nodes of o.InputScales whose
// output feeds int8 layers only into qattention.
func (m *Model) convertAttention(o Int8Options, r *Int8Report) {
	for _, n := range m.FindKind(OpAttention) {
		s, ok := o.InputScales[n.Name]
		if !ok {
			continue
		}
		out := m.commonInt8Scale(n)
		if out == 0 {
			r.Skipped = append(r.Skipped, n.Name)
			continue
		}
		n.Kind, n.Span = OpQAttention, o.Span
		n.Attrs.InScale, n.Attrs.OutScale = s, out
		r.Attention++
	}
}

// convertAdds makes the two-operand adds whose output feeds int8 layers
// int8 adds (see runAdd) with OutScale the input scale those layers
// share; a ReLU that is such an add's only consumer is fused into it.
func (m *Model) convertAdds(r *Int8Report) error {
	for _, a := range m.FindKind(OpAdd) {
		if len(a.Inputs) != 2 || m.isOutput(a) {
			continue
		}
		if cs := m.Consumers(a); len(cs) == 1 && cs[0].Kind == OpReLU {
			s := m.commonInt8Scale(cs[0])
			if s == 0 {
				continue
			}
			if err := m.Bypass(cs[0]); err != nil {
				return err
			}
			a.Attrs.FusedReLU, a.Attrs.OutScale = true, s
			r.FusedReLU++
			r.Int8Adds++
			continue
		}
		if s := m.commonInt8Scale(a); s > 0 {
			a.Attrs.OutScale = s
			r.Int8Adds++
		}
	}
	return nil
}
