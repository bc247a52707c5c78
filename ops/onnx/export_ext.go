package onnx

import (
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/onnx/onnxpb"
)

// Export of the kinds that imported models bring (ops/kinds_ext.go), each
// as the ONNX op it was imported from.

var extUnaries = map[ops.OpKind]string{ops.OpSoftplus: "Softplus", ops.OpExp: "Exp", ops.OpLog: "Log",
	ops.OpSqrt: "Sqrt", ops.OpAbs: "Abs", ops.OpNeg: "Neg", ops.OpReciprocal: "Reciprocal", ops.OpErf: "Erf"}

var extBinaries = map[ops.OpKind]string{ops.OpMax: "Max", ops.OpMin: "Min", ops.OpPow: "Pow"}

// extKinds are the kinds writeExt exports.
var extKinds = []ops.OpKind{ops.OpClip, ops.OpHardSigmoid, ops.OpReduceMax, ops.OpReduceMin, ops.OpPad, ops.OpExpand,
	ops.OpSoftplus, ops.OpExp, ops.OpLog, ops.OpSqrt, ops.OpAbs, ops.OpNeg, ops.OpReciprocal, ops.OpErf,
	ops.OpMax, ops.OpMin, ops.OpPow}

// writeExt writes n when it is one of extKinds (ok false otherwise).
func (e *exporter) writeExt(n *ops.Node, in []string, hint string) (string, bool) {
	a := n.Attrs
	if op, ok := extUnaries[n.Kind]; ok {
		return e.op(op, hint, in[:1]), true
	}
	if op, ok := extBinaries[n.Kind]; ok {
		return e.op(op, hint, in[:2]), true
	}
	switch n.Kind {
	case ops.OpClip:
		return e.op("Clip", hint, []string{in[0], e.scalar(hint+"_min", a.Lo), e.scalar(hint+"_max", a.Hi)}), true
	case ops.OpHardSigmoid:
		return e.op("HardSigmoid", hint, in[:1], attrF("alpha", a.Alpha), attrF("beta", a.Beta)), true
	case ops.OpReduceMax, ops.OpReduceMin:
		op := map[ops.OpKind]string{ops.OpReduceMax: "ReduceMax", ops.OpReduceMin: "ReduceMin"}[n.Kind]
		return e.op(op, hint, in[:1], attrIs("axes", e.axes(n)), attrI("keepdims", b2i(a.KeepDims))), true
	case ops.OpPad:
		mode := a.PadMode
		if mode == "" {
			mode = "constant"
		}
		s := &onnxpb.AttributeProto{Name: ptr("mode"), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(mode)}
		return e.op("Pad", hint, []string{in[0], e.initInts(hint+"_pads", a.Pads), e.scalar(hint+"_value", a.PadValue)}, s), true
	case ops.OpExpand:
		return e.op("Expand", hint, []string{in[0], e.initInts(hint+"_shape", a.Shape)}), true
	}
	return "", false
}
