package onnx

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/onnx/onnxpb"
)

// Converters for the ops torchvision's classifiers use beyond the zoo's
// own (Split, Clip, HardSigmoid/HardSwish, MaxPool ceil_mode, Max/Min,
// ReduceMax/Min, Tile, Softplus, ...) and for the shape computations of
// swin (Mod, Not, ScatterND), which fold at import.

// foldOnly lists the ops that import evaluates only on constants (shape
// and mask computations); on a computed tensor they are an error.
var foldOnly = map[string]bool{
	"Shape": true, "Cast": true, "ConstantOfShape": true, "Range": true, "Equal": true, "Where": true,
	"Mod": true, "Not": true, "ScatterND": true, "Constant": true, "Floor": true, "Ceil": true,
	"Sign": true, "Less": true, "Greater": true, "And": true, "Or": true,
}

func init() {
	for k, f := range map[string]convFunc{
		"Split": convSplit, "Clip": convClip, "HardSigmoid": convHardSigmoid,
		"HardSwish": unary(ops.OpHardswish, func(x float64) float64 { return x * math.Min(math.Max(x/6+0.5, 0), 1) }),
		"Softplus":  unary(ops.OpSoftplus, func(x float64) float64 { return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }),
		"Sqrt":      unary(ops.OpSqrt, math.Sqrt), "Erf": unary(ops.OpErf, math.Erf),
		"Neg": unary(ops.OpNeg, func(x float64) float64 { return -x }), "Exp": unary(ops.OpExp, math.Exp),
		"Log": unary(ops.OpLog, math.Log), "Abs": unary(ops.OpAbs, math.Abs),
		"Reciprocal": unary(ops.OpReciprocal, func(x float64) float64 { return 1 / x }),
		"Floor":      unary("", math.Floor), "Ceil": unary("", math.Ceil), "Sign": unary("", sign),
		"Max": convMaxMin(ops.OpMax, math.Max), "Min": convMaxMin(ops.OpMin, math.Min),
		"ReduceMax": convReduce(ops.OpReduceMax), "ReduceMin": convReduce(ops.OpReduceMin),
		"GlobalMaxPool": convGlobalMaxPool, "Tile": convTile, "Mod": convMod, "Not": convNot,
		"ScatterND": convScatterND,
		"Less":      compareOp(func(a, b float64) bool { return a < b }),
		"Greater":   compareOp(func(a, b float64) bool { return a > b }),
		"And":       compareOp(func(a, b float64) bool { return a != 0 && b != 0 }),
		"Or":        compareOp(func(a, b float64) bool { return a != 0 || b != 0 }),
	} {
		converters[k] = f
	}
	converters[fusedDomain+".HardSwish"] = converters["HardSwish"] // Mul(x, HardSigmoid(x)), patterns.go
	converters["MaxPool"] = convPoolCeil(ops.OpMaxPool2d)
	converters["AveragePool"] = convPoolCeil(ops.OpAvgPool2d)
}

// SupportedOps lists the ONNX ops Import converts: run (computed on
// tensors, each as qpipe nodes) and fold (evaluated at import on
// constants only: shape and mask computations).
func SupportedOps() (run, fold []string) {
	for k := range converters {
		switch {
		case len(k) > len(fusedDomain) && k[:len(fusedDomain)+1] == fusedDomain+".":
		case foldOnly[k]:
			fold = append(fold, k)
		default:
			run = append(run, k)
		}
	}
	sort.Strings(run)
	sort.Strings(fold)
	return run, fold
}

func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return x
}

// convSplit: Split with the sizes as attribute (opset < 13) or input
// (opset 13+), or equal parts; each output is a slice.
func convSplit(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	s := in[0].shape()
	axis, err := normAxis(attrInt(n, "axis", 0), len(s))
	if err != nil {
		return nil, err
	}
	sizes, ok := attrInts(n, "split")
	if !ok {
		if sizes, err = optConstInts(in, 1, "split"); err != nil {
			return nil, err
		}
	}
	parts := len(n.GetOutput())
	if len(sizes) == 0 {
		if parts == 0 || s[axis]%parts != 0 {
			return nil, fmt.Errorf("cannot split %d entries of axis %d into %d equal parts", s[axis], axis, parts)
		}
		for range parts {
			sizes = append(sizes, s[axis]/parts)
		}
	}
	total := 0
	for _, z := range sizes {
		total += z
	}
	if len(sizes) != parts || total != s[axis] {
		return nil, fmt.Errorf("split %v of axis %d (size %d) into %d outputs", sizes, axis, s[axis], parts)
	}
	var outs []*value
	start := 0
	for _, z := range sizes {
		if z == 0 {
			return nil, fmt.Errorf("empty split part (sizes %v)", sizes)
		}
		v, err := slice1(im, n, in[0], axis, start, start+z, 1)
		if err != nil {
			return nil, err
		}
		outs = append(outs, v)
		start += z
	}
	return outs, nil
}

// clipBounds reads Clip's bounds: inputs min and max (opset 11+) or
// attributes (older); an absent bound is ±MaxFloat32.
func clipBounds(n *onnxpb.NodeProto, in []*value) (float32, float32, error) {
	lo, hi := float32(-math.MaxFloat32), float32(math.MaxFloat32)
	if a := attr(n, "min"); a != nil {
		lo = a.GetF()
	}
	if a := attr(n, "max"); a != nil {
		hi = a.GetF()
	}
	for i, b := range []*float32{&lo, &hi} {
		if i+1 >= len(in) || in[i+1] == nil {
			continue
		}
		k, err := constInput(in, i+1, [...]string{"min", "max"}[i])
		if err != nil {
			return 0, 0, err
		}
		if k.numel() != 1 {
			return 0, 0, fmt.Errorf("clip bound has %d values, want 1", k.numel())
		}
		*b = float32(k.data[0])
	}
	return lo, hi, nil
}

func convClip(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	lo, hi, err := clipBounds(n, in)
	if err != nil {
		return nil, err
	}
	if in[0].k != nil {
		return kv(mapK(in[0].k, func(x float64) float64 { return math.Min(math.Max(x, float64(lo)), float64(hi)) })), nil
	}
	return one(im.emit(n, ops.OpClip, ops.Attrs{Lo: lo, Hi: hi}, nil, in[0]))
}

func convHardSigmoid(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	alpha, beta := attrFloat(n, "alpha", 0.2), attrFloat(n, "beta", 0.5)
	if in[0].k != nil {
		return kv(mapK(in[0].k, func(x float64) float64 {
			return math.Min(math.Max(float64(alpha)*x+float64(beta), 0), 1)
		})), nil
	}
	return one(im.emit(n, ops.OpHardSigmoid, ops.Attrs{Alpha: alpha, Beta: beta}, nil, in[0]))
}

// mapK applies f to every value of a float constant.
func mapK(k *konst, f func(float64) float64) *konst {
	out := &konst{shape: k.shape, data: make([]float64, k.numel()), isInt: k.isInt}
	for i, v := range k.data {
		out.data[i] = f(v)
	}
	return out
}

// convMaxMin: Max/Min of one or more inputs, pairwise.
func convMaxMin(kind ops.OpKind, f func(a, b float64) float64) convFunc {
	return func(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
		if len(in) == 0 {
			return nil, fmt.Errorf("no inputs")
		}
		acc := in[0]
		for _, v := range in[1:] {
			if acc.k != nil && v.k != nil {
				k, err := broadcastK(acc.k, v.k, f)
				if err != nil {
					return nil, err
				}
				acc = &value{k: k}
				continue
			}
			var err error
			if acc, err = im.emit(n, kind, ops.Attrs{}, nil, acc, v); err != nil {
				return nil, err
			}
		}
		return []*value{acc}, nil
	}
}

func convGlobalMaxPool(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	r := len(in[0].shape())
	if r < 3 {
		return nil, fmt.Errorf("want (N, C, spatial...), got %v", in[0].shape())
	}
	var axes []int
	for a := 2; a < r; a++ {
		axes = append(axes, a)
	}
	return one(im.emit(n, ops.OpReduceMax, ops.Attrs{Axes: axes, KeepDims: true}, nil, in[0]))
}

// convTile repeats along each axis: a concat of copies.
func convTile(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	reps, err := constInput(in, 1, "repeats")
	if err != nil {
		return nil, err
	}
	r := reps.ints()
	if len(r) != len(in[0].shape()) {
		return nil, fmt.Errorf("%d repeats for a rank-%d tensor", len(r), len(in[0].shape()))
	}
	v := in[0]
	for axis, times := range r {
		if times < 1 {
			return nil, fmt.Errorf("repeat count %d (at least 1)", times)
		}
		if times == 1 {
			continue
		}
		copies := make([]*value, times)
		for i := range copies {
			copies[i] = v
		}
		if v.k != nil {
			ks := make([]*konst, times)
			for i := range ks {
				ks[i] = v.k
			}
			k, err := concatK(ks, axis)
			if err != nil {
				return nil, err
			}
			v = &value{k: k}
			continue
		}
		if v, err = im.emit(n, ops.OpConcat, ops.Attrs{Axis: axis}, nil, copies...); err != nil {
			return nil, err
		}
	}
	return []*value{v}, nil
}

// convMod folds Mod on constants: fmod=1 keeps the dividend's sign (C
// fmod), fmod=0 the divisor's (Python %).
func convMod(_ *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	if !allConst(in) {
		return nil, fmt.Errorf("Mod of a computed tensor is not supported (shape computations only)")
	}
	fm := attrInt(n, "fmod", 0) == 1
	k, err := broadcastK(in[0].k, in[1].k, func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		r := math.Mod(a, b)
		if !fm && r != 0 && (r < 0) != (b < 0) {
			r += b
		}
		return r
	})
	if err != nil {
		return nil, err
	}
	return kv(k), nil
}

func convNot(_ *importer, _ *onnxpb.NodeProto, in []*value) ([]*value, error) {
	if in[0].k == nil {
		return nil, fmt.Errorf("Not of a computed tensor is not supported (mask computations only)")
	}
	k := mapK(in[0].k, func(x float64) float64 { return b2f(x == 0) })
	k.isInt = true
	return kv(k), nil
}

func compareOp(f func(a, b float64) bool) convFunc {
	return func(_ *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
		if !allConst(in) {
			return nil, fmt.Errorf("%s of computed tensors is not supported (mask computations only)", n.GetOpType())
		}
		k, err := broadcastK(in[0].k, in[1].k, func(a, b float64) float64 { return b2f(f(a, b)) })
		if err != nil {
			return nil, err
		}
		k.isInt = true
		return kv(k), nil
	}
}

// convScatterND folds ScatterND (reduction none) on constants: swin's
// attention mask is built by slice assignments.
func convScatterND(_ *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	if !allConst(in) {
		return nil, fmt.Errorf("ScatterND of computed tensors is not supported (mask computations only)")
	}
	combine := map[string]func(a, b float64) float64{
		"none": func(_, b float64) float64 { return b }, "add": func(a, b float64) float64 { return a + b },
		"mul": func(a, b float64) float64 { return a * b }, "max": math.Max, "min": math.Min,
	}[attrString(n, "reduction", "none")]
	if combine == nil {
		return nil, fmt.Errorf("reduction %q is not supported", attrString(n, "reduction", "none"))
	}
	data, idx, upd := in[0].k, in[1].k, in[2].k
	q := len(idx.shape)
	if q == 0 {
		return nil, fmt.Errorf("indices must have rank ≥ 1")
	}
	depth := idx.shape[q-1]
	if depth > len(data.shape) {
		return nil, fmt.Errorf("index depth %d for a rank-%d tensor", depth, len(data.shape))
	}
	out := &konst{shape: data.shape, data: append([]float64{}, data.data...), isInt: data.isInt}
	st := ops.Strides(data.shape)
	slab := ops.Numel(data.shape[depth:])
	for i := range ops.Numel(idx.shape[:q-1]) {
		off := 0
		for d := range depth {
			j := int(idx.data[i*depth+d])
			if j < 0 {
				j += data.shape[d]
			}
			if j < 0 || j >= data.shape[d] {
				return nil, fmt.Errorf("index %d out of range for axis %d of size %d", j, d, data.shape[d])
			}
			off += j * st[d]
		}
		if (i+1)*slab > upd.numel() {
			return nil, fmt.Errorf("updates %v too small for indices %v", upd.shape, idx.shape)
		}
		for j, u := range upd.data[i*slab : (i+1)*slab] {
			out.data[off+j] = combine(out.data[off+j], u)
		}
	}
	return kv(out), nil
}

// convPoolCeil wraps convPool for the forms it lacks: ceil_mode=1 and
// asymmetric pads (MaxPool: a pad node with -MaxFloat32, which no window
// can pick, then an unpadded pool; AveragePool: pads counted as zeros
// when count_include_pad=1).
func convPoolCeil(kind ops.OpKind) convFunc {
	plain := convPool(kind)
	return func(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
		if len(n.GetOutput()) > 1 && n.GetOutput()[1] != "" {
			return nil, fmt.Errorf("MaxPool's Indices output is not supported")
		}
		if k, _ := attrInts(n, "kernel_shape"); len(k) == 1 && len(in[0].shape()) == 3 {
			return pool1d(im, n, in, convPoolCeil(kind))
		}
		if explicit, err := explicitPads(n, in[0].shape()); err != nil || explicit != n {
			if err != nil {
				return nil, err
			}
			return convPoolCeil(kind)(im, explicit, in)
		}
		if in[0].k != nil { // pooling a constant: bind it as a parameter
			k := in[0].k
			if k.isInt { // small integers are exact in float32
				k = &konst{shape: k.shape, data: k.data}
			}
			v, err := im.dyn(&value{k: k}, n.GetName())
			if err != nil {
				return nil, err
			}
			in = []*value{v}
		}
		if d, ok := attrInts(n, "dilations"); ok && kind == ops.OpMaxPool2d && len(d) == 2 && d[0]*d[1] != 1 && len(in[0].shape()) == 4 && in[0].pad == nil {
			return dilatedMaxPool(im, n, in[0], d)
		}
		pads, _ := attrInts(n, "pads")
		kernel, _ := attrInts(n, "kernel_shape")
		s := in[0].shape()
		ap := attrString(n, "auto_pad", "NOTSET")
		if in[0].pad != nil || ap != "NOTSET" && ap != "" || len(kernel) != 2 || len(s) != 4 || len(pads) != 0 && len(pads) != 4 {
			return plain(im, n, in)
		}
		if len(pads) == 0 {
			pads = make([]int, 4)
		}
		stride, ok := attrInts(n, "strides")
		if !ok {
			stride = []int{1, 1}
		}
		full := []int{0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]}
		for d := range 2 {
			span := s[2+d] + pads[d] + pads[d+2] - kernel[d]
			if span < 0 || stride[d] <= 0 {
				return plain(im, n, in)
			}
			out := span/stride[d] + 1
			if attrInt(n, "ceil_mode", 0) != 0 && span%stride[d] != 0 {
				out++
			}
			full[6+d] += max((out-1)*stride[d]+kernel[d]-(s[2+d]+pads[d]+pads[d+2]), 0)
		}
		if _, err := symmetricPads([]int{full[2], full[3], full[6], full[7]}); err == nil && 2*full[2] <= kernel[0] && 2*full[3] <= kernel[1] {
			return plain(im, stripCeil(n), in) // ceil_mode adds nothing here
		}
		if kind == ops.OpAvgPool2d && attrInt(n, "count_include_pad", 0) != 0 && attrInt(n, "ceil_mode", 0) != 0 {
			return nil, fmt.Errorf("AveragePool with ceil_mode=1 and count_include_pad=1 is not supported")
		}
		if d, ok := attrInts(n, "dilations"); ok && (d[0] != 1 || d[len(d)-1] != 1) {
			return nil, fmt.Errorf("dilated pooling is not supported")
		}
		fill := float32(0)
		if kind == ops.OpMaxPool2d {
			fill = -math.MaxFloat32
		}
		padded, err := im.emit(n, ops.OpPad, ops.Attrs{Pads: full, PadValue: fill}, nil, in[0])
		if err != nil {
			return nil, err
		}
		a := ops.Attrs{Kernel: kernel, Stride: stride, CountPad: true}
		pooled, err := im.emit(n, kind, a, nil, padded)
		if err != nil || kind != ops.OpAvgPool2d || attrInt(n, "count_include_pad", 0) != 0 {
			return one(pooled, err)
		}
		// count_include_pad=0: rescale each window's mean over the whole
		// window to the mean over its input elements (a constant map).
		frac := ops.New(1, 1, s[2], s[3])
		for i := range frac.Data {
			frac.Data[i] = 1
		}
		var scale *konst
		err = ops.Guard(func() error {
			f := im.c.AvgPool2d(im.c.Pad(frac, full, 0), ops.PoolOptions{Kernel: [2]int{kernel[0], kernel[1]}, Stride: [2]int{stride[0], stride[1]}, CountIncludePad: true})
			scale = mapK(konstFromTensor(f), func(x float64) float64 { return 1 / x })
			return nil
		})
		if err != nil {
			return nil, err
		}
		return binaryOp(ops.OpMul)(im, n, []*value{pooled, {k: scale}})
	}
}

// stripCeil returns n without a ceil_mode attribute (0 is the default).
func stripCeil(n *onnxpb.NodeProto) *onnxpb.NodeProto {
	if attr(n, "ceil_mode") == nil {
		return n
	}
	cp := &onnxpb.NodeProto{Name: n.Name, OpType: n.OpType, Domain: n.Domain, Input: n.Input, Output: n.Output}
	for _, a := range n.GetAttribute() {
		if a.GetName() != "ceil_mode" {
			cp.Attribute = append(cp.Attribute, a)
		}
	}
	return cp
}

func init() {
	converters["ReduceL2"] = convReduceL2
	converters["Einsum"] = convEinsum
	converters["Expand"] = convExpandAny
}

// convExpandAny folds Expand of a constant and emits an expand node for a
// computed tensor, with 1 wherever the target repeats the input's own
// dimension (so a batch the input carries stays symbolic).
func convExpandAny(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	if in[0].k != nil {
		return convExpand(im, n, in)
	}
	shape, err := constInput(in, 1, "shape")
	if err != nil {
		return nil, err
	}
	target := shape.ints()
	s := in[0].shape()
	for i := range target {
		j := i - (len(target) - len(s))
		if j >= 0 && target[i] == s[j] {
			target[i] = 1
		}
	}
	if _, ok := ops.BroadcastShape(s, target); !ok {
		return nil, fmt.Errorf("cannot expand %v to %v", s, shape.ints())
	}
	return one(im.emit(n, ops.OpExpand, ops.Attrs{Shape: target}, nil, in[0]))
}

// convReduceL2 is sqrt(sum(x²)) over the axes (F.normalize's norm).
func convReduceL2(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	if in[0].k != nil {
		return nil, fmt.Errorf("ReduceL2 of a constant is not folded")
	}
	sq, err := im.emit(n, ops.OpMul, ops.Attrs{}, nil, in[0], in[0])
	if err != nil {
		return nil, err
	}
	sum, err := convReduce(ops.OpSum)(im, n, []*value{sq})
	if err != nil {
		return nil, err
	}
	return one(im.emit(n, ops.OpSqrt, ops.Attrs{}, nil, sum[0]))
}

// convEinsum takes the batched matrix products einsum writes ("bhid,bhjd->bhij",
// "bhij,bhjd->bhid" and transposed forms): two operands with the same
// leading letters and one contracted letter among the last two.
func convEinsum(im *importer, n *onnxpb.NodeProto, in []*value) ([]*value, error) {
	eq := strings.ReplaceAll(attrString(n, "equation", ""), " ", "")
	lhs, out, ok := strings.Cut(eq, "->")
	terms := strings.Split(lhs, ",")
	if !ok && !strings.Contains(eq, ".") { // implicit output: the letters used once, sorted
		out, ok = implicitOutput(terms), true
	}
	if ok && len(terms) == 1 && len(in) == 1 {
		term, out, err := expandEllipsis(terms[0], out, len(in[0].shape()))
		if err != nil {
			return nil, err
		}
		x, term, err := einsumDiagonals(im, n, in[0], term)
		if err != nil {
			return nil, err
		}
		return einsumOne(im, n, x, term, out)
	}
	if ok && len(terms) == 2 && len(in) == 2 && terms[0] == terms[1] && out == "" && !strings.Contains(eq, ".") {
		p, err := im.emit(n, ops.OpMul, ops.Attrs{}, nil, in[0], in[1]) // an inner product
		if err != nil {
			return nil, err
		}
		return one(im.emit(n, ops.OpSum, ops.Attrs{}, nil, p))
	}
	if !ok || len(terms) != 2 || len(in) != 2 {
		return nil, einsumUnsupported(eq)
	}
	a, b := terms[0], terms[1]
	if len(a) < 2 || len(a) != len(b) || len(out) != len(a) || strings.Contains(eq, ".") {
		return nil, einsumUnsupported(eq)
	}
	p := len(a) - 2
	if a[:p] != b[:p] || out[:p] != a[:p] {
		return nil, einsumUnsupported(eq)
	}
	ai, aj, bi, bj, oi, oj := a[p], a[p+1], b[p], b[p+1], out[p], out[p+1]
	var transA, transB bool
	switch {
	case ai == oi && bj == oj && aj == bi:
	case ai == oi && bi == oj && aj == bj:
		transB = true
	case aj == oi && bj == oj && ai == bi:
		transA = true
	case aj == oi && bi == oj && ai == bj:
		transA, transB = true, true
	default:
		return nil, einsumUnsupported(eq)
	}
	if oi == oj || strings.IndexByte(a[:p], oi) >= 0 || strings.IndexByte(a[:p], oj) >= 0 {
		return nil, einsumUnsupported(eq)
	}
	return one(im.emit(n, ops.OpMatMul, ops.Attrs{TransA: transA, TransB: transB}, nil, in[0], in[1]))
}

// explicitPads returns n with auto_pad SAME_UPPER/SAME_LOWER/VALID
// replaced by the explicit pads ONNX defines for the input's spatial
// size (n itself when it has no auto_pad).
func explicitPads(n *onnxpb.NodeProto, shape []int) (*onnxpb.NodeProto, error) {
	ap := attrString(n, "auto_pad", "NOTSET")
	if ap == "NOTSET" || ap == "" {
		return n, nil
	}
	kernel, ok := attrInts(n, "kernel_shape")
	if !ok || len(shape) != len(kernel)+2 {
		return nil, fmt.Errorf("auto_pad %s needs kernel_shape for a %d-D input", ap, len(shape))
	}
	sp := len(kernel)
	stride, dil := ones(sp), ones(sp)
	if v, ok := attrInts(n, "strides"); ok {
		stride = v
	}
	if v, ok := attrInts(n, "dilations"); ok {
		dil = v
	}
	pads := make([]int, 2*sp)
	for d := range sp {
		if ap == "VALID" {
			continue
		}
		in := shape[2+d]
		out := (in + stride[d] - 1) / stride[d]
		total := max((out-1)*stride[d]+(kernel[d]-1)*dil[d]+1-in, 0)
		switch ap {
		case "SAME_UPPER":
			pads[d], pads[d+sp] = total/2, total-total/2
		case "SAME_LOWER":
			pads[d], pads[d+sp] = total-total/2, total/2
		default:
			return nil, fmt.Errorf("auto_pad %q is not supported", ap)
		}
	}
	cp := &onnxpb.NodeProto{Name: n.Name, OpType: n.OpType, Domain: n.Domain, Input: n.Input, Output: n.Output}
	for _, a := range n.GetAttribute() {
		if a.GetName() != "auto_pad" && a.GetName() != "pads" {
			cp.Attribute = append(cp.Attribute, a)
		}
	}
	cp.Attribute = append(cp.Attribute, attrIs("pads", pads))
	return cp, nil
}

func ones(n int) []int {
	v := make([]int, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

func implicitOutput(terms []string) string {
	count := map[rune]int{}
	for _, t := range terms {
		for _, r := range t {
			count[r]++
		}
	}
	var out []rune
	for r, c := range count {
		if c == 1 {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return string(out)
}

// einsumOne takes one-operand equations with distinct letters: a sum
// over the letters the output drops, then a permutation ("ij->ji", "ij->i").
func einsumOne(im *importer, n *onnxpb.NodeProto, x *value, term, out string) ([]*value, error) {
	if len(term) != len(x.shape()) {
		return nil, fmt.Errorf("einsum %q for a rank-%d tensor", term+"->"+out, len(x.shape()))
	}
	var axes []int
	kept := ""
	for i, r := range term {
		if strings.Count(term, string(r)) != 1 || strings.Count(out, string(r)) > 1 {
			return nil, fmt.Errorf("einsum %q: a letter repeated in the output is not supported", term+"->"+out)
		}
		if !strings.ContainsRune(out, r) {
			axes = append(axes, i)
		} else {
			kept += string(r)
		}
	}
	if len(kept) != len(out) {
		return nil, fmt.Errorf("einsum %q: output letters missing from the input are not supported", term+"->"+out)
	}
	v, err := im.dyn(x, n.GetName())
	if err != nil {
		return nil, err
	}
	if len(axes) > 0 {
		if v, err = im.emit(n, ops.OpSum, ops.Attrs{Axes: axes}, nil, v); err != nil {
			return nil, err
		}
	}
	if kept == out {
		return []*value{v}, nil
	}
	perm := make([]int, len(out))
	for i, r := range out {
		perm[i] = strings.IndexRune(kept, r)
	}
	return one(im.emit(n, ops.OpPermute, ops.Attrs{Perm: perm}, nil, v))
}

// pool1d runs a 1-D pooling (N, C, L) as the 2-D one over (N, C, 1, L):
// kernel, strides, dilations and pads get a leading 1 (or 0) for the
// added axis.
func pool1d(im *importer, n *onnxpb.NodeProto, in []*value, pool2d convFunc) ([]*value, error) {
	s := in[0].shape()
	flat, err := reshapeTo(im, n, in[0], []int{s[0], s[1], 1, s[2]})
	if err != nil {
		return nil, err
	}
	cp := &onnxpb.NodeProto{Name: n.Name, OpType: n.OpType, Domain: n.Domain, Input: n.Input, Output: n.Output[:1]}
	for _, a := range n.GetAttribute() {
		a = proto.Clone(a).(*onnxpb.AttributeProto)
		switch a.GetName() {
		case "kernel_shape", "strides", "dilations":
			a.Ints = append([]int64{1}, a.Ints...)
		case "pads":
			if len(a.Ints) == 2 {
				a.Ints = []int64{0, a.Ints[0], 0, a.Ints[1]}
			}
		}
		cp.Attribute = append(cp.Attribute, a)
	}
	out, err := pool2d(im, cp, flat)
	if err != nil {
		return nil, err
	}
	o := out[0].shape()
	return reshapeTo(im, n, out[0], []int{o[0], o[1], o[3]})
}

// einsumUnsupported is the error for an equation outside the forms Import
// takes.
func einsumUnsupported(eq string) error {
	return fmt.Errorf("einsum %q is not supported (batched matrix products, one-operand sums, transposes and diagonals, inner products)", eq)
}

// expandEllipsis replaces "..." in a one-operand equation by letters
// (unused capitals) for the dimensions it stands for in a rank-r input.
func expandEllipsis(term, out string, r int) (string, string, error) {
	if !strings.Contains(term, "...") {
		if strings.Contains(out, ".") {
			return "", "", einsumUnsupported(term + "->" + out)
		}
		return term, out, nil
	}
	k := r - (len(term) - 3)
	if k < 0 || strings.Count(term, "...") != 1 || strings.Count(out, "...") > 1 {
		return "", "", einsumUnsupported(term + "->" + out)
	}
	var fill []byte
	for c := byte('A'); c <= 'Z' && len(fill) < k; c++ {
		if !strings.ContainsRune(term+out, rune(c)) {
			fill = append(fill, c)
		}
	}
	if len(fill) < k {
		return "", "", einsumUnsupported(term + "->" + out)
	}
	return strings.Replace(term, "...", string(fill), 1), strings.Replace(out, "...", string(fill), 1), nil
}

// einsumDiagonals takes the diagonal of every letter that term repeats
// (x·I summed over the second axis of the pair, I the identity on the
// pair's axes) and returns the value with that letter once.
func einsumDiagonals(im *importer, n *onnxpb.NodeProto, x *value, term string) (*value, string, error) {
	for {
		i, j := -1, -1
		for a := range len(term) {
			if b := strings.IndexByte(term[a+1:], term[a]); b >= 0 {
				i, j = a, a+1+b
				break
			}
		}
		if i < 0 {
			return x, term, nil
		}
		s := x.shape()
		if len(s) != len(term) || s[i] != s[j] {
			return nil, "", fmt.Errorf("einsum %q: a diagonal of axes of sizes %v", term, s)
		}
		mask := make([]int, len(s))
		for d := range mask {
			mask[d] = 1
		}
		mask[i], mask[j] = s[i], s[j]
		eye := &konst{shape: mask, data: make([]float64, s[i]*s[j])}
		for d := range s[i] {
			eye.data[d*s[j]+d] = 1
		}
		p, err := im.emit(n, ops.OpMul, ops.Attrs{}, nil, x, &value{k: eye})
		if err != nil {
			return nil, "", err
		}
		if x, err = im.emit(n, ops.OpSum, ops.Attrs{Axes: []int{j}}, nil, p); err != nil {
			return nil, "", err
		}
		term = term[:j] + term[j+1:]
	}
}

// dilatedMaxPool computes a 2-D MaxPool with dilations on the input
// padded with -MaxFloat32 (explicit pads; ceil_mode pads the end
// further): where the strides are multiples of the dilations, as an
// undilated pooling of every dil-th element; otherwise (kernels up to 64
// taps) as the maximum, over the kernel's offsets, of strided slices.
func dilatedMaxPool(im *importer, n *onnxpb.NodeProto, x *value, dil []int) ([]*value, error) {
	kernel, _ := attrInts(n, "kernel_shape")
	pads, ok := attrInts(n, "pads")
	if !ok {
		pads = make([]int, 4)
	}
	stride, ok := attrInts(n, "strides")
	if !ok {
		stride = []int{1, 1}
	}
	if len(kernel) != 2 || len(pads) != 4 || len(stride) != 2 || dil[0] < 1 || dil[1] < 1 || stride[0] < 1 || stride[1] < 1 {
		return nil, fmt.Errorf("dilated pooling with kernel %v, pads %v, strides %v is not supported", kernel, pads, stride)
	}
	s := x.shape()
	full := []int{0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]}
	var out [2]int
	for d := range 2 {
		reach := dil[d]*(kernel[d]-1) + 1
		span := s[2+d] + pads[d] + pads[d+2] - reach
		if span < 0 {
			return nil, fmt.Errorf("dilated pooling window %d wider than the padded input %v", reach, s)
		}
		out[d] = span/stride[d] + 1
		if attrInt(n, "ceil_mode", 0) != 0 && span%stride[d] != 0 {
			out[d]++
		}
		full[6+d] += max((out[d]-1)*stride[d]+reach-(s[2+d]+pads[d]+pads[d+2]), 0)
	}
	v, err := im.emit(n, ops.OpPad, ops.Attrs{Pads: full, PadValue: -math.MaxFloat32}, nil, x)
	if err != nil {
		return nil, err
	}
	if stride[0]%dil[0] == 0 && stride[1]%dil[1] == 0 {
		// every tap lies on the grid of step dil from the padded origin:
		// an undilated pooling of that grid, stride/dil
		for d := range 2 {
			end := ((out[d]-1)*stride[d]/dil[d]+kernel[d]-1)*dil[d] + 1
			if v, err = im.emit(n, ops.OpSlice, ops.Attrs{Axis: 2 + d, Start: 0, End: end, Step: dil[d]}, nil, v); err != nil {
				return nil, err
			}
		}
		a := ops.Attrs{Kernel: kernel, Stride: []int{stride[0] / dil[0], stride[1] / dil[1]}}
		return one(im.emit(n, ops.OpMaxPool2d, a, nil, v))
	}
	if kernel[0]*kernel[1] > 64 {
		return nil, fmt.Errorf("dilated pooling with a %dx%d kernel and strides %v not multiples of the dilations %v is not supported", kernel[0], kernel[1], stride, dil)
	}
	var acc *value
	for kh := range kernel[0] {
		for kw := range kernel[1] {
			t := v
			for d, k := range []int{kh, kw} {
				start := k * dil[d]
				if t, err = im.emit(n, ops.OpSlice, ops.Attrs{Axis: 2 + d, Start: start, End: start + (out[d]-1)*stride[d] + 1, Step: stride[d]}, nil, t); err != nil {
					return nil, err
				}
			}
			if acc == nil {
				acc = t
			} else if acc, err = im.emit(n, ops.OpMax, ops.Attrs{}, nil, acc, t); err != nil {
				return nil, err
			}
		}
	}
	return []*value{acc}, nil
}
