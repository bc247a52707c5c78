package compress

import (
	"fmt"
	"math"

	"github.com/qpipe/qpipe/ops"
)

// foldBatchNormsInt8 folds each batch norm that is the only reader of an
// int8 convolution (after detachQuantizers: weight and "weight_scale"
// bound by name) into it, so the integer engine applies the norm in the
// convolution's epilogue and a ReLU behind it fuses too. With
// g_c = γ_c/√(var_c+ε), channel c's weight and weight scale are both
// multiplied by g_c — the codes round(W/s_w) stay the quantizer's — and
// the bias becomes (b_c − mean_c)·g_c + β_c: the same values as
// conv-then-norm of the fake-quant model up to float rounding. The norm
// node is removed. It returns how many it folded.
func foldBatchNormsInt8(m *ops.Model, int8Convs map[string]float32) (int, error) {
	folded := 0
	for _, bn := range m.FindKind(ops.OpBatchNorm) {
		if len(bn.Inputs) != 1 {
			continue
		}
		conv := m.Node(bn.Inputs[0])
		if _, ok := int8Convs[conv.Name]; !ok || conv.Kind != ops.OpConv2d || len(m.Consumers(conv)) != 1 || isModelOutput(m, conv) {
			continue
		}
		if err := foldNormInt8(m, conv, bn); err != nil {
			return folded, err
		}
		folded++
	}
	return folded, nil
}

func isModelOutput(m *ops.Model, n *ops.Node) bool {
	for _, id := range m.Outputs {
		if id == n.ID {
			return true
		}
	}
	return false
}

// foldNormInt8 folds bn into conv (see foldBatchNormsInt8).
func foldNormInt8(m *ops.Model, conv, bn *ops.Node) error {
	get := func(n *ops.Node, role string) *ops.Tensor {
		if p := m.Param(n.Params[role]); p != nil {
			return p.Value
		}
		return nil
	}
	w, sw := get(conv, "weight"), get(conv, "weight_scale")
	mean, variance := get(bn, "running_mean"), get(bn, "running_var")
	if w == nil || sw == nil || mean == nil || variance == nil {
		return fmt.Errorf("quantize: cannot fold batch norm %s into int8 layer %s: a parameter is missing", bn.Name, conv.Name)
	}
	out := w.Shape[0]
	if mean.Numel() != out || variance.Numel() != out || sw.Numel() != out {
		return fmt.Errorf("quantize: batch norm %s over %d channels after int8 layer %s with %d", bn.Name, mean.Numel(), conv.Name, out)
	}
	gamma, beta, bias := get(bn, "weight"), get(bn, "bias"), get(conv, "bias")
	eps := float64(bn.Attrs.Eps)
	if eps == 0 {
		eps = 1e-5
	}
	nw, nsw, nb := w.Clone(), sw.Clone(), ops.New(out)
	per := w.Numel() / out
	for c := range out {
		g := 1 / math.Sqrt(float64(variance.Data[c])+eps)
		if gamma != nil {
			g *= float64(gamma.Data[c])
		}
		if g == 0 || math.IsNaN(g) || math.IsInf(g, 0) {
			return fmt.Errorf("quantize: batch norm %s channel %d scales by %v; cannot fold it into int8 layer %s", bn.Name, c, g, conv.Name)
		}
		row := nw.Data[c*per:][:per]
		for i, v := range row {
			row[i] = float32(float64(v) * g)
		}
		nsw.Data[c] = float32(float64(sw.Data[c]) * g)
		b := -float64(mean.Data[c])
		if bias != nil {
			b += float64(bias.Data[c])
		}
		b *= g
		if beta != nil {
			b += float64(beta.Data[c])
		}
		nb.Data[c] = float32(b)
	}
	for role, v := range map[string]*ops.Tensor{"weight": nw, "weight_scale": nsw} {
		m.Param(conv.Params[role]).Value = v
	}
	if bias != nil {
		m.Param(conv.Params["bias"]).Value = nb
	} else {
		name := conv.Name + ".bias"
		if _, err := m.AddParam(name, nb, false); err != nil {
			return err
		}
		conv.Params["bias"] = name
	}
	if err := m.Bypass(bn); err != nil {
		return err
	}
	return removeNodeParams(m, bn)
}
