package compress

import (
	"fmt"
	"math"

	"github.com/qpipe/qpipe/ops"
)

// ONNX representations of quantized weights (export onnx representation=).
const (
	ReprAuto        = "auto"        // QDQ for int8/uniform, dequantized for log2
	ReprDequantized = "dequantized" // float weights equal to the quantized values
	ReprQDQ         = "qdq"         // int8 codes with DequantizeLinear
)

// ONNXForm returns the model ONNX export writes for m (m is left as it
// is). ONNX has no power-of-two type, so a log2 weight quantizer becomes
// either its dequantized values (exact, a float weight) or, for QDQ, a
// uniform fake_quant with codes ±2^(K-k) and scale tau·2^-K (exact when
// the codes fit int8: bits ≤ 4; wider log2 layers are dequantized and
// listed in the returned note). representation=dequantized folds every
// weight quantizer, uniform ones included; activation quantizers stay
// (they export as QuantizeLinear/DequantizeLinear pairs).
func ONNXForm(m *ops.Model, representation string) (*ops.Model, string, error) {
	out := m.Clone()
	var widened []string
	for _, l := range quantizedLayers(out) {
		s := Site{l, RoleWeight}
		fq := siteQuantNode(out, s)
		fold := representation == ReprDequantized || (fq.Kind == ops.OpLog2Quant && representation != ReprQDQ)
		if fq.Kind == ops.OpLog2Quant && !fold && ops.Log2MaxShift(fq.Attrs.Bits) > 6 {
			fold = true
			widened = append(widened, l.Name)
		}
		var err error
		switch {
		case fold:
			err = foldWeightQuantizer(out, s)
		case fq.Kind == ops.OpLog2Quant:
			err = log2AsFakeQuant(out, s)
		}
		if err != nil {
			return nil, "", err
		}
	}
	note := ""
	if len(widened) > 0 {
		note = fmt.Sprintf("%d log2 layers wider than 4 bits exported dequantized (int8 QDQ cannot hold their levels)", len(widened))
	}
	return out, note, out.Validate()
}

// materialise writes a layer's quantized weight values (code·scale) into
// its weight parameter and returns the codes' parameters.
func materialise(m *ops.Model, s Site) (IntParams, error) {
	fq := siteQuantNode(m, s)
	w, err := quantInputValue(m, fq)
	if err != nil {
		return IntParams{}, err
	}
	if fq.Kind == ops.OpLog2Quant {
		c, err := log2Codes(m, fq, w)
		if err != nil {
			return IntParams{}, err
		}
		K := ops.Log2MaxShift(c.Bits)
		for i, sg := range c.Sign {
			w.Data[i] = float32(sg) * float32(math.Ldexp(float64(c.Scale), int(c.Shift[i])))
		}
		return IntParams{Bits: c.Bits, QMin: -(1 << min(K, 30)), QMax: 1 << min(K, 30), Scale: []float32{c.Scale}}, nil
	}
	ip, err := exportFakeQuant(m, s)
	if err != nil {
		return ip, err
	}
	per := w.Numel() / len(ip.Scale)
	if len(ip.Scale) == 1 {
		per = w.Numel()
	}
	for i, c := range uniformCodes(w, ip) {
		w.Data[i] = float32(c) * ip.Scale[min(i/max(per, 1), len(ip.Scale)-1)]
	}
	return ip, nil
}

// foldWeightQuantizer replaces a weight quantizer by its output values.
func foldWeightQuantizer(m *ops.Model, s Site) error {
	if _, err := materialise(m, s); err != nil {
		return err
	}
	fq := siteQuantNode(m, s)
	if err := m.Bypass(fq); err != nil {
		return err
	}
	return removeNodeParams(m, fq)
}

// log2AsFakeQuant turns a log2_quant node into the uniform fake_quant
// with the same output: weights code·scale, codes ±2^(K-k) in [-2^K, 2^K].
func log2AsFakeQuant(m *ops.Model, s Site) error {
	ip, err := materialise(m, s)
	if err != nil {
		return err
	}
	fq := siteQuantNode(m, s)
	old := fq.Params
	name := fq.Name + ".scale"
	if _, err := m.AddParam(name, ops.MustFromData(ip.Scale, 1), false); err != nil {
		return err
	}
	fq.Kind, fq.Params = ops.OpFakeQuant, map[string]string{"scale": name}
	fq.Attrs = ops.Attrs{QMin: float32(ip.QMin), QMax: float32(ip.QMax), Bits: ip.Bits, Tag: RoleWeight}
	for _, p := range old {
		if err := m.RemoveParam(p); err != nil {
			return err
		}
	}
	m.Invalidate()
	return nil
}

// removeNodeParams drops the parameters a removed node owned.
func removeNodeParams(m *ops.Model, n *ops.Node) error {
	for _, p := range n.Params {
		if err := m.RemoveParam(p); err != nil {
			return err
		}
	}
	return nil
}
