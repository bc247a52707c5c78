package compress

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/modelio"
)

// Packed storage of a quantized model (export safetensors).
//
// Each quantized layer's weight is written as "<weight>.codes", a U8
// tensor of its codes packed Bits bits each, little-endian within a byte
// (the first code in the low bits), zeros included, and "<weight>.scale"
// (F32, one per output channel or one per layer). Uniform codes are Bits-bit
// two's complement; log2 codes are sign (top bit) and magnitude m in the
// low Bits-1 bits: m = 0 is zero, otherwise the weight is
// ±scale·2^(m-1) (m-1 = K-k, the shift). The metadata entry "qpipe_codes"
// maps each weight to {"bits", "format" (uniform|log2), "shape"}. Every
// other parameter (biases, activation scales, norms, float layers) is F32;
// log2 masks and alphas are not written (the codes carry them).

// CodesMeta describes one packed weight.
type CodesMeta struct {
	Bits   int    `json:"bits"`
	Format string `json:"format"`
	Shape  []int  `json:"shape"`
}

// PackedTensors returns the packed export of a fake-quant model and its
// metadata.
func PackedTensors(m *ops.Model) ([]modelio.Tensor, map[string]string, error) {
	meta := map[string]CodesMeta{}
	skip := map[string]bool{}
	var out []modelio.Tensor
	for _, l := range quantizedLayers(m) {
		s := Site{l, RoleWeight}
		fq := siteQuantNode(m, s)
		w, err := quantInputValue(m, fq)
		if err != nil {
			return nil, nil, err
		}
		name := m.Node(fq.Inputs[0]).Params["value"]
		codes, scale, format, err := layerCodes(m, fq, w)
		if err != nil {
			return nil, nil, err
		}
		bits := fq.Attrs.Bits
		meta[name] = CodesMeta{Bits: bits, Format: format, Shape: slices.Clone(w.Shape)}
		packed := PackCodes(codes, bits)
		out = append(out, modelio.Tensor{Name: name + ".codes", Shape: []int{len(packed)}, U8: packed},
			modelio.Tensor{Name: name + ".scale", Shape: []int{len(scale)}, Data: scale})
		skip[name] = true
		for _, p := range fq.Params {
			skip[p] = true
		}
	}
	for _, p := range m.Params() {
		if !skip[p.Name] {
			out = append(out, modelio.Tensor{Name: p.Name, Shape: p.Value.Shape, Data: p.Value.Data})
		}
	}
	mj, err := json.Marshal(meta)
	if err != nil {
		return nil, nil, err
	}
	return out, map[string]string{"format": "qpipe-packed", "qpipe_model": m.Name, "qpipe_codes": string(mj)}, nil
}

// layerCodes are a weight's stored codes (log2: sign and magnitude m) and
// scales.
func layerCodes(m *ops.Model, fq *ops.Node, w *ops.Tensor) ([]uint32, []float32, string, error) {
	if fq.Kind == ops.OpLog2Quant {
		c, err := log2Codes(m, fq, w)
		if err != nil {
			return nil, nil, "", err
		}
		codes := make([]uint32, len(c.Sign))
		for i, sg := range c.Sign {
			switch sg {
			case 1:
				codes[i] = uint32(c.Shift[i]) + 1
			case -1:
				codes[i] = 1<<(c.Bits-1) | (uint32(c.Shift[i]) + 1)
			}
		}
		return codes, []float32{c.Scale}, "log2", nil
	}
	ip, err := exportFakeQuant(m, Site{layerOf(m, fq), RoleWeight})
	if err != nil {
		return nil, nil, "", err
	}
	mask := uint32(1)<<ip.Bits - 1
	codes := make([]uint32, w.Numel())
	for i, c := range uniformCodes(w, ip) {
		codes[i] = uint32(c) & mask
	}
	return codes, ip.Scale, "uniform", nil
}

// layerOf is the layer a weight quantizer feeds.
func layerOf(m *ops.Model, fq *ops.Node) *ops.Node {
	cs := m.Consumers(fq)
	if len(cs) == 0 {
		return nil
	}
	return cs[0]
}

// PackCodes packs codes of bits bits each (the low bits of each value),
// the first code in the low bits of the first byte.
func PackCodes(codes []uint32, bits int) []byte {
	out := make([]byte, (len(codes)*bits+7)/8)
	for i, c := range codes {
		for b := range bits {
			if c>>b&1 != 0 {
				p := i*bits + b
				out[p/8] |= 1 << (p % 8)
			}
		}
	}
	return out
}

// UnpackCodes is PackCodes' inverse for n codes.
func UnpackCodes(packed []byte, bits, n int) ([]uint32, error) {
	if len(packed) != (n*bits+7)/8 {
		return nil, fmt.Errorf("packed codes: %d bytes for %d codes of %d bits", len(packed), n, bits)
	}
	out := make([]uint32, n)
	for i := range out {
		for b := range bits {
			p := i*bits + b
			out[i] |= uint32(packed[p/8]>>(p%8)&1) << b
		}
	}
	return out, nil
}

// DecodeWeights turns one packed weight back into float values
// (code·scale, per output channel when there are several scales).
func DecodeWeights(packed []byte, scale []float32, cm CodesMeta) ([]float32, error) {
	n := ops.Numel(cm.Shape)
	codes, err := UnpackCodes(packed, cm.Bits, n)
	if err != nil {
		return nil, err
	}
	if len(scale) == 0 || (len(scale) != 1 && (len(cm.Shape) == 0 || len(scale) != cm.Shape[0])) {
		return nil, fmt.Errorf("packed codes: %d scales for shape %v", len(scale), cm.Shape)
	}
	per := n / len(scale)
	out := make([]float32, n)
	for i, c := range codes {
		s := scale[i/max(per, 1)]
		switch cm.Format {
		case "log2":
			mag := c & (1<<(cm.Bits-1) - 1)
			if mag == 0 {
				continue
			}
			v := float32(math.Ldexp(float64(s), int(mag)-1))
			if c>>(cm.Bits-1) != 0 {
				v = -v
			}
			out[i] = v
		case "uniform":
			q := int32(c<<(32-cm.Bits)) >> (32 - cm.Bits) // sign-extend
			out[i] = float32(q) * s
		default:
			return nil, fmt.Errorf("packed codes: unknown format %q", cm.Format)
		}
	}
	return out, nil
}
