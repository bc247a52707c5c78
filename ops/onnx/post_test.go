package onnx

import (
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/onnx/onnxpb"
)

func floatInit(name string, shape []int, f func(i int) float32) *onnxpb.TensorProto {
	n := ops.Numel(shape)
	v := make([]float32, n)
	for i := range v {
		v[i] = f(i)
	}
	return &onnxpb.TensorProto{Name: ptr(name), Dims: dims64(shape), DataType: ptr(int32(onnxpb.TensorProto_FLOAT)), FloatData: v}
}

// TestImportFoldsConvBatchNorm: a Conv followed by BatchNormalization
// imports as one conv2d (the batch norm folded into its weight and bias)
// whose output equals the unfused pair computed by qpipe's own kernels.
func TestImportFoldsConvBatchNorm(t *testing.T) {
	inits := []*onnxpb.TensorProto{
		floatInit("w", []int{3, 2, 3, 3}, func(i int) float32 { return float32((i*7)%11)/11 - 0.4 }),
		floatInit("b", []int{3}, func(i int) float32 { return float32(i) * 0.3 }),
		floatInit("g", []int{3}, func(i int) float32 { return 1 + float32(i)*0.5 }),
		floatInit("be", []int{3}, func(i int) float32 { return -0.2 * float32(i) }),
		floatInit("mu", []int{3}, func(i int) float32 { return 0.1 * float32(i+1) }),
		floatInit("var", []int{3}, func(i int) float32 { return 0.5 + float32(i) }),
	}
	conv := node("/conv/Conv", "Conv", []string{"x", "w", "b"}, "c")
	conv.Attribute = []*onnxpb.AttributeProto{attrIs("pads", []int{1, 1, 1, 1})}
	bn := node("/bn/BatchNormalization", "BatchNormalization", []string{"c", "g", "be", "mu", "var"}, "y")
	mp := tinyModel(17, []*onnxpb.NodeProto{conv, bn}, inits...)
	mp.Graph.Input = []*onnxpb.ValueInfoProto{valueInfo("x", []int{1, 2, 5, 5}, true)}
	mp.Graph.Output = []*onnxpb.ValueInfoProto{valueInfo("y", []int{1, 3, 5, 5}, true)}
	m, err := Import(writeModel(t, t.TempDir(), mp), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if k := m.KindCounts(); k[ops.OpBatchNorm] != 0 || k[ops.OpConv2d] != 1 {
		t.Fatalf("kinds %v, want one conv2d and no batchnorm", k)
	}
	x := ops.New(4, 2, 5, 5)
	for i := range x.Data {
		x.Data[i] = float32((i*13)%17)/17 - 0.5
	}
	c := evalCtx(t)
	tensor := func(i int) *ops.Tensor {
		k, err := tensorData(inits[i], "")
		if err != nil {
			t.Fatal(err)
		}
		return k.tensor()
	}
	ref := c.BatchNorm(c.Conv2d(x, tensor(0), tensor(1), ops.Conv2dOptions{Padding: [2]int{1, 1}}),
		tensor(2), tensor(3), tensor(4), tensor(5), ops.BatchNormOptions{})
	if d := maxAbsDiff(forward(t, m, x).Data, ref.Data); d > 1e-5 {
		t.Fatalf("folded conv differs from conv then batch norm by %.3g", d)
	}
}
