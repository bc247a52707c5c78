package onnx

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/onnx/onnxpb"
)

// More converters are registered in convert_ext.go (the ops torchvision's
// classifiers and the ONNX backend suite need beyond the zoo's own).

// convFunc converts one ONNX node: constant inputs fold into constant
// outputs where the op allows it, otherwise it emits qpipe nodes.
type convFunc func(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error)

var converters map[string]convFunc

func init() {
	converters = map[string]convFunc{
		"Constant": convConstant, "Identity": convIdentity, "Dropout": convDropout, "Cast": convCast,
		"Shape": convShape, "Gather": convGather, "Unsqueeze": convUnsqueeze, "Squeeze": convSqueeze,
		"Concat": convConcat, "Slice": convSlice, "Reshape": convReshape, "Transpose": convTranspose,
		"Flatten": convFlatten, "ConstantOfShape": convConstantOfShape,
		"Range": convRange, "Equal": compareOp(func(a, b float64) bool { return a == b }), "Where": convWhere,
		"Add": binaryOp(ops.OpAdd), "Sub": binaryOp(ops.OpSub), "Mul": binaryOp(ops.OpMul), "Div": binaryOp(ops.OpDiv),
		"Pow":  convPow,
		"Tanh": unary(ops.OpTanh, math.Tanh), "Relu": unary(ops.OpReLU, func(x float64) float64 { return max(x, 0) }),
		"Sigmoid": unary(ops.OpSigmoid, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }),
		"Softmax": softmax(ops.OpSoftmax), "LogSoftmax": softmax(ops.OpLogSoftmax),
		"ReduceMean": convReduce(ops.OpMean), "ReduceSum": convReduce(ops.OpSum),
		"Conv": convConv, "Gemm": convGemm, "MatMul": convMatMul,
		"LayerNormalization": convLayerNorm, "BatchNormalization": convBatchNorm,
		"GlobalAveragePool": convGlobalAvgPool, "Pad": convPad,
		fusedDomain + ".Gelu": convFusedAct(ops.OpGELU), fusedDomain + ".GeluTanh": convFusedAct(ops.OpGELUTanh),
		fusedDomain + ".LayerNorm": convLayerNorm, fusedDomain + ".Linear": convFusedLinear,
	}
}

func supportedList() string {
	var names []string
	for k := range converters {
		if !strings.HasPrefix(k, fusedDomain) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func one(v *value, err error) ([]*value, error) {
	if err != nil {
		return nil, err
	}
	return []*value{v}, nil
}

func kv(k *konst) []*value { return []*value{{k: k}} }

func allConst(in []*value) bool {
	for _, v := range in {
		if v != nil && v.k == nil {
			return false
		}
	}
	return true
}

func convConstant(im *importer, n *onnxpb.NodeProto, _ []*value) ([]*value, error) {
	if a := attr(n, "value"); a != nil {
		k, err := tensorData(a.GetT(), im.dir)
		if err != nil {
			return nil, err
		}
		return kv(k), nil
	}
	if a := attr(n, "value_float"); a != nil {
		return kv(scalarKonst(float64(a.GetF()), false)), nil
	}
	if a := attr(n, "value_int"); a != nil {
		return kv(scalarKonst(float64(a.GetI()), true)), nil
	}
	if a := attr(n, "value_ints"); a != nil {
		k := &konst{shape: []int{len(a.GetInts())}, isInt: true}
		for _, v := range a.GetInts() {
			k.data = append(k.data, float64(v))
		}
		return kv(k), nil
	}
	if a := attr(n, "value_floats"); a != nil {
		k := &konst{shape: []int{len(a.GetFloats())}}
		for _, v := range a.GetFloats() {
			k.data = append(k.data, float64(v))
		}
		return kv(k), nil
	}
	return nil, fmt.Errorf("no supported value attribute")
}

func convIdentity(_ *importer, _ *onnxpb.NodeProto, in []*value) ([]*value, error) {
	return []*value{in[0]}, nil
}

func convCast(_ *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	to := onnxpb.TensorProto_DataType(attrInt(n, "to", 1))
	if to == onnxpb.TensorProto_BFLOAT16 || to == onnxpb.TensorProto_STRING {
		// bfloat16: ONNX 1.12's reference truncates, later versions round to
		// nearest even; strings have no numeric value.
		return nil, fmt.Errorf("cast to %s is not supported", to)
	}
	isFloat := isFloatType(to)
	if in[0].k == nil {
		if !isFloat {
			return nil, fmt.Errorf("cast of a computed tensor to %s is not supported", to)
		}
		return []*value{in[0]}, nil
	}
	k := &konst{shape: in[0].k.shape, data: append([]float64{}, in[0].k.data...), isInt: !isFloat}
	for i, v := range k.data {
		switch {
		case to == onnxpb.TensorProto_BOOL:
			k.data[i] = b2f(v != 0)
		case !isFloat:
			k.data[i] = math.Trunc(v)
		case to == onnxpb.TensorProto_FLOAT:
			k.data[i] = float64(float32(v))
		case to == onnxpb.TensorProto_FLOAT16:
			k.data[i] = roundHalf(v)
		}
	}
	return kv(k), nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func convShape(_ *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	s := in[0].shape()
	start, end := attrInt(n, "start", 0), attrInt(n, "end", len(s))
	start, end = sliceBounds(start, end, 1, len(s))
	k := &konst{shape: []int{max(end-start, 0)}, isInt: true}
	for _, d := range s[start:max(end, start)] {
		k.data = append(k.data, float64(d))
	}
	return kv(k), nil
}

func convGather(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	ind, err := constInput(in, 1, "indices")
	if err != nil {
		return nil, err
	}
	axis := attrInt(n, "axis", 0)
	if in[0].k != nil {
		k, err := gatherK(in[0].k, ind, axis)
		if err != nil {
			return nil, err
		}
		return kv(k), nil
	}
	shape := in[0].shape()
	if axis, err = normAxis(axis, len(shape)); err != nil {
		return nil, err
	}
	if ind.numel() != 1 {
		return gatherMany(im, n, in[0], ind, axis)
	}
	i := int(ind.data[0])
	if i < 0 {
		i += shape[axis]
	}
	v, err := im.emit(n, ops.OpSlice, ops.Attrs{Axis: axis, Start: i, End: i + 1}, nil, in[0])
	if err != nil || len(ind.shape) > 0 {
		return one(v, err)
	}
	out := append(append([]int{}, shape[:axis]...), shape[axis+1:]...)
	return one(im.emit(n, ops.OpReshape, ops.Attrs{Shape: out}, nil, v))
}

// reshapeTo folds a constant or emits a reshape node to a concrete shape.
func reshapeTo(im *importer, n *onnxpb.NodeProto, v *value, shape []int) ([]*value, error) {
	if ops.Numel(shape) != ops.Numel(v.shape()) {
		return nil, fmt.Errorf("cannot reshape %v to %v", v.shape(), shape)
	}
	if v.k != nil {
		return kv(&konst{shape: shape, data: v.k.data, isInt: v.k.isInt}), nil
	}
	return one(im.emit(n, ops.OpReshape, ops.Attrs{Shape: shape}, nil, v))
}

func unsqueezeAxes(n *onnxpb.NodeProto, in []*value) ([]int, error) {
	if axes, ok := attrInts(n, "axes"); ok {
		return axes, nil
	}
	return optConstInts(in, 1, "axes")
}

func convUnsqueeze(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	axes, err := unsqueezeAxes(n, in)
	if err != nil {
		return nil, err
	}
	s := in[0].shape()
	rank := len(s) + len(axes)
	ins := map[int]bool{}
	for _, a := range axes {
		a, err := normAxis(a, rank)
		if err != nil {
			return nil, err
		}
		ins[a] = true
	}
	var out []int
	j := 0
	for i := range rank {
		if ins[i] {
			out = append(out, 1)
		} else {
			out = append(out, s[j])
			j++
		}
	}
	return reshapeTo(im, n, in[0], out)
}

func convSqueeze(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	axes, err := unsqueezeAxes(n, in)
	if err != nil {
		return nil, err
	}
	s := in[0].shape()
	drop := map[int]bool{}
	for _, a := range axes {
		a, err := normAxis(a, len(s))
		if err != nil {
			return nil, err
		}
		drop[a] = true
	}
	out := []int{}
	for i, d := range s {
		if (len(axes) == 0 && d == 1) || drop[i] {
			continue
		}
		out = append(out, d)
	}
	return reshapeTo(im, n, in[0], out)
}

func convFlatten(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	s := in[0].shape()
	axis := attrInt(n, "axis", 1)
	if axis < 0 {
		axis += len(s)
	}
	if axis < 0 || axis > len(s) {
		return nil, fmt.Errorf("axis %d out of range for rank %d", attrInt(n, "axis", 1), len(s))
	}
	return reshapeTo(im, n, in[0], []int{ops.Numel(s[:axis]), ops.Numel(s[axis:])})
}

func convReshape(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	target, err := constInput(in, 1, "shape")
	if err != nil {
		return nil, err
	}
	s := in[0].shape()
	shape := target.ints()
	if in[0].k == nil {
		shape = im.rebatchTarget(s, shape)
	}
	infer := -1
	for i, d := range shape {
		switch {
		case d == 0 && attrInt(n, "allowzero", 0) == 0:
			if i >= len(s) {
				return nil, fmt.Errorf("shape %v copies dimension %d of a rank-%d tensor", shape, i, len(s))
			}
			shape[i] = s[i]
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has two -1 entries", shape)
			}
			infer = i
		case d < 0:
			return nil, fmt.Errorf("invalid shape %v", shape)
		}
	}
	if infer >= 0 {
		rest := 1
		for i, d := range shape {
			if i != infer {
				rest *= d
			}
		}
		if rest == 0 || ops.Numel(s)%rest != 0 {
			return nil, fmt.Errorf("cannot reshape %v to %v", s, target.ints())
		}
		shape[infer] = ops.Numel(s) / rest
	}
	return reshapeTo(im, n, in[0], shape)
}

func convTranspose(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	rank := len(in[0].shape())
	perm, ok := attrInts(n, "perm")
	if !ok {
		for i := rank - 1; i >= 0; i-- {
			perm = append(perm, i)
		}
	}
	if len(perm) != rank {
		return nil, fmt.Errorf("perm %v for a rank-%d tensor", perm, rank)
	}
	if in[0].k != nil {
		return kv(transposeK(in[0].k, perm)), nil
	}
	return one(im.emit(n, ops.OpPermute, ops.Attrs{Perm: perm}, nil, in[0]))
}

func convConcat(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	axis := attrInt(n, "axis", 0)
	if im.opset < 4 && attr(n, "axis") == nil {
		axis = 1
	}
	if allConst(in) {
		ks := make([]*konst, len(in))
		for i, v := range in {
			ks[i] = v.k
		}
		k, err := concatK(ks, axis)
		if err != nil {
			return nil, err
		}
		return kv(k), nil
	}
	axis, err := normAxis(axis, len(in[0].shape()))
	if err != nil {
		return nil, err
	}
	if axis > 0 {
		if in, err = im.batchConstants(n, in); err != nil {
			return nil, err
		}
	}
	return one(im.emit(n, ops.OpConcat, ops.Attrs{Axis: axis}, nil, in...))
}

func convSlice(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	if s, ok := attrInts(n, "starts"); ok { // opset < 10: attributes
		ends, _ := attrInts(n, "ends")
		axes, _ := attrInts(n, "axes")
		return sliceAll(im, n, in[0], s, ends, axes, nil)
	}
	starts, err := optConstInts(in, 1, "starts")
	if err != nil {
		return nil, err
	}
	ends, err := optConstInts(in, 2, "ends")
	if err != nil {
		return nil, err
	}
	axes, err := optConstInts(in, 3, "axes")
	if err != nil {
		return nil, err
	}
	steps, err := optConstInts(in, 4, "steps")
	if err != nil {
		return nil, err
	}
	return sliceAll(im, n, in[0], starts, ends, axes, steps)
}

func sliceAll(im *importer, n *onnxpb.NodeProto, v *value, starts, ends, axes, steps []int) ([]*value, error) {
	var err error
	if len(starts) != len(ends) {
		return nil, fmt.Errorf("%d starts but %d ends", len(starts), len(ends))
	}
	for i := range starts {
		axis, step := i, 1
		if axes != nil {
			axis = axes[i]
		}
		if steps != nil {
			step = steps[i]
		}
		if v, err = slice1(im, n, v, axis, starts[i], ends[i], step); err != nil {
			return nil, err
		}
	}
	return []*value{v}, nil
}

func slice1(im *importer, n *onnxpb.NodeProto, v *value, axis, start, end, step int) (*value, error) {
	s := v.shape()
	axis, err := normAxis(axis, len(s))
	if err != nil {
		return nil, err
	}
	if step == 0 {
		return nil, fmt.Errorf("slice step 0")
	}
	start, end = sliceBounds(start, end, step, s[axis])
	if v.k != nil {
		return &value{k: sliceK(v.k, axis, start, end, step)}, nil
	}
	if step < 0 { // a reversed gather of the indices
		ind := &konst{isInt: true}
		for i := start; i > end; i += step {
			ind.data = append(ind.data, float64(i))
		}
		ind.shape = []int{len(ind.data)}
		out, err := gatherMany(im, n, v, ind, axis)
		if err != nil {
			return nil, err
		}
		return out[0], nil
	}
	if start >= end {
		return nil, fmt.Errorf("empty slice [%d:%d] of axis %d", start, end, axis)
	}
	if start == 0 && end == s[axis] && step == 1 {
		return v, nil
	}
	return im.emit(n, ops.OpSlice, ops.Attrs{Axis: axis, Start: start, End: end, Step: step}, nil, v)
}

func convExpand(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	shape, err := constInput(in, 1, "shape")
	if err != nil {
		return nil, err
	}
	if in[0].k == nil {
		return nil, fmt.Errorf("expanding a computed tensor is not supported")
	}
	k, err := expandK(in[0].k, shape.ints())
	if err != nil {
		return nil, err
	}
	src := in[0].k.shape
	k.perBatch = len(k.shape) > 0 && im.batchOf > 0 && k.shape[0] == im.batchOf &&
		(len(src) < len(k.shape) || src[0] == 1)
	return kv(k), nil
}

func convConstantOfShape(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	shape, err := constInput(in, 0, "shape")
	if err != nil {
		return nil, err
	}
	fill := scalarKonst(0, false)
	if a := attr(n, "value"); a != nil {
		if fill, err = tensorData(a.GetT(), im.dir); err != nil {
			return nil, err
		}
	}
	k := &konst{shape: shape.ints(), isInt: fill.isInt}
	k.data = make([]float64, ops.Numel(k.shape))
	for i := range k.data {
		k.data[i] = fill.data[0]
	}
	return kv(k), nil
}

func convRange(_ *importer, _ *onnxpb.NodeProto, in []*value) ([]*value, error) {
	if !allConst(in) || len(in) != 3 {
		return nil, fmt.Errorf("range bounds must be constants")
	}
	start, limit, delta := in[0].k.data[0], in[1].k.data[0], in[2].k.data[0]
	if delta == 0 {
		return nil, fmt.Errorf("range delta 0")
	}
	k := &konst{isInt: in[0].k.isInt}
	for v := start; (delta > 0 && v < limit) || (delta < 0 && v > limit); v += delta {
		k.data = append(k.data, v)
	}
	k.shape = []int{len(k.data)}
	return kv(k), nil
}

func convWhere(_ *importer, _ *onnxpb.NodeProto, in []*value) ([]*value, error) {
	if !allConst(in) {
		return nil, fmt.Errorf("Where on computed tensors is not supported")
	}
	ab, err := broadcastK(in[1].k, in[2].k, func(a, _ float64) float64 { return a })
	if err != nil {
		return nil, err
	}
	cond, err := expandK(in[0].k, ab.shape)
	if err != nil {
		return nil, err
	}
	b, err := expandK(in[2].k, ab.shape)
	if err != nil {
		return nil, err
	}
	if len(cond.shape) != len(ab.shape) {
		return nil, fmt.Errorf("condition shape %v does not broadcast to %v", in[0].k.shape, ab.shape)
	}
	for i := range ab.data {
		if cond.data[i] == 0 {
			ab.data[i] = b.data[i]
		}
	}
	return kv(ab), nil
}

// gatherMany gathers several constant indices along axis of a computed
// tensor: one slice per index, concatenated, reshaped to the indices'
// shape.
func gatherMany(im *importer, n *onnxpb.NodeProto, x *value, ind *konst, axis int) ([]*value, error) {
	shape := x.shape()
	var parts []*value
	for _, f := range ind.data {
		i := int(f)
		if i < 0 {
			i += shape[axis]
		}
		if i < 0 || i >= shape[axis] {
			return nil, fmt.Errorf("index %d out of range for axis of size %d", int(f), shape[axis])
		}
		v, err := im.emit(n, ops.OpSlice, ops.Attrs{Axis: axis, Start: i, End: i + 1}, nil, x)
		if err != nil {
			return nil, err
		}
		parts = append(parts, v)
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("gathering no indices (an empty tensor) is not supported")
	}
	cat := parts[0]
	if len(parts) > 1 {
		var err error
		if cat, err = im.emit(n, ops.OpConcat, ops.Attrs{Axis: axis}, nil, parts...); err != nil {
			return nil, err
		}
	}
	out := append(append(append([]int{}, shape[:axis]...), ind.shape...), shape[axis+1:]...)
	return reshapeTo(im, n, cat, out)
}

// convDropout is the identity at inference (and at ratio 0); its optional
// mask output is all true. Training-mode dropout with a ratio is random
// and not imported.
func convDropout(_ *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	ratio := float64(attrFloat(n, "ratio", 0.5))
	if len(in) > 1 && in[1] != nil && in[1].k != nil && in[1].k.numel() == 1 {
		ratio = in[1].k.data[0]
	}
	training := attrInt(n, "is_test", 1) == 0
	if len(in) > 2 && in[2] != nil {
		if in[2].k == nil {
			return nil, fmt.Errorf("training_mode must be a constant")
		}
		training = in[2].k.data[0] != 0
	}
	if len(in) > 1 && in[1] != nil && in[1].k == nil {
		return nil, fmt.Errorf("ratio must be a constant")
	}
	if training && ratio != 0 {
		return nil, fmt.Errorf("training-mode Dropout (ratio %g) is random: export the model in eval mode", ratio)
	}
	mask := &konst{shape: in[0].shape(), isInt: true, data: make([]float64, ops.Numel(in[0].shape()))}
	for i := range mask.data {
		mask.data[i] = 1
	}
	return []*value{in[0], {k: mask}}, nil
}
