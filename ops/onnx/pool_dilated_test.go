package onnx

import (
	"math"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/onnx/onnxpb"
)

// maxPoolRef is ONNX MaxPool on one NCHW tensor, directly: windows of
// kernel k with dilation d, stride s and pads p (begin h, w, end h, w),
// padding never chosen; ceil rounds the output size up.
func maxPoolRef(x []float32, n, c, h, w int, k, d, s, p []int, ceil bool) ([]float32, [2]int) {
	var o [2]int
	for a, size := range []int{h, w} {
		span := size + p[a] + p[a+2] - (d[a]*(k[a]-1) + 1)
		o[a] = span/s[a] + 1
		if ceil && span%s[a] != 0 {
			o[a]++
		}
	}
	y := make([]float32, n*c*o[0]*o[1])
	for i := range n * c {
		for oh := range o[0] {
			for ow := range o[1] {
				best := float32(math.Inf(-1))
				for kh := range k[0] {
					for kw := range k[1] {
						ih, iw := oh*s[0]-p[0]+kh*d[0], ow*s[1]-p[1]+kw*d[1]
						if ih >= 0 && ih < h && iw >= 0 && iw < w {
							best = max(best, x[(i*h+ih)*w+iw])
						}
					}
				}
				y[(i*o[0]+oh)*o[1]+ow] = best
			}
		}
	}
	return y, o
}

// TestDilatedMaxPoolMatchesReference: MaxPool with dilations (pads,
// strides and ceil_mode included) imports as padded strided slices and
// maxima, equal to a direct pooling.
func TestDilatedMaxPoolMatchesReference(t *testing.T) {
	for _, c := range []struct {
		k, d, s, p []int
		ceil       bool
	}{
		{[]int{2, 2}, []int{2, 2}, []int{1, 1}, []int{0, 0, 0, 0}, false},
		{[]int{3, 2}, []int{2, 3}, []int{2, 1}, []int{1, 0, 1, 2}, false},
		{[]int{3, 3}, []int{2, 2}, []int{3, 2}, []int{1, 1, 1, 1}, true},
		{[]int{3, 2}, []int{2, 3}, []int{4, 3}, []int{1, 2, 0, 1}, false}, // strides multiples of the dilations
		{[]int{2, 3}, []int{2, 2}, []int{2, 4}, []int{1, 1, 1, 1}, true},
	} {
		const n, ch, h, w = 2, 3, 9, 10
		nd := node("/pool", "MaxPool", []string{"x"}, "y")
		nd.Attribute = []*onnxpb.AttributeProto{attrIs("kernel_shape", c.k), attrIs("dilations", c.d), attrIs("strides", c.s),
			attrIs("pads", c.p), attrI("ceil_mode", map[bool]int{false: 0, true: 1}[c.ceil])}
		mp := tinyModel(17, []*onnxpb.NodeProto{nd})
		mp.Graph.Input = []*onnxpb.ValueInfoProto{valueInfo("x", []int{n, ch, h, w}, false)}
		m, err := Import(writeModel(t, t.TempDir(), mp), ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		x := ops.New(n, ch, h, w)
		for i := range x.Data {
			x.Data[i] = float32(math.Sin(float64(i)*1.7)) - 0.2
		}
		got := forward(t, m, x)
		want, o := maxPoolRef(x.Data, n, ch, h, w, c.k, c.d, c.s, c.p, c.ceil)
		if !ops.SameShape(got.Shape, []int{n, ch, o[0], o[1]}) {
			t.Fatalf("%+v: shape %v, want %v", c, got.Shape, []int{n, ch, o[0], o[1]})
		}
		if d := maxAbsDiff(got.Data, want); d != 0 {
			t.Errorf("%+v: max |got - want| = %g", c, d)
		}
	}
}
