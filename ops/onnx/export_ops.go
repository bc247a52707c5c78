package onnx

import (
	"fmt"
	"math"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/onnx/onnxpb"
)

// node writes the ONNX form of one qpipe node.
func (e *exporter) node(n *ops.Node) error {
	if n.Kind == ops.OpFakeQuant {
		return e.fakeQuant(n)
	}
	if n.Kind == ops.OpParam {
		if e.m.Param(n.Params["value"]) == nil {
			return fmt.Errorf("value parameter %q missing", n.Params["value"])
		}
		return nil // written when read (a quantized weight's codes replace it)
	}
	ins := make([]string, 0, len(n.Inputs))
	for _, id := range n.Inputs {
		if e.qweight[id] != nil && (n.Kind == ops.OpLinear || n.Kind == ops.OpConv2d) {
			ins = append(ins, "") // weights resolved by the layer's writer
			continue
		}
		name, err := e.input(id)
		if err != nil {
			return err
		}
		ins = append(ins, name)
	}
	out, err := e.write(n, ins)
	if err != nil {
		return err
	}
	e.names[n.ID] = out
	return nil
}

// write emits n's ONNX nodes and returns the name of its output.
func (e *exporter) write(n *ops.Node, in []string) (string, error) {
	a, hint := n.Attrs, sanitize(n.Name)
	unaries := map[ops.OpKind]string{ops.OpReLU: "Relu", ops.OpTanh: "Tanh", ops.OpSigmoid: "Sigmoid",
		ops.OpIdentity: "Identity", ops.OpDropout: "Identity", ops.OpHardswish: "HardSwish"}
	binaries := map[ops.OpKind]string{ops.OpAdd: "Add", ops.OpSub: "Sub", ops.OpMul: "Mul", ops.OpDiv: "Div"}
	if op, ok := unaries[n.Kind]; ok {
		return e.op(op, hint, in[:1]), nil
	}
	if op, ok := binaries[n.Kind]; ok {
		return e.op(op, hint, in[:2]), nil
	}
	switch n.Kind {
	case ops.OpLinear:
		return e.linear(n, in)
	case ops.OpConv2d:
		return e.conv(n, in)
	case ops.OpMatMul:
		return e.matmul(n, in)
	case ops.OpBatchNorm:
		return e.batchNorm(n, in)
	case ops.OpLayerNorm:
		return e.layerNorm(n, in)
	case ops.OpGELU:
		return e.gelu(hint, in[0]), nil
	case ops.OpGELUTanh:
		return e.geluTanh(hint, in[0]), nil
	case ops.OpSiLU:
		return e.op("Mul", hint, []string{in[0], e.op("Sigmoid", hint+"_sigmoid", in[:1])}), nil
	case ops.OpMaxPool2d, ops.OpAvgPool2d:
		return e.pool(n, in[0]), nil
	case ops.OpGlobalAvgPool:
		g := e.op("GlobalAveragePool", hint+"_pool", in[:1])
		return e.op("Flatten", hint, []string{g}, attrI("axis", 1)), nil
	case ops.OpScale:
		return e.op("Mul", hint, []string{in[0], e.scalar(hint+"_scale", a.Scale)}), nil
	case ops.OpSum:
		return e.op("ReduceSum", hint, []string{in[0], e.initInts(hint+"_axes", e.axes(n))}, attrI("keepdims", b2i(a.KeepDims))), nil
	case ops.OpMean:
		return e.op("ReduceMean", hint, in[:1], attrIs("axes", e.axes(n)), attrI("keepdims", b2i(a.KeepDims))), nil
	case ops.OpSoftmax:
		return e.op("Softmax", hint, in[:1], attrI("axis", a.Axis)), nil
	case ops.OpLogSoftmax:
		return e.op("LogSoftmax", hint, in[:1], attrI("axis", a.Axis)), nil
	case ops.OpReshape:
		return e.op("Reshape", hint, []string{in[0], e.initInts(hint+"_shape", a.Shape)}), nil
	case ops.OpFlatten:
		shape := make([]int, a.Axis+1)
		shape[a.Axis] = -1 // zeros copy the leading dimensions
		return e.op("Reshape", hint, []string{in[0], e.initInts(hint+"_shape", shape)}), nil
	case ops.OpPermute:
		return e.op("Transpose", hint, in[:1], attrIs("perm", a.Perm)), nil
	case ops.OpConcat:
		return e.op("Concat", hint, in, attrI("axis", a.Axis)), nil
	case ops.OpSlice:
		end := a.End
		if end == 0 {
			end = math.MaxInt32
		}
		return e.slice(hint, in[0], a.Axis, a.Start, end, orOne(a.Step)), nil
	case ops.OpRoll:
		return e.roll(n, in[0])
	case ops.OpAttention:
		return e.attention(n, in)
	case ops.OpWindowPartition:
		return e.windowPartition(n, in[0])
	case ops.OpWindowReverse:
		return e.windowReverse(n, in[0])
	case ops.OpExpandBatch:
		return e.expandBatch(n, in)
	}
	if out, ok := e.writeExt(n, in, hint); ok {
		return out, nil
	}
	return "", fmt.Errorf("kind %s has no ONNX export (supported: linear, conv2d, matmul, norms, activations, pooling, elementwise, reductions, softmax, reshape/permute/concat/slice/roll, attention, window partition/reverse, expand_batch, fake_quant)", n.Kind)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// axes returns a reduction's axes, all of them when empty.
func (e *exporter) axes(n *ops.Node) []int {
	if len(n.Attrs.Axes) > 0 {
		return n.Attrs.Axes
	}
	var all []int
	for i := range e.shapes[n.Inputs[0]] {
		all = append(all, i)
	}
	return all
}

func (e *exporter) slice(hint, x string, axis, start, end, step int) string {
	return e.op("Slice", hint, []string{x, e.initInts(hint+"_starts", []int{start}), e.initInts(hint+"_ends", []int{end}),
		e.initInts(hint+"_axes", []int{axis}), e.initInts(hint+"_steps", []int{step})})
}

// roll writes torch.roll's own export: per axis, Concat(x[n-s:], x[:n-s]).
func (e *exporter) roll(n *ops.Node, x string) (string, error) {
	shape, hint := e.shapes[n.Inputs[0]], sanitize(n.Name)
	for i, ax := range n.Attrs.Axes {
		if ax < 0 {
			ax += len(shape)
		}
		if i >= len(n.Attrs.Shifts) || ax < 0 || ax >= len(shape) {
			return "", fmt.Errorf("bad shifts %v for axes %v", n.Attrs.Shifts, n.Attrs.Axes)
		}
		size := shape[ax]
		k := ((size-n.Attrs.Shifts[i])%size + size) % size
		if k == 0 {
			continue
		}
		tail := e.slice(hint+"_tail", x, ax, k, size, 1)
		head := e.slice(hint+"_head", x, ax, 0, k, 1)
		x = e.op("Concat", hint, []string{tail, head}, attrI("axis", ax))
	}
	return x, nil
}

// weight returns the ONNX value of a layer's parameter role: the exposed
// input at slot (a fake-quantized or computed weight) or the parameter.
// transpose asks for the (in, out) layout of a linear weight.
func (e *exporter) weight(n *ops.Node, in []string, role string, slot int, transpose bool) (string, error) {
	if slot < len(n.Inputs) {
		id := n.Inputs[slot]
		if qw := e.qweight[id]; qw != nil {
			return e.dequantWeight(qw, transpose), nil
		}
		if !transpose {
			return in[slot], nil
		}
		return e.op("Transpose", sanitize(n.Name)+"_"+role+"_t", []string{in[slot]}, attrIs("perm", []int{1, 0})), nil
	}
	name := n.Params[role]
	if name == "" {
		return "", nil
	}
	init, _, err := e.param(name, transpose)
	return init, err
}

// linear: Gemm(transB) for 2-D inputs, MatMul with the (in, out) weight and
// Add otherwise, as PyTorch exports nn.Linear.
func (e *exporter) linear(n *ops.Node, in []string) (string, error) {
	hint := sanitize(n.Name)
	rank2 := len(e.shapes[n.Inputs[0]]) == 2
	w, err := e.weight(n, in, "weight", 1, !rank2)
	if err != nil {
		return "", err
	}
	b, err := e.layerBias(n, in)
	if err != nil {
		return "", err
	}
	if rank2 {
		args := []string{in[0], w}
		if b != "" {
			args = append(args, b)
		}
		return e.op("Gemm", hint, args, attrI("transB", 1)), nil
	}
	y := e.op("MatMul", hint+"_matmul", []string{in[0], w})
	if b == "" {
		return y, nil
	}
	return e.op("Add", hint, []string{y, b}), nil
}

func (e *exporter) conv(n *ops.Node, in []string) (string, error) {
	w, err := e.weight(n, in, "weight", 1, false)
	if err != nil {
		return "", err
	}
	b, err := e.layerBias(n, in)
	if err != nil {
		return "", err
	}
	ws := e.shapes[n.Inputs[1%len(n.Inputs)]]
	if len(n.Inputs) < 2 {
		ws = e.m.Param(n.Params["weight"]).Value.Shape
	}
	a := n.Attrs
	p, s, d := pair(a.Padding, 0), pair(a.Stride, 1), pair(a.Dilation, 1)
	for i := range 2 { // 0 means the default, 1 (ops.Builder leaves zeros)
		s[i], d[i] = max(s[i], 1), max(d[i], 1)
	}
	args := []string{in[0], w}
	if b != "" {
		args = append(args, b)
	}
	return e.op("Conv", sanitize(n.Name), args, attrIs("kernel_shape", ws[2:4]), attrIs("strides", s[:]),
		attrIs("pads", []int{p[0], p[1], p[0], p[1]}), attrIs("dilations", d[:]), attrI("group", max(a.Groups, 1))), nil
}

// layerBias returns a conv2d/linear bias: int32 codes behind
// DequantizeLinear when the layer runs on integers in ONNX Runtime (a
// Conv or Gemm whose every input is DequantizeLinear fuses into
// QLinearConv/QGemm), the float parameter otherwise (and for MatMul + Add,
// where the Add stays float).
func (e *exporter) layerBias(n *ops.Node, in []string) (string, error) {
	rank2 := n.Kind == ops.OpConv2d || len(e.shapes[n.Inputs[0]]) == 2
	if sa := e.integerLayer(n); sa != nil && rank2 {
		if b, ok := e.intBias(n, sa, e.qweight[n.Inputs[1]]); ok {
			return b, nil
		}
	}
	return e.weight(n, in, "bias", 2, false)
}

func pair(v []int, def int) [2]int {
	switch len(v) {
	case 0:
		return [2]int{def, def}
	case 1:
		return [2]int{v[0], v[0]}
	}
	return [2]int{v[0], v[1]}
}

func (e *exporter) matmul(n *ops.Node, in []string) (string, error) {
	hint := sanitize(n.Name)
	a, b := in[0], in[1]
	swapLast := func(x string, id int, tag string) string {
		r := len(e.shapes[id])
		perm := make([]int, r)
		for i := range perm {
			perm[i] = i
		}
		perm[r-1], perm[r-2] = r-2, r-1
		return e.op("Transpose", hint+tag, []string{x}, attrIs("perm", perm))
	}
	if n.Attrs.TransA {
		a = swapLast(a, n.Inputs[0], "_ta")
	}
	if n.Attrs.TransB {
		b = swapLast(b, n.Inputs[1], "_tb")
	}
	return e.op("MatMul", hint, []string{a, b}), nil
}

// normParam returns a norm's parameter, or a constant fill of c entries.
func (e *exporter) normParam(n *ops.Node, in []string, role string, slot, c int, fill float32) (string, error) {
	name, err := e.weight(n, in, role, slot, false)
	if err != nil || name != "" {
		return name, err
	}
	data := make([]float32, c)
	for i := range data {
		data[i] = fill
	}
	return e.initializer(sanitize(n.Name)+"_"+role, []int{c}, data), nil
}

func (e *exporter) batchNorm(n *ops.Node, in []string) (string, error) {
	c := e.shapes[n.Inputs[0]][1]
	args := []string{in[0]}
	for i, role := range []string{"weight", "bias", "running_mean", "running_var"} {
		fill := float32(0)
		if role == "weight" || role == "running_var" {
			fill = 1
		}
		v, err := e.normParam(n, in, role, i+1, c, fill)
		if err != nil {
			return "", err
		}
		args = append(args, v)
	}
	return e.op("BatchNormalization", sanitize(n.Name), args, attrF("epsilon", orEps(n.Attrs.Eps))), nil
}

func orEps(eps float32) float32 {
	if eps == 0 {
		return 1e-5
	}
	return eps
}

func (e *exporter) layerNorm(n *ops.Node, in []string) (string, error) {
	s := e.shapes[n.Inputs[0]]
	c := s[len(s)-1]
	w, err := e.normParam(n, in, "weight", 1, c, 1)
	if err != nil {
		return "", err
	}
	b, err := e.normParam(n, in, "bias", 2, c, 0)
	if err != nil {
		return "", err
	}
	return e.op("LayerNormalization", sanitize(n.Name), []string{in[0], w, b}, attrI("axis", -1), attrF("epsilon", orEps(n.Attrs.Eps))), nil
}

// gelu writes x·0.5·(1 + erf(x/√2)), PyTorch's own decomposition (opset
// 17 has no Gelu), which Import fuses back.
func (e *exporter) gelu(hint, x string) string {
	d := e.op("Div", hint+"_div", []string{x, e.scalar(hint+"_sqrt2", float32(math.Sqrt2))})
	erf := e.op("Erf", hint+"_erf", []string{d})
	p := e.op("Add", hint+"_add", []string{erf, e.scalar(hint+"_one", 1)})
	m := e.op("Mul", hint+"_mul", []string{x, p})
	return e.op("Mul", hint, []string{m, e.scalar(hint+"_half", 0.5)})
}

// geluTanh writes 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
func (e *exporter) geluTanh(hint, x string) string {
	sq := e.op("Mul", hint+"_sq", []string{x, x})
	cube := e.op("Mul", hint+"_cube", []string{x, sq})
	k := e.op("Mul", hint+"_kappa", []string{e.scalar(hint+"_kappa_c", 0.044715), cube})
	s := e.op("Add", hint+"_sum", []string{x, k})
	in := e.op("Mul", hint+"_inner", []string{e.scalar(hint+"_beta", float32(math.Sqrt(2/math.Pi))), s})
	th := e.op("Tanh", hint+"_tanh", []string{in})
	p := e.op("Add", hint+"_add", []string{e.scalar(hint+"_one", 1), th})
	m := e.op("Mul", hint+"_mul", []string{x, p})
	return e.op("Mul", hint, []string{e.scalar(hint+"_half", 0.5), m})
}

func (e *exporter) pool(n *ops.Node, x string) string {
	a := n.Attrs
	k, p := pair(a.Kernel, 0), pair(a.Padding, 0)
	s := pair(a.Stride, 0)
	if s[0] == 0 {
		s = k
	}
	attrs := []*onnxpb.AttributeProto{attrIs("kernel_shape", k[:]), attrIs("strides", s[:]), attrIs("pads", []int{p[0], p[1], p[0], p[1]})}
	if n.Kind == ops.OpAvgPool2d {
		return e.op("AveragePool", sanitize(n.Name), []string{x}, append(attrs, attrI("count_include_pad", b2i(a.CountPad)))...)
	}
	return e.op("MaxPool", sanitize(n.Name), []string{x}, attrs...)
}
