package opstest

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The analytic float64 gradients the large cases use, against central
// finite differences of their own forward references on small shapes.
func TestAnalyticGradientsMatchFiniteDifferences(t *testing.T) {
	geoms := []struct {
		name   string
		xs, ws []int
		g      convGeom
	}{
		{"pad1", []int{2, 3, 5, 4}, []int{4, 3, 3, 3}, convGeom{1, 1, 1, 1, 1, 1, 1}},
		{"stride2_dilation2", []int{1, 2, 7, 7}, []int{3, 2, 3, 2}, convGeom{2, 2, 2, 1, 2, 2, 1}},
		{"groups2", []int{1, 4, 5, 5}, []int{6, 2, 3, 3}, convGeom{2, 1, 1, 0, 1, 1, 2}},
	}
	var cases []tcase
	for _, e := range geoms {
		cases = append(cases, tcase{name: "conv_" + e.name, inputs: []input{in(e.xs...), in(e.ws...), in(e.ws[0])},
			ref:     func(x []arr) arr { return refConv2d(x[0], x[1], &x[2], e.g) },
			refGrad: func(x []arr, r arr) []arr { return refConv2dGrads(x[0], x[1], true, e.g, r) }})
	}
	cases = append(cases, tcase{name: "slice_step", inputs: []input{in(2, 9, 3)},
		ref:     func(x []arr) arr { return refSlice(x[0], 1, 1, 2, 4) },
		refGrad: func(x []arr, r arr) []arr { return []arr{refSliceGrad(x[0].shape, r, 1, 1, 2)} }})
	for _, c := range bigCases() {
		switch {
		case c.refGrad == nil, c.name == "big_fake_quant_int8": // straight-through, not a derivative
			continue
		case c.name == "big_slice_step": // its indices need the large shape; slice_step above
			continue
		}
		small := c
		small.inputs = shrink(c.inputs)
		cases = append(cases, small)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			ins := make([]arr, len(c.inputs))
			for i, in := range c.inputs {
				ins[i] = draw(rng, in)
			}
			r := draw(rng, input{shape: c.ref(ins).shape})
			got := c.refGrad(ins, r)
			for i := range c.inputs {
				want := finiteDiff(c, ins, i, r, nil)
				for j, w := range want.data {
					if math.Abs(got[i].data[j]-w) > 1e-6*(1+math.Abs(w)) {
						t.Fatalf("input %d element %d: analytic %.9g, finite differences %.9g", i, j, got[i].data[j], w)
					}
				}
			}
		})
	}
}

// shrink cuts every axis of the inputs to at most 5 while keeping equal
// sizes equal, so shapes that must agree still agree.
func shrink(ins []input) []input {
	out := make([]input, len(ins))
	for i, in := range ins {
		in.shape = append([]int(nil), in.shape...)
		for k, d := range in.shape {
			in.shape[k] = small(d)
		}
		out[i] = in
	}
	return out
}

func small(d int) int {
	if d <= 5 {
		return d
	}
	return 2 + d%4
}
