// Package onnx reads ONNX models into qpipe's graph IR and writes qpipe
// models as ONNX, FP32 or INT8 QDQ, for ONNX Runtime.
//
// # Import
//
// Import reads what torch.onnx.export writes at opsets 6-17, and opsets
// 1-5 for the ops unchanged since opset 1 (see
// SupportedOps for the ops; docs/onnx-coverage.md for what is checked:
// every torchvision 0.14 classifier family and the ONNX backend suite).
// It converts node by node: a node whose inputs are all constants is
// folded (the Shape/Gather/Unsqueeze/Concat chains in front of Reshape,
// swin's Mod/ScatterND/Where mask construction, a relative-position-bias
// lookup, swin_v2's position MLP), any other becomes qpipe nodes,
// evaluated once on a probe input to learn its shape. Ops listed as
// "fold" in SupportedOps exist only in that constant form. Before that,
// fusePatterns (patterns.go) turns PyTorch's decompositions back into
// qpipe ops — GELU (erf and tanh forms) into gelu/gelu_tanh, the opset-13
// LayerNorm chain into layernorm, MatMul + Add with constant weights into
// linear, Mul(x, HardSigmoid(x)) below opset 14 into hardswish — so
// recipe verbs such as `replace gelu with relu` find them;
// afterwards torch.roll's Slice+Concat becomes roll, a zero Pad folds
// into the following Conv/AveragePool, and a batch norm read only from a
// convolution folds into its weight and bias.
//
// The batch dimension (batch.go): a symbolic batch stays dynamic: the
// graph is traced at batch 2 and 3, and the reshape dimensions that
// follow the batch become -1. A static batch (the export's default,
// usually 1) is made symbolic the same way, rescaling literal Reshape
// targets and expanding batch-broadcast constants; ImportReport says
// which happened (BatchMode), and a graph that resists runs at its baked
// batch (BatchFixed; PadBatch pads a short last batch).
//
// Node names are PyTorch module paths ("blocks.1.mlp.act"); parameters
// keep PyTorch's names where the file has them ("blocks.1.mlp.fc1.weight").
// Initializers used as layer weights are trainable; constants computed at
// import (a gathered relative-position bias, an attention mask) are
// frozen parameters. Errors name the ONNX node and its op type; an op or
// form Import does not take is such an error ("unsupported op", "... is
// not supported"); external data must lie inside the model's folder.
//
// # Export
//
// Export writes opset 17 with a symbolic batch dimension. Layers map as
// PyTorch exports them (linear: Gemm for 2-D inputs, MatMul + Add
// otherwise; gelu: the erf decomposition, which Import fuses back), so an
// export re-imports to the same graph. qpipe's fused transformer kinds are
// decomposed as timm's modules export (export_tf.go):
//
//   - attention: Reshape/Transpose of qkv, Gather q/k/v, MatMul, Mul by
//     the scale, Add of the relative-position bias (Gather of the table
//     initializer by the index, Reshape, Transpose), Add of the constant
//     shifted-window mask through a (B/nW, nW, H, N, N) view, Softmax,
//     MatMul, Transpose, Reshape;
//   - window_partition/window_reverse: Reshape, Transpose, Reshape;
//   - roll: Slice + Concat per axis (torch.roll's own export);
//   - expand_batch: Expand to Concat(Shape(reference)[0:1], rest);
//   - patch merging is slice (step 2) + concat + layernorm + linear.
//
// The zoo's swin-micro and vit-tiny export this way and run in ONNX
// Runtime within 1e-4 of qpipe. The integer kinds qlinear/qconv2d have no
// ONNX form yet: export the fake-quant model (before ConvertInt8).
//
// # Quantization in ONNX
//
// A fake_quant node becomes QDQ:
//
//   - on a constant weight (a param node read only by it): the integer
//     codes, computed exactly as qpipe's fake_quant computes them, are
//     stored as an int8 (or uint8) initializer followed by
//     DequantizeLinear, per channel (axis 0, or axis 1 for the (in, out)
//     MatMul layout) or per tensor;
//   - on an activation: QuantizeLinear + DequantizeLinear with the node's
//     scale and zero point (per tensor or per channel), always as uint8 (a
//     signed range [-128, 127] with zero point z is written as [0, 255]
//     with z+128, which dequantizes to the same values; ONNX Runtime's x86
//     integer kernels take U8 activations and S8 weights), preceded by a
//     Clip when the code range is narrower than [0, 255] (e.g. a 4-bit
//     activation range, or a signed [-127, 127]);
//   - on the ReLU'd output of a conv2d/linear whose input and weight are
//     quantized: first QuantizeLinear/DequantizeLinear with zero point 0,
//     then the node's own pair. The first makes the ReLU redundant, so ONNX
//     Runtime folds it into QLinearConv/QGemm; the second clamps at the
//     node's top code. Both together equal the node's fake_quant exactly.
//     (Not for a conv over fewer than 4 input channels, which ORT runs
//     faster in float.)
//   - the bias of such a layer (Conv, or Gemm for 2-D inputs) is written
//     as int32 codes round(b/(s_a·s_w)) behind DequantizeLinear (scale
//     s_a·s_w per output channel, zero point 0), the form QLinearConv and
//     QGemm take; this moves a bias by at most s_a·s_w/2, well below one
//     output code. MatMul + Add layers keep a float bias (ORT runs them as
//     MatMulIntegerToFloat + Add).
//
// ONNX Runtime fuses Conv/Gemm/MatMul into integer kernels only when the
// layer's output goes (directly or through a redundant ReLU) into a
// QuantizeLinear. A model quantized layer by layer (inputs and weights
// only) has its quantizers at the next layer's input, often behind a max
// pool, flatten or average pool. RequantizeOutputs moves copies of them up
// to the layer outputs before export: through reshape/flatten/max pool
// the copy is exact; ahead of an average pool it is a real requantization
// (the pool then averages codes), which qpipe's own evaluation afterwards
// models, so qpipe's numbers and ONNX Runtime's still agree (the MNIST CNN:
// 99.88% top-1 agreement over the 10,000 test images; ORT's optimized
// graph has QLinearConv and QGemm, checked in TestQDQCNNAgreesWithORTOnMNIST).
// The remaining differences are the int32 bias rounding and float32 vs
// integer accumulation at rounding boundaries.
//
// Codes wider than 8 bits cannot be held. Power-of-two (log2) weight
// quantization has no ONNX operator: its weights export as dequantized
// float values, so ONNX Runtime computes exactly what qpipe's model
// computes but the file stores float32 weights (no size gain); CanHold
// says this to the planner and checker.
package onnx

import "github.com/qpipe/qpipe/ops"

// Holding says how an ONNX export keeps one quantized representation.
type Holding int

const (
	// NotHeld: the export fails.
	NotHeld Holding = iota
	// AsQDQ: QuantizeLinear/DequantizeLinear with int8/uint8 codes.
	AsQDQ
	// AsDequantizedFloat: the values are written as float32 (exact, but
	// no smaller and no integer kernels in the runtime).
	AsDequantizedFloat
)

func (h Holding) String() string {
	return [...]string{"not held", "QDQ", "dequantized float"}[h]
}

// QuantScheme describes a quantized representation a recipe asks for.
type QuantScheme struct {
	Bits       int  // code width
	PerChannel bool // one scale per output channel (weights)
	Log2       bool // power-of-two levels (log2 quantization)
	Activation bool // an activation rather than a constant weight
}

// CanHold reports how ONNX export keeps scheme s and why, for the planner
// and checker: uniform codes of ≤ 8 bits as QDQ (narrower activation
// ranges with a Clip; activations always as uint8, weights as int8 or
// uint8 as their range says), log2 weights as dequantized floats, log2
// activations and anything wider than 8 bits not at all. Whether ONNX
// Runtime then runs a layer on integer kernels is not part of the answer:
// that also needs the layer's output quantized (RequantizeOutputs) and
// per-tensor input scales.
func CanHold(s QuantScheme) (Holding, string) {
	switch {
	case s.Bits > 8:
		return NotHeld, "ONNX QDQ holds codes of at most 8 bits"
	case s.Log2 && s.Activation:
		return NotHeld, "ONNX has no power-of-two quantizer for activations"
	case s.Log2:
		return AsDequantizedFloat, "ONNX has no power-of-two quantizer: log2 weights are written as their float values"
	case s.Bits < 8 && s.Activation:
		return AsQDQ, "int8 QuantizeLinear with a Clip to the narrower range"
	case s.Bits < 8:
		return AsQDQ, "int8 codes limited to the narrower range"
	}
	return AsQDQ, "QuantizeLinear/DequantizeLinear (int8/uint8)"
}

// ExportableKinds lists the node kinds Export writes.
func ExportableKinds() []ops.OpKind {
	return append([]ops.OpKind{ops.OpInput, ops.OpParam, ops.OpLinear, ops.OpConv2d, ops.OpMatMul, ops.OpBatchNorm, ops.OpLayerNorm,
		ops.OpReLU, ops.OpGELU, ops.OpGELUTanh, ops.OpSiLU, ops.OpHardswish, ops.OpTanh, ops.OpSigmoid, ops.OpIdentity,
		ops.OpDropout, ops.OpMaxPool2d, ops.OpAvgPool2d, ops.OpGlobalAvgPool, ops.OpAdd, ops.OpSub, ops.OpMul, ops.OpDiv,
		ops.OpScale, ops.OpSum, ops.OpMean, ops.OpSoftmax, ops.OpLogSoftmax, ops.OpReshape, ops.OpFlatten, ops.OpPermute,
		ops.OpConcat, ops.OpSlice, ops.OpRoll, ops.OpAttention, ops.OpWindowPartition, ops.OpWindowReverse, ops.OpExpandBatch,
		ops.OpFakeQuant}, extKinds...)
}
