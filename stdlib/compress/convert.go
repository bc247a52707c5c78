package compress

import (
	"fmt"
	"maps"
	"slices"

	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
)

// IntegerResult says what ToInteger built.
type IntegerResult struct {
	ops.Int8Report
	FoldedNorms int // batch norms folded into an int8 conv's epilogue
	Model       *ops.Model
}

// ToInteger returns the integer-engine version of a fake-quant model (int8,
// or low-bit from QuantizeLowBit: codes narrower than int8 ride the int8
// kernels, with each layer's input codes clamped to its range and log2
// weights as the exact small integers ±2^(K-k))
// (m is left as it is): each linear/conv2d layer with an int8 input and
// weight quantizer becomes a qlinear/qconv2d node whose input scale is the
// activation quantizer's and whose "weight_scale" parameter holds the
// weight quantizer's scales; the fake-quant nodes go. A batch norm that
// is an int8 conv's only reader is folded into it (foldBatchNormsInt8).
// ops.ConvertInt8 then
// fuses a ReLU that is a layer's only consumer into its epilogue and lets
// layers whose consumers are all int8 layers requantize straight into
// them. An attention node with an int8 quantizer on its fused qkv input
// becomes qattention (int8 Q·Kᵀ and P·V, float softmax) when its output
// feeds int8 layers. A residual add (with the ReLU after it) whose output
// feeds int8 layers writes int8 codes in their scale, reading the block
// input's codes and the last convolution's float output channel-last
// (ops.ConvertInt8). Everything else (layer norm, GELU, the other adds)
// runs in float on dequantized values. A fake-quant node that is not an int8
// layer's input or weight quantizer is an error.
func ToInteger(m *ops.Model, span source.Span) (IntegerResult, error) {
	out := m.Clone()
	scales := map[string]float32{}
	for _, n := range out.FindKind(ops.OpLinear, ops.OpConv2d) {
		s, ok, err := detachQuantizers(out, n)
		if err != nil {
			return IntegerResult{}, err
		}
		if ok {
			scales[n.Name] = s
		}
	}
	for _, n := range out.FindKind(ops.OpAttention) {
		s, ok, err := detachInputQuantizer(out, n)
		if err != nil {
			return IntegerResult{}, err
		}
		if ok {
			scales[n.Name] = s
		}
	}
	if left := out.FindKind(ops.OpFakeQuant, ops.OpLog2Quant); len(left) > 0 {
		return IntegerResult{}, fmt.Errorf("quantize: %s is not an int8 layer's input or weight quantizer; the integer engine cannot run it", left[0].Name)
	}
	if len(scales) == 0 {
		return IntegerResult{}, fmt.Errorf("quantize: model %s has no int8-quantized layer (run quantize int8 first)", m.Name)
	}
	folded, err := foldBatchNormsInt8(out, scales)
	if err != nil {
		return IntegerResult{}, err
	}
	rep, err := out.ConvertInt8(ops.Int8Options{InputScales: scales, Span: span})
	return IntegerResult{Int8Report: rep, FoldedNorms: folded, Model: out}, err
}

// detachQuantizers removes layer n's input and weight fake-quant nodes,
// returning the input scale and setting the "weight_scale" parameter. ok
// is false for a layer without quantizers.
func detachQuantizers(m *ops.Model, n *ops.Node) (scale float32, ok bool, err error) {
	in, wq := Site{n, RoleInput}, Site{n, RoleWeight}
	if siteQuantNode(m, in) == nil && siteQuantNode(m, wq) == nil {
		return 0, false, nil
	}
	ip, err := exportFakeQuant(m, in)
	if err != nil {
		return 0, false, err
	}
	wp, _, err := weightCodes(m, wq)
	if err != nil {
		return 0, false, err
	}
	if ip.QMin < -128 || ip.QMax > 127 || len(ip.Scale) != 1 || wp.QMax > 127 || wp.QMin < -128 {
		return 0, false, fmt.Errorf("quantize: layer %s (input codes [%d, %d], weight codes [%d, %d]): %w", n.Name, ip.QMin, ip.QMax, wp.QMin, wp.QMax, ErrWideCodes)
	}
	if err := lowBitWeights(m, n, wp); err != nil {
		return 0, false, err
	}
	if err := setWeightScale(m, n, wp.Scale); err != nil {
		return 0, false, err
	}
	if err := removeWeightPath(m, n); err != nil {
		return 0, false, err
	}
	n.Attrs.Bits = wp.Bits
	if ip.QMin != -128 || ip.QMax != 127 {
		n.Attrs.QMin, n.Attrs.QMax = float32(ip.QMin), float32(ip.QMax)
	}
	fq := siteQuantNode(m, in)
	if err := m.Bypass(fq); err != nil {
		return 0, false, err
	}
	return ip.Scale[0], true, removeNodeParams(m, fq)
}

// lowBitWeights replaces a low-bit layer's weight (narrower than int8, or
// log2) by its quantized values code·scale, so the integer engine's
// round(W/scale) reads back exactly the quantizer's codes (clipping and
// pruning included) and wp.Scale holds one scale per channel or tensor.
// Int8 weights stay as they are (the engine quantizes them with the
// trained scales over the full int8 range).
func lowBitWeights(m *ops.Model, n *ops.Node, wp IntParams) error {
	fq := siteQuantNode(m, Site{n, RoleWeight})
	if fq.Kind != ops.OpLog2Quant && wp.Bits >= 8 {
		return nil
	}
	if fq.Kind == ops.OpLog2Quant {
		n.Attrs.Tag = "log2"
	}
	_, err := materialise(m, Site{n, RoleWeight})
	return err
}

// detachInputQuantizer removes an attention node's int8 input quantizer
// and returns its scale; ok is false when it has none.
func detachInputQuantizer(m *ops.Model, n *ops.Node) (scale float32, ok bool, err error) {
	fq := siteQuantNode(m, Site{n, RoleInput})
	if fq == nil {
		return 0, false, nil
	}
	ip, err := exportFakeQuant(m, Site{n, RoleInput})
	if err != nil {
		return 0, false, err
	}
	if ip.QMin != -128 || ip.QMax != 127 || len(ip.Scale) != 1 {
		return 0, false, fmt.Errorf("quantize: %s input is not int8 per tensor (codes [%d, %d], %d scales)", n.Name, ip.QMin, ip.QMax, len(ip.Scale))
	}
	if err := m.Bypass(fq); err != nil {
		return 0, false, err
	}
	return ip.Scale[0], true, removeNodeParams(m, fq)
}

// setWeightScale binds the per-channel weight scales (a per-tensor scale
// is repeated per channel) as the layer's "weight_scale" parameter.
func setWeightScale(m *ops.Model, n *ops.Node, s []float32) error {
	w := m.Param(n.Params["weight"])
	if w == nil {
		return fmt.Errorf("quantize: layer %s has no weight", n.Name)
	}
	outC := w.Value.Shape[0]
	if len(s) != 1 && len(s) != outC {
		return fmt.Errorf("quantize: layer %s: %d weight scales for %d output channels", n.Name, len(s), outC)
	}
	vals := make([]float32, outC)
	for j := range vals {
		vals[j] = s[min(j, len(s)-1)]
	}
	name := n.Name + ".weight_scale"
	if _, err := m.AddParam(name, ops.MustFromData(vals, outC), false); err != nil {
		return err
	}
	n.Params["weight_scale"] = name
	return nil
}

// removeWeightPath drops the param → fake_quant nodes feeding the layer's
// weight slot (and the scale parameter), binding the weight by name again.
func removeWeightPath(m *ops.Model, n *ops.Node) error {
	fq := siteQuantNode(m, Site{n, RoleWeight})
	pn := m.Node(fq.Inputs[0])
	for _, x := range []*ops.Node{fq, pn} {
		if len(m.Consumers(x)) > 1 {
			return fmt.Errorf("quantize: %s feeds more than layer %s", x.Name, n.Name)
		}
	}
	if len(n.Inputs) > 2 {
		return fmt.Errorf("quantize: layer %s has its bias bound to a node; the int8 engine needs it as a parameter", n.Name)
	}
	n.Inputs = n.Inputs[:1]
	keep := m.Nodes[:0]
	for _, x := range m.Nodes {
		if x != fq && x != pn {
			keep = append(keep, x)
		}
	}
	m.Nodes = keep
	m.Invalidate()
	for _, role := range slices.Sorted(maps.Keys(fq.Params)) { // scale; log2: alpha and mask
		if err := m.RemoveParam(fq.Params[role]); err != nil {
			return err
		}
	}
	return nil
}

// Int8Bytes is the storage of an integer-engine model with its weight
// codes packed: Bits bits per weight of a qlinear/qconv2d layer (8 for an
// int8 layer; 3 for a 3-bit log2 or uniform layer, zeros included),
// rounded up to whole bytes per layer, and four bytes per other parameter
// value (biases, weight scales, norms, float layers).
func Int8Bytes(m *ops.Model) int64 {
	total, _ := PackedBytes(m)
	return total
}

// PackedBytes is Int8Bytes and, of it, the bytes of packed weight codes.
// On a fake-quant model (one whose codes are too wide for the integer
// engine) it counts the same: quantized weights at their bits, log2 masks
// not at all (the zero codes carry them), scales and alphas as floats.
func PackedBytes(m *ops.Model) (total, codes int64) {
	bits := map[string]int{}
	for _, n := range m.FindKind(ops.OpQLinear, ops.OpQConv2d) {
		bits[n.Params["weight"]] = orDefaultInt(n.Attrs.Bits, 8)
	}
	for _, l := range quantizedLayers(m) {
		fq := siteQuantNode(m, Site{l, RoleWeight})
		bits[m.Node(fq.Inputs[0]).Params["value"]] = fq.Attrs.Bits
		if mk := fq.Params["mask"]; mk != "" {
			bits[mk] = 0
		}
	}
	for _, p := range m.Params() {
		if b, ok := bits[p.Name]; ok {
			c := (int64(p.Value.Numel())*int64(b) + 7) / 8
			total, codes = total+c, codes+c
			continue
		}
		total += 4 * int64(p.Value.Numel())
	}
	return total, codes
}
