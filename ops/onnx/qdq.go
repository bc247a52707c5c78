package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/onnx/onnxpb"
)

// qWeight is a fake-quantized constant weight: its integer codes are
// computed here exactly as qpipe's fake_quant computes them and stored as
// an int8/uint8 initializer; readers get DequantizeLinear of it.
type qWeight struct {
	hint     string
	codes    []float32 // integer codes, row-major in shape
	shape    []int
	scale    []float32
	zero     []float32
	axis     int
	unsigned bool
	written  map[bool]string // layout (transposed) → dequantized value
}

// quantRange maps a fake_quant range onto an ONNX 8-bit type.
func quantRange(a ops.Attrs) (unsigned bool, err error) {
	switch {
	case a.QMin >= 0 && a.QMax <= 255:
		return true, nil
	case a.QMin >= -128 && a.QMax <= 127:
		return false, nil
	}
	return false, fmt.Errorf("integer range [%v, %v] does not fit 8 bits; ONNX QDQ export holds codes of at most 8 bits", a.QMin, a.QMax)
}

// quantParams returns a fake_quant node's scale and zero point.
func (e *exporter) quantParams(n *ops.Node) (scale, zero []float32, err error) {
	sp := e.m.Param(n.Params["scale"])
	if sp == nil {
		return nil, nil, fmt.Errorf("scale parameter missing")
	}
	scale = sp.Value.Data
	zero = make([]float32, len(scale))
	if zn := n.Params["zero_point"]; zn != "" {
		zp := e.m.Param(zn)
		if zp == nil || zp.Value.Numel() != len(scale) {
			return nil, nil, fmt.Errorf("zero point parameter %q missing or of the wrong size", zn)
		}
		copy(zero, zp.Value.Data)
	}
	for i, s := range scale {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return nil, nil, fmt.Errorf("scale %v is not a positive finite number", s)
		}
		if zero[i] != float32(math.Round(float64(zero[i]))) {
			return nil, nil, fmt.Errorf("zero point %v is not an integer", zero[i])
		}
	}
	return scale, zero, nil
}

// fakeQuant exports a fake_quant node: on a constant weight (a param
// node) the codes become an initializer, dequantized where read; on an
// activation a QuantizeLinear/DequantizeLinear pair, with a Clip first
// when the code range is narrower than the 8-bit type's.
func (e *exporter) fakeQuant(n *ops.Node) error {
	unsigned, err := quantRange(n.Attrs)
	if err != nil {
		return err
	}
	scale, zero, err := e.quantParams(n)
	if err != nil {
		return err
	}
	src := e.m.Node(n.Inputs[0])
	shape := e.shapes[src.ID]
	axis := n.Attrs.Axis
	if axis < 0 {
		axis += len(shape)
	}
	if len(scale) > 1 && (axis < 0 || axis >= len(shape) || shape[axis] != len(scale)) {
		return fmt.Errorf("per-channel scale of %d entries does not match axis %d of %v", len(scale), n.Attrs.Axis, shape)
	}
	if src.Kind == ops.OpParam && len(e.m.Consumers(src)) == 1 {
		p := e.m.Param(src.Params["value"])
		if p == nil {
			return fmt.Errorf("weight parameter %q missing", src.Params["value"])
		}
		e.qweight[n.ID] = &qWeight{hint: p.Name, codes: quantCodes(p.Value, scale, zero, axis, n.Attrs), shape: p.Value.Shape,
			scale: scale, zero: zero, axis: axis, unsigned: unsigned, written: map[bool]string{}}
		return nil
	}
	x, err := e.input(src.ID)
	if err != nil {
		return err
	}
	hint := sanitize(n.Name)
	// Activations are written as uint8 (ONNX Runtime's x86 integer kernels
	// take U8 activations with S8 weights): a signed code range moves up by
	// 128 with the zero point, which changes no dequantized value.
	qmin, qmax := n.Attrs.QMin, n.Attrs.QMax
	z := zero
	if !unsigned {
		qmin, qmax = qmin+128, qmax+128
		z = make([]float32, len(zero))
		for i, v := range zero {
			z[i] = v + 128
		}
	}
	e.actScale[n.ID] = scale
	var attrs []*onnxpb.AttributeProto
	if len(scale) > 1 {
		attrs = append(attrs, attrI("axis", axis))
	}
	if len(scale) == 1 && src.Kind == ops.OpReLU && e.reluOfIntegerLayer(src) && z[0] >= qmin && z[0] <= qmax {
		// Relu → Q(zero point 0) lets ONNX Runtime fuse the ReLU into the
		// layer's QLinearConv/QGemm; requantizing to the node's own zero
		// point then clamps at its top code. Exact: a ReLU'd value quantized
		// with zero point 0 and the same scale has the same code above 0.
		s0, z0 := e.qparams(hint+"_relu", scale, []float32{0}, true)
		q0 := e.op("QuantizeLinear", hint+"_relu_q", []string{x, s0, z0})
		x = e.op("DequantizeLinear", hint+"_relu_dq", []string{q0, s0, z0})
	}
	if qmin > 0 || qmax < 255 {
		if len(scale) != 1 {
			return fmt.Errorf("a per-channel activation range narrower than 8 bits is not supported")
		}
		x = e.op("Clip", hint+"_clip", []string{x, e.scalar(hint+"_lo", (qmin-z[0])*scale[0]),
			e.scalar(hint+"_hi", (qmax-z[0])*scale[0])})
	}
	s, zp := e.qparams(hint, scale, z, true)
	q := e.op("QuantizeLinear", hint+"_q", []string{x, s, zp}, attrs...)
	e.names[n.ID] = e.op("DequantizeLinear", hint, []string{q, s, zp}, attrs...)
	return nil
}

// reluOfIntegerLayer: r is a ReLU read only by the quantizer being written,
// fed by a conv2d/linear that exports with integer input and weights.
func (e *exporter) reluOfIntegerLayer(r *ops.Node) bool {
	l := e.m.Node(r.Inputs[0])
	if l == nil || len(e.m.Consumers(r)) != 1 || len(e.m.Consumers(l)) != 1 || e.integerLayer(l) == nil {
		return false
	}
	// A convolution over fewer than 4 input channels stays float: ONNX
	// Runtime's QLinearConv is several times slower there than its float
	// NCHWc convolution (MNIST CNN conv1, 1 → 8 channels, batch 64:
	// 1.66 ms vs 0.25 ms).
	if s := e.shapes[l.Inputs[0]]; l.Kind == ops.OpConv2d && len(s) == 4 && s[1] < 4 {
		return false
	}
	return true
}

// integerLayer returns the per-tensor input scale of a conv2d/linear whose
// input is an activation fake_quant and whose weight is a fake-quantized
// constant (the layers ONNX Runtime runs in integer kernels), else nil.
func (e *exporter) integerLayer(l *ops.Node) []float32 {
	if (l.Kind != ops.OpConv2d && l.Kind != ops.OpLinear) || len(l.Inputs) < 2 || e.qweight[l.Inputs[1]] == nil {
		return nil
	}
	if s := e.actScale[l.Inputs[0]]; len(s) == 1 {
		return s
	}
	return nil
}

// intBias writes a layer's float bias as int32 codes round(b / (s_a·s_w))
// with DequantizeLinear (scale s_a·s_w per output channel, zero point 0),
// the bias form QLinearConv and QGemm take. The rounding moves a bias by
// at most half an accumulator step, s_a·s_w/2.
func (e *exporter) intBias(n *ops.Node, sa []float32, qw *qWeight) (string, bool) {
	name := n.Params["bias"]
	if name == "" || len(n.Inputs) > 2 {
		return "", false
	}
	p := e.m.Param(name)
	if p == nil || p.Value.Dims() != 1 {
		return "", false
	}
	c := p.Value.Numel()
	scales := make([]float32, c)
	raw := make([]byte, 4*c)
	for i, b := range p.Value.Data {
		sw := qw.scale[0]
		if len(qw.scale) > 1 {
			if len(qw.scale) != c {
				return "", false
			}
			sw = qw.scale[i]
		}
		scales[i] = sa[0] * sw
		v := math.RoundToEven(float64(b) / float64(scales[i]))
		if v > math.MaxInt32 || v < math.MinInt32 {
			return "", false
		}
		binary.LittleEndian.PutUint32(raw[4*i:], uint32(int32(v)))
	}
	hint := sanitize(name)
	q := e.unique(hint + "_quantized")
	e.g.Initializer = append(e.g.Initializer, &onnxpb.TensorProto{Name: ptr(q), Dims: []int64{int64(c)},
		DataType: ptr(int32(onnxpb.TensorProto_INT32)), RawData: raw})
	s := e.initializer(hint+"_scale", []int{c}, scales)
	return e.op("DequantizeLinear", hint+"_dequantized", []string{q, s}, attrI("axis", 0)), true
}

// quantCodes computes clamp(roundHalfEven(w/s)+z, QMin, QMax) per channel,
// as ops.FakeQuant does.
func quantCodes(w *ops.Tensor, scale, zero []float32, axis int, a ops.Attrs) []float32 {
	codes := make([]float32, len(w.Data))
	inner, dim := 1, 1
	if len(scale) > 1 {
		dim = w.Shape[axis]
		inner = ops.Numel(w.Shape[axis+1:])
	}
	for i, v := range w.Data {
		c := (i / inner) % dim
		q := float32(math.RoundToEven(float64(v/scale[c]))) + zero[c]
		codes[i] = min(max(q, a.QMin), a.QMax)
	}
	return codes
}

// qparams writes a scale (scalar or 1-D) and a zero point of the 8-bit type.
func (e *exporter) qparams(hint string, scale, zero []float32, unsigned bool) (string, string) {
	shape := []int{len(scale)}
	if len(scale) == 1 {
		shape = []int{}
	}
	s := e.initializer(hint+"_scale", shape, scale)
	z := e.int8Init(hint+"_zero_point", shape, zero, unsigned)
	return s, z
}

// int8Init adds an int8 (or uint8) tensor of integer values.
func (e *exporter) int8Init(hint string, shape []int, vals []float32, unsigned bool) string {
	name := e.unique(sanitize(hint))
	raw := make([]byte, len(vals))
	for i, v := range vals {
		if unsigned {
			raw[i] = byte(uint8(v))
		} else {
			raw[i] = byte(int8(v))
		}
	}
	dt := onnxpb.TensorProto_INT8
	if unsigned {
		dt = onnxpb.TensorProto_UINT8
	}
	e.g.Initializer = append(e.g.Initializer, &onnxpb.TensorProto{Name: ptr(name), Dims: dims64(shape), DataType: ptr(int32(dt)), RawData: raw})
	return name
}

// dequantWeight writes (once per layout) DequantizeLinear of a quantized
// weight; transposed swaps a matrix to (in, out) with the channel axis.
func (e *exporter) dequantWeight(qw *qWeight, transposed bool) string {
	if name, ok := qw.written[transposed]; ok {
		return name
	}
	codes, shape, axis := qw.codes, qw.shape, qw.axis
	hint := qw.hint
	if transposed {
		codes, shape, axis = transpose2(codes, shape[0], shape[1]), []int{shape[1], shape[0]}, 1-axis
		hint += "_t"
	}
	q := e.int8Init(hint+"_quantized", shape, codes, qw.unsigned)
	s, z := e.qparams(hint, qw.scale, qw.zero, qw.unsigned)
	var attrs []*onnxpb.AttributeProto
	if len(qw.scale) > 1 {
		attrs = append(attrs, attrI("axis", axis))
	}
	name := e.op("DequantizeLinear", hint+"_dequantized", []string{q, s, z}, attrs...)
	qw.written[transposed] = name
	return name
}
