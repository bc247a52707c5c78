package onnx

import (
	"fmt"
	"math"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/onnx/onnxpb"
)

// Converters for the arithmetic and neural-network ops.

func binaryOp(kind ops.OpKind) convFunc {
	return func(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
		a, b := in[0], in[1]
		if attrInt(n, "broadcast", 0) == 1 && attr(n, "axis") != nil { // opset < 7: b aligned at axis
			var err error
			if b, err = legacyBroadcast(a, b, attrInt(n, "axis", 0)); err != nil {
				return nil, err
			}
		}
		if a.k != nil && b.k != nil {
			k, err := broadcastK(a.k, b.k, foldBinary(kind, a.k.isInt && b.k.isInt))
			if err != nil {
				return nil, err
			}
			return kv(k), nil
		}
		if b.k != nil && b.k.numel() == 1 && ops.Numel(a.shape()) >= 1 && len(b.k.shape) <= len(a.shape()) {
			switch kind {
			case ops.OpMul:
				return one(im.emit(n, ops.OpScale, ops.Attrs{Scale: float32(b.k.data[0])}, nil, a))
			case ops.OpDiv:
				return one(im.emit(n, ops.OpScale, ops.Attrs{Scale: float32(1 / b.k.data[0])}, nil, a))
			}
		}
		if a.k != nil && a.k.numel() == 1 && kind == ops.OpMul && len(a.k.shape) <= len(b.shape()) {
			return one(im.emit(n, ops.OpScale, ops.Attrs{Scale: float32(a.k.data[0])}, nil, b))
		}
		return one(im.emit(n, kind, ops.Attrs{}, nil, a, b))
	}
}

func foldBinary(kind ops.OpKind, isInt bool) func(x, y float64) float64 {
	switch kind {
	case ops.OpAdd:
		return func(x, y float64) float64 { return x + y }
	case ops.OpSub:
		return func(x, y float64) float64 { return x - y }
	case ops.OpMul:
		return func(x, y float64) float64 { return x * y }
	}
	if isInt {
		return func(x, y float64) float64 { return math.Trunc(x / y) }
	}
	return func(x, y float64) float64 { return x / y }
}

// unary folds constants with f and emits kind for computed tensors (an
// empty kind: the op exists only inside a recognised pattern).
func unary(kind ops.OpKind, f func(float64) float64) convFunc {
	return func(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
		if in[0].k != nil {
			k := &konst{shape: in[0].k.shape, data: make([]float64, in[0].k.numel())}
			for i, v := range in[0].k.data {
				k.data[i] = f(v)
			}
			return kv(k), nil
		}
		if kind == "" {
			return nil, fmt.Errorf("%s of a computed tensor is supported only inside a GELU or LayerNorm pattern", n.GetOpType())
		}
		return one(im.emit(n, kind, ops.Attrs{}, nil, in[0]))
	}
}

func convPow(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	if allConst(in) {
		k, err := broadcastK(in[0].k, in[1].k, math.Pow)
		if err != nil {
			return nil, err
		}
		k.isInt = in[0].k.isInt
		return kv(k), nil
	}
	e := in[1]
	if e.k != nil && e.k.numel() == 1 && e.k.data[0] == 2 && len(e.k.shape) <= len(in[0].shape()) {
		return one(im.emit(n, ops.OpMul, ops.Attrs{}, nil, in[0], in[0]))
	}
	if e.k != nil && e.k.isInt { // an integer exponent is data here
		e = &value{k: &konst{shape: e.k.shape, data: e.k.data}}
	}
	if in[0].k != nil && in[0].k.isInt {
		in = []*value{{k: &konst{shape: in[0].k.shape, data: in[0].k.data}}, in[1]}
	}
	return one(im.emit(n, ops.OpPow, ops.Attrs{}, nil, in[0], e))
}

func softmax(kind ops.OpKind) convFunc {
	return func(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
		s := in[0].shape()
		if im.opset < 13 { // the input is coerced to 2-D at axis (default 1)
			axis, err := normAxis(attrInt(n, "axis", 1), len(s))
			if err != nil {
				return nil, err
			}
			if axis == len(s)-1 {
				return one(im.emit(n, kind, ops.Attrs{Axis: axis}, nil, in[0]))
			}
			flat, err := reshapeTo(im, n, in[0], []int{ops.Numel(s[:axis]), ops.Numel(s[axis:])})
			if err != nil {
				return nil, err
			}
			y, err := im.emit(n, kind, ops.Attrs{Axis: 1}, nil, flat[0])
			if err != nil {
				return nil, err
			}
			return reshapeTo(im, n, y, s)
		}
		axis, err := normAxis(attrInt(n, "axis", -1), len(s))
		if err != nil {
			return nil, err
		}
		return one(im.emit(n, kind, ops.Attrs{Axis: axis}, nil, in[0]))
	}
}

func convReduce(kind ops.OpKind) convFunc {
	return func(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
		axes, ok := attrInts(n, "axes")
		if !ok {
			var err error
			if axes, err = optConstInts(in, 1, "axes"); err != nil {
				return nil, err
			}
		}
		rank := len(in[0].shape())
		for i, a := range axes {
			var err error
			if axes[i], err = normAxis(a, rank); err != nil {
				return nil, err
			}
		}
		if len(axes) == 0 && attrInt(n, "noop_with_empty_axes", 0) == 1 {
			return []*value{in[0]}, nil
		}
		return one(im.emit(n, kind, ops.Attrs{Axes: axes, KeepDims: attrInt(n, "keepdims", 1) == 1}, nil, in[0]))
	}
}

// bindParam registers a constant as a parameter named name (made unique)
// and returns the parameter's name.
func (im *importer) bindParam(k *konst, name string, trainable bool) string {
	return im.addParam(name, k.tensor(), trainable)
}

// paramPrefix is the module path an ONNX node's parameters are named by.
func paramPrefix(n *onnxpb.NodeProto) string {
	module, op := modulePath(n.GetName())
	if module == "" {
		return sanitize(op)
	}
	return module
}

func convConv(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	w, err := constInput(in, 1, "weight")
	if err != nil {
		return nil, err
	}
	if len(w.shape) != 4 {
		return nil, fmt.Errorf("only 2-D convolutions are supported (weight %v)", w.shape)
	}
	if attr(n, "kernel_shape") == nil {
		n = withAttr(n, attrIs("kernel_shape", []int{w.shape[2], w.shape[3]}))
	}
	if e, err := explicitPads(n, in[0].shape()); err != nil || e != n {
		if err != nil {
			return nil, err
		}
		return convConv(im, e, in)
	}
	if own, _ := attrInts(n, "pads"); in[0].pad == nil && len(own) == 4 && (own[0] != own[2] || own[1] != own[3]) {
		v, err := padValue(im, n, []*value{in[0]}, []int{0, 0, own[0], own[1], 0, 0, own[2], own[3]})
		if err != nil { // asymmetric pads: a pending pad the conv absorbs as far as it can
			return nil, err
		}
		return convConv(im, withAttr(n, attrIs("pads", []int{0, 0, 0, 0})), append([]*value{v[0]}, in[1:]...))
	}
	own, _ := attrInts(n, "pads")
	pads, err := addPending(own, in[0].pad)
	if err != nil {
		return nil, err
	}
	sym, err := symmetricPads(pads)
	if err != nil && in[0].pad != nil {
		v, merr := im.materializePad(n, in[0])
		if merr != nil {
			return nil, merr
		}
		in = append([]*value{v}, in[1:]...)
		sym, err = symmetricPads(own)
	}
	if err != nil {
		return nil, err
	}
	stride, _ := attrInts(n, "strides")
	dil, _ := attrInts(n, "dilations")
	a := ops.Attrs{Stride: stride, Padding: sym, Dilation: dil, Groups: attrInt(n, "group", 1)}
	prefix := paramPrefix(n)
	params := map[string]string{"weight": im.bindParam(w, prefix+".weight", true)}
	if len(in) > 2 && in[2] != nil {
		b, err := constInput(in, 2, "bias")
		if err != nil {
			return nil, err
		}
		params["bias"] = im.bindParam(b, prefix+".bias", true)
	}
	return one(im.emit(n, ops.OpConv2d, a, params, &value{node: in[0].node, t: in[0].t}))
}

// addPending adds a pending Pad (top, left, bottom, right) to ONNX pads.
func addPending(pads, pending []int) ([]int, error) {
	if pending == nil {
		return pads, nil
	}
	if len(pads) == 0 {
		pads = make([]int, 4)
	}
	if len(pads) != 4 {
		return nil, fmt.Errorf("pads %v: only 2-D padding is supported", pads)
	}
	out := make([]int, 4)
	for i := range out {
		out[i] = pads[i] + pending[i]
	}
	return out, nil
}

// linear emits x·wᵀ + b for a weight given as (out, in).
func (im *importer) linear(n *onnxpb.NodeProto, x *value, w, b *konst) (*value, error) {
	if len(w.shape) != 2 {
		return nil, fmt.Errorf("weight must be a matrix, got %v", w.shape)
	}
	if s := x.shape(); len(s) == 0 || s[len(s)-1] != w.shape[1] {
		return nil, fmt.Errorf("input %v does not match weight (out, in) %v", s, w.shape)
	}
	if x.k != nil { // a constant table through a layer (swin_v2's position MLP)
		return linearK(x.k, w, b)
	}
	prefix := paramPrefix(n)
	params := map[string]string{"weight": im.bindParam(w, prefix+".weight", true)}
	if b != nil {
		if b.numel() != w.shape[0] {
			return nil, fmt.Errorf("bias %v does not match %d outputs", b.shape, w.shape[0])
		}
		bb := &konst{shape: []int{b.numel()}, data: b.data}
		params["bias"] = im.bindParam(bb, prefix+".bias", true)
	}
	return im.emit(n, ops.OpLinear, ops.Attrs{}, params, x)
}

func convGemm(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	alpha, beta := float64(attrFloat(n, "alpha", 1)), float64(attrFloat(n, "beta", 1))
	a := in[0]
	if attrInt(n, "transA", 0) != 0 {
		t, err := convTranspose(im, n, []*value{a})
		if err != nil {
			return nil, err
		}
		a = t[0]
	}
	var c *konst
	if len(in) > 2 && in[2] != nil && in[2].k == nil { // a computed C: linear, then add β·C
		y, err := convGemm(im, n, in[:2])
		if err != nil {
			return nil, err
		}
		cv := in[2]
		if beta != 1 {
			if cv, err = im.emit(n, ops.OpScale, ops.Attrs{Scale: float32(beta)}, nil, cv); err != nil {
				return nil, err
			}
		}
		return one(im.emit(n, ops.OpAdd, ops.Attrs{}, nil, y[0], cv))
	}
	if len(in) > 2 && in[2] != nil {
		c = mapK(in[2].k, func(x float64) float64 { return beta * x })
	}
	if in[1].k == nil {
		return nil, fmt.Errorf("B must be a constant (an initializer or a folded shape computation)")
	}
	w := in[1].k
	if attrInt(n, "transB", 0) == 0 {
		w = transposeK(w, []int{1, 0})
	}
	if alpha != 1 {
		w = mapK(w, func(x float64) float64 { return alpha * x })
	}
	if c == nil || c.numel() == w.shape[0] && (len(c.shape) <= 1 || c.shape[0] == 1) {
		if c != nil {
			c = &konst{shape: []int{c.numel()}, data: c.data}
		}
		return one(im.linear(n, a, w, c))
	}
	if c.numel() == 1 {
		c, _ = expandK(c, []int{w.shape[0]})
		return one(im.linear(n, a, w, c))
	}
	y, err := im.linear(n, a, w, nil)
	if err != nil {
		return nil, err
	}
	return binaryOp(ops.OpAdd)(im, n, []*value{y, {k: c}})
}

func convMatMul(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	a, b := in[0], in[1]
	if a.k != nil && b.k != nil {
		k, err := matmulK(a.k, b.k)
		if err != nil {
			return nil, err
		}
		return kv(k), nil
	}
	if b.k != nil && len(b.k.shape) == 2 && a.k == nil {
		return one(im.linear(n, a, transposeK(b.k, []int{1, 0}), nil))
	}
	if len(a.shape()) < 2 || len(b.shape()) < 2 {
		return nil, fmt.Errorf("MatMul with a 1-D operand is not supported")
	}
	return one(im.emit(n, ops.OpMatMul, ops.Attrs{}, nil, a, b))
}

// convFusedLinear handles the qpipe.Linear node fusePatterns makes from
// MatMul(x, W) + Add(b): inputs x, W (in, out), b.
func convFusedLinear(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	w, err := constInput(in, 1, "weight")
	if err != nil {
		return nil, err
	}
	b, err := constInput(in, 2, "bias")
	if err != nil {
		return nil, err
	}
	return one(im.linear(n, in[0], transposeK(w, []int{1, 0}), b))
}

func convFusedAct(kind ops.OpKind) convFunc {
	return func(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
		return one(im.emit(n, kind, ops.Attrs{}, nil, in[0]))
	}
}

// convLayerNorm handles LayerNormalization (opset 17) and the qpipe.LayerNorm
// node fusePatterns makes from the decomposed form; both normalise over
// the last axis only.
func convLayerNorm(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	s := in[0].shape()
	if axis := attrInt(n, "axis", -1); axis != -1 && axis != len(s)-1 {
		return layerNormFrom(im, n, in, axis)
	}
	c := s[len(s)-1]
	prefix := paramPrefix(n)
	params := map[string]string{}
	for i, role := range []string{"weight", "bias"} {
		if i+1 >= len(in) || in[i+1] == nil {
			continue
		}
		k, err := constInput(in, i+1, role)
		if err != nil {
			return nil, err
		}
		if k.numel() != c {
			return nil, fmt.Errorf("%s has %d entries for %d channels", role, k.numel(), c)
		}
		params[role] = im.bindParam(&konst{shape: []int{c}, data: k.data}, prefix+"."+role, true)
	}
	eps := attrFloat(n, "epsilon", 1e-5)
	y, err := im.emit(n, ops.OpLayerNorm, ops.Attrs{Eps: eps}, params, in[0])
	if err != nil || len(n.GetOutput()) < 2 {
		return one(y, err)
	}
	stats, err := layerNormStats(im, n, in[0], eps)
	return append([]*value{y}, stats...), err
}

// layerNormStats computes LayerNormalization's optional outputs Mean and
// InvStdDev over the last axis (keeping it as size 1).
func layerNormStats(im *importer, n *onnxpb.NodeProto, x *value, eps float32) ([]*value, error) {
	last := []int{len(x.shape()) - 1}
	mean, err := im.emit(n, ops.OpMean, ops.Attrs{Axes: last, KeepDims: true}, nil, x)
	if err != nil {
		return nil, err
	}
	d, err := im.emit(n, ops.OpSub, ops.Attrs{}, nil, x, mean)
	if err != nil {
		return nil, err
	}
	sq, err := im.emit(n, ops.OpMul, ops.Attrs{}, nil, d, d)
	if err != nil {
		return nil, err
	}
	v, err := im.emit(n, ops.OpMean, ops.Attrs{Axes: last, KeepDims: true}, nil, sq)
	if err != nil {
		return nil, err
	}
	ve, err := binaryOp(ops.OpAdd)(im, n, []*value{v, {k: scalarKonst(float64(eps), false)}})
	if err != nil {
		return nil, err
	}
	sd, err := im.emit(n, ops.OpSqrt, ops.Attrs{}, nil, ve[0])
	if err != nil {
		return nil, err
	}
	inv, err := im.emit(n, ops.OpReciprocal, ops.Attrs{}, nil, sd)
	return []*value{mean, inv}, err
}

func convBatchNorm(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	if attrInt(n, "training_mode", 0) != 0 {
		return nil, fmt.Errorf("training_mode=1 is not supported (export in eval mode)")
	}
	prefix := paramPrefix(n)
	params := map[string]string{}
	for i, role := range []string{"weight", "bias", "running_mean", "running_var"} {
		k, err := constInput(in, i+1, role)
		if err != nil {
			return nil, err
		}
		params[role] = im.bindParam(k, prefix+"."+role, i < 2)
	}
	a := ops.Attrs{Eps: attrFloat(n, "epsilon", 1e-5), Momentum: 1 - attrFloat(n, "momentum", 0.9)}
	return one(im.emit(n, ops.OpBatchNorm, a, params, in[0]))
}

func convPool(kind ops.OpKind) convFunc {
	return func(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
		if attrInt(n, "ceil_mode", 0) != 0 {
			return nil, fmt.Errorf("ceil_mode=1 is not supported")
		}
		if d, ok := attrInts(n, "dilations"); ok && (d[0] != 1 || d[len(d)-1] != 1) {
			return nil, fmt.Errorf("dilated pooling is not supported")
		}
		if ap := attrString(n, "auto_pad", "NOTSET"); ap != "NOTSET" && ap != "" {
			return nil, fmt.Errorf("auto_pad %s is not supported", ap)
		}
		kernel, _ := attrInts(n, "kernel_shape")
		if len(kernel) != 2 {
			return nil, fmt.Errorf("only 1-D and 2-D pooling is supported (kernel %v)", kernel)
		}
		pads, _ := attrInts(n, "pads")
		countPad := attrInt(n, "count_include_pad", 0) == 1
		if in[0].pad != nil {
			if kind == ops.OpMaxPool2d {
				return nil, fmt.Errorf("zero padding before MaxPool is not supported")
			}
			if !countPad && anyNonZero(pads) {
				return nil, fmt.Errorf("Pad before AveragePool with its own pads and count_include_pad=0")
			}
			countPad = true
		}
		pads, err := addPending(pads, in[0].pad)
		if err != nil {
			return nil, err
		}
		sym, err := symmetricPads(pads)
		if err != nil {
			return nil, err
		}
		stride, _ := attrInts(n, "strides")
		if stride == nil {
			stride = []int{1, 1}
		}
		a := ops.Attrs{Kernel: kernel, Stride: stride, Padding: sym, CountPad: countPad}
		return one(im.emit(n, kind, a, nil, &value{node: in[0].node, t: in[0].t}))
	}
}

func anyNonZero(v []int) bool {
	for _, x := range v {
		if x != 0 {
			return true
		}
	}
	return false
}

func convGlobalAvgPool(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	s := in[0].shape()
	if len(s) != 4 {
		return nil, fmt.Errorf("want an NCHW input, got %v", s)
	}
	v, err := im.emit(n, ops.OpGlobalAvgPool, ops.Attrs{}, nil, in[0])
	if err != nil {
		return nil, err
	}
	return reshapeTo(im, n, v, []int{s[0], s[1], 1, 1})
}

// absorbsPad reports whether n may read a pending Pad.
func absorbsPad(n *onnxpb.NodeProto) bool {
	return n.GetOpType() == "Conv" || n.GetOpType() == "AveragePool"
}

// convPad records zero padding of the two spatial axes as pending, for
// the following Conv or AveragePool to absorb; all-zero pads vanish.
func convPad(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	mode := attrString(n, "mode", "constant")
	if mode != "constant" && mode != "edge" && mode != "reflect" {
		return nil, fmt.Errorf("pad mode %q is not supported", mode)
	}
	pads, err := optConstInts(in, 1, "pads")
	if err != nil {
		return nil, err
	}
	if p, ok := attrInts(n, "pads"); ok { // opset < 11: attributes
		pads = p
		in = []*value{in[0], nil, {k: scalarKonst(float64(attrFloat(n, "value", 0)), false)}}
	}
	if len(in) > 2 && in[2] != nil {
		if _, err := constInput(in, 2, "constant_value"); err != nil {
			return nil, err
		}
	}
	if !anyNonZero(pads) {
		return []*value{in[0]}, nil
	}
	if in[0].k != nil { // fold with the pad kernel (integers ≤ 2^24 stay exact)
		var fill float32
		if len(in) > 2 && in[2] != nil && in[2].k != nil && in[2].k.numel() > 0 {
			fill = float32(in[2].k.data[0])
		}
		var k *konst
		err := ops.Guard(func() error {
			k = konstFromTensor(im.c.PadMode(in[0].k.tensor(), pads, fill, mode))
			return nil
		})
		if err != nil {
			return nil, err
		}
		k.isInt = in[0].k.isInt
		return kv(k), nil
	}
	if mode != "constant" {
		v, err := im.dyn(in[0], n.GetName())
		if err != nil {
			return nil, err
		}
		return one(im.emit(n, ops.OpPad, ops.Attrs{Pads: pads, PadMode: mode}, nil, v))
	}
	return padValue(im, n, in, pads)
}

// padValue pads a computed tensor: zero padding of an NCHW tensor's
// spatial axes is left pending for a following Conv or AveragePool to
// absorb (materializePad otherwise), any other constant padding becomes a
// pad node.
func padValue(im *importer, n *onnxpb.NodeProto, in []*value, pads []int) ([]*value, error) {
	for _, p := range pads {
		if p < 0 {
			return nil, fmt.Errorf("pads %v: negative pads (cropping) are not supported", pads)
		}
	}
	if in[0].k != nil {
		return nil, fmt.Errorf("padding a constant is not supported")
	}
	var fill float32
	if len(in) > 2 && in[2] != nil && in[2].k.numel() > 0 {
		fill = float32(in[2].k.data[0])
	}
	if fill == 0 && len(pads) == 8 && pads[0] == 0 && pads[1] == 0 && pads[4] == 0 && pads[5] == 0 && in[0].pad == nil {
		return []*value{{node: in[0].node, t: in[0].t, pad: []int{pads[2], pads[3], pads[6], pads[7]}}}, nil
	}
	v, err := im.dyn(in[0], n.GetName())
	if err != nil {
		return nil, err
	}
	if len(pads) != 2*len(v.shape()) {
		return nil, fmt.Errorf("pads %v for a rank-%d tensor", pads, len(v.shape()))
	}
	return one(im.emit(n, ops.OpPad, ops.Attrs{Pads: pads, PadValue: fill}, nil, v))
}

// materializePad turns a pending zero padding into a pad node, for a
// reader that cannot absorb it.
func (im *importer) materializePad(n *onnxpb.NodeProto, v *value) (*value, error) {
	p := v.pad
	return im.emit(n, ops.OpPad, ops.Attrs{Pads: []int{0, 0, p[0], p[1], 0, 0, p[2], p[3]}}, nil, &value{node: v.node, t: v.t})
}

// layerNormFrom normalises over the axes from axis on: a reshape merging
// them into one, layernorm over it, and a reshape back.
func layerNormFrom(im *importer, n *onnxpb.NodeProto, in []*value, axis int) ([]*value, error) {
	s := in[0].shape()
	axis, err := normAxis(axis, len(s))
	if err != nil {
		return nil, err
	}
	flat, err := reshapeTo(im, n, in[0], append(append([]int{}, s[:axis]...), ops.Numel(s[axis:])))
	if err != nil {
		return nil, err
	}
	ins := append([]*value{flat[0]}, in[1:]...)
	for i := 1; i < len(ins); i++ {
		if ins[i] != nil && ins[i].k != nil {
			k := ins[i].k
			if len(k.shape) > 0 && ops.Numel(k.shape) != ops.Numel(s[axis:]) { // broadcast a trailing-axes weight
				if k, err = expandK(k, s[axis:]); err != nil {
					return nil, err
				}
			}
			ins[i] = &value{k: &konst{shape: []int{k.numel()}, data: k.data}}
		}
	}
	cp := &onnxpb.NodeProto{Name: n.Name, OpType: n.OpType, Domain: n.Domain, Input: n.Input, Output: n.Output}
	for _, a := range n.GetAttribute() {
		if a.GetName() != "axis" {
			cp.Attribute = append(cp.Attribute, a)
		}
	}
	v, err := convLayerNorm(im, cp, ins)
	if err != nil {
		return nil, err
	}
	y, err := reshapeTo(im, n, v[0], s)
	if err != nil {
		return nil, err
	}
	stat := append([]int{}, s...)
	for i := axis; i < len(s); i++ {
		stat[i] = 1
	}
	for _, st := range v[1:] {
		r, err := reshapeTo(im, n, st, stat)
		if err != nil {
			return nil, err
		}
		y = append(y, r[0])
	}
	return y, nil
}

// legacyBroadcast reshapes a constant b that opset-6 broadcasting aligns
// with a's dimensions from axis on, to numpy's trailing alignment.
func legacyBroadcast(a, b *value, axis int) (*value, error) {
	ra := len(a.shape())
	if axis < 0 {
		axis += ra
	}
	bs := b.shape()
	if b.k == nil || axis < 0 || axis+len(bs) > ra {
		return nil, fmt.Errorf("legacy broadcast of %v at axis %d onto %v is not supported", bs, axis, a.shape())
	}
	shape := append([]int{}, bs...)
	for range ra - axis - len(bs) {
		shape = append(shape, 1)
	}
	return &value{k: &konst{shape: shape, data: b.k.data, isInt: b.k.isInt}}, nil
}

// withAttr returns a copy of n with attribute a set (replacing one of the
// same name).
func withAttr(n *onnxpb.NodeProto, a *onnxpb.AttributeProto) *onnxpb.NodeProto {
	cp := &onnxpb.NodeProto{Name: n.Name, OpType: n.OpType, Domain: n.Domain, Input: n.Input, Output: n.Output}
	for _, b := range n.GetAttribute() {
		if b.GetName() != a.GetName() {
			cp.Attribute = append(cp.Attribute, b)
		}
	}
	cp.Attribute = append(cp.Attribute, a)
	return cp
}
