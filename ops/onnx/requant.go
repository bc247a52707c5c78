package onnx

import (
	"fmt"
	"maps"

	"github.com/qpipe/qpipe/ops"
)

// RequantReport counts what RequantizeOutputs inserted.
type RequantReport struct {
	// Exact copies sit where moving a quantizer up cannot change a value:
	// before a chain of reshapes, flattens and max pools (a monotone
	// quantizer commutes with them, and quantizing twice with the same
	// parameters is quantizing once).
	Exact int
	// Requantized layer outputs: a conv2d/linear output (after its ReLU)
	// quantized with the next quantizer's parameters ahead of an average
	// pool. These change what the model computes (the pool averages codes
	// instead of floats), so qpipe's evaluation afterwards is the integer
	// runtime's, not the model's before the call.
	Requantized int
}

// RequantizeOutputs prepares a fake-quantized model for an integer
// runtime. ONNX Runtime turns Conv/Gemm/MatMul into QLinearConv/QGemm/
// QLinearMatMul only when the layer's output goes straight (or through a
// ReLU) into a QuantizeLinear, and an AveragePool into QLinearAveragePool
// only between DequantizeLinear and QuantizeLinear. For every activation
// fake_quant F with one scale (the input quantizer of the next layer),
// RequantizeOutputs walks up from F through single-consumer reshape,
// flatten, max-pool, identity and dropout nodes; at the first other node P
// it inserts a copy of F after P (exact) unless P is an average pool; when
// P is an average pool over a ReLU'd or plain output of a conv2d/linear, it
// inserts the copy after that output instead (the requantization qpipe
// then models too), and the pool runs in float between
// DequantizeLinear and F. Copies share F's
// scale and zero-point parameters and attributes. Call it before
// evaluating the model whose numbers the export must reproduce; Export
// writes the copies as QuantizeLinear/DequantizeLinear like any other
// fake_quant.
func RequantizeOutputs(m *ops.Model) (RequantReport, error) {
	var r RequantReport
	for _, f := range m.FindKind(ops.OpFakeQuant) {
		if !isActivationQuant(m, f) {
			continue
		}
		if sp := m.Param(f.Params["scale"]); sp == nil || sp.Value.Numel() != 1 {
			continue
		}
		p := m.Node(f.Inputs[0])
		for commutes(p.Kind) && len(m.Consumers(p)) == 1 && !isOutput(m, p) && len(p.Inputs) > 0 {
			p = m.Node(p.Inputs[0])
		}
		pool := p.Kind == ops.OpAvgPool2d || p.Kind == ops.OpGlobalAvgPool
		// No copy right after an average pool: ONNX Runtime's
		// QLinearAveragePool is slower than DequantizeLinear + the float
		// pool (0.65 ms vs 0.12 ms at batch 64 for the MNIST CNN).
		if p.ID != f.Inputs[0] && !pool && insertCopy(m, f, p) {
			r.Exact++
		}
		if !pool {
			continue
		}
		q := m.Node(p.Inputs[0])
		if single(m, q) && q.Kind == ops.OpReLU {
			if l := m.Node(q.Inputs[0]); single(m, l) && (l.Kind == ops.OpConv2d || l.Kind == ops.OpLinear) {
				if insertCopy(m, f, q) {
					r.Requantized++
				}
			}
		} else if single(m, q) && (q.Kind == ops.OpConv2d || q.Kind == ops.OpLinear) {
			if insertCopy(m, f, q) {
				r.Requantized++
			}
		}
	}
	if err := m.Validate(); err != nil {
		return r, fmt.Errorf("onnx: requantize outputs: %w", err)
	}
	return r, nil
}

// commutes: ops a monotone per-tensor quantizer passes through unchanged.
func commutes(k ops.OpKind) bool {
	switch k {
	case ops.OpReshape, ops.OpFlatten, ops.OpMaxPool2d, ops.OpIdentity, ops.OpDropout:
		return true
	}
	return false
}

func single(m *ops.Model, n *ops.Node) bool {
	return n != nil && len(m.Consumers(n)) == 1 && !isOutput(m, n)
}

func isOutput(m *ops.Model, n *ops.Node) bool {
	for _, o := range m.Outputs {
		if o == n.ID {
			return true
		}
	}
	return false
}

// isActivationQuant: a fake_quant whose input is not a constant weight.
func isActivationQuant(m *ops.Model, f *ops.Node) bool {
	if f.Kind != ops.OpFakeQuant || len(f.Inputs) == 0 {
		return false
	}
	src := m.Node(f.Inputs[0])
	return src != nil && src.Kind != ops.OpParam
}

// insertCopy places a copy of fake_quant f after p unless p's only reader
// is already a fake_quant with f's parameters.
func insertCopy(m *ops.Model, f, p *ops.Node) bool {
	if cs := m.Consumers(p); len(cs) == 1 && cs[0].Kind == ops.OpFakeQuant && cs[0].Params["scale"] == f.Params["scale"] {
		return false
	}
	name := f.Name + ".at_" + p.Name
	for i := 1; m.NodeByName(name) != nil; i++ {
		name = fmt.Sprintf("%s.at_%s_%d", f.Name, p.Name, i)
	}
	c := &ops.Node{Kind: ops.OpFakeQuant, Name: name, Attrs: f.Attrs, Params: maps.Clone(f.Params)}
	c.Attrs.Tag = "output"
	m.InsertAfter(p, c)
	return true
}
