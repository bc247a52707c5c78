package ops_test

import (
	"math"
	"testing"

	"github.com/qpipe/qpipe/ops"
	_ "github.com/qpipe/qpipe/ops/cpu"
)

func extCtx(t *testing.T, grad bool) *ops.Context {
	t.Helper()
	be, err := ops.NewBackend("cpu")
	if err != nil {
		t.Fatal(err)
	}
	return ops.NewContext(be, ops.Options{Grad: grad})
}

// runKind evaluates one node of kind k with attrs on the inputs.
func runKind(t *testing.T, c *ops.Context, k ops.OpKind, a ops.Attrs, ins ...*ops.Tensor) *ops.Tensor {
	t.Helper()
	m := ops.NewModel("k")
	var ids []int
	for range ins {
		n := m.AddNode(&ops.Node{Kind: ops.OpInput})
		ids = append(ids, n.ID)
	}
	m.Inputs = ids
	out := m.AddNode(&ops.Node{Kind: k, Attrs: a, Inputs: ids})
	m.Outputs = []int{out.ID}
	y, err := m.Forward1(c, ins...)
	if err != nil {
		t.Fatal(err)
	}
	return y
}

// TestExtKindsForward: each kind against a float64 reference written
// from the ONNX operator definitions.
func TestExtKindsForward(t *testing.T) {
	x := ops.MustFromData([]float32{-7, -2.5, -0.5, 0, 0.25, 1, 3.5, 8}, 2, 4)
	y := ops.MustFromData([]float32{1, -1, 0.5, 2}, 4)
	ref := func(f func(float64) float64) []float64 {
		out := make([]float64, len(x.Data))
		for i, v := range x.Data {
			out[i] = f(float64(v))
		}
		return out
	}
	cases := []struct {
		name string
		k    ops.OpKind
		a    ops.Attrs
		ins  []*ops.Tensor
		want []float64
	}{
		{"clip relu6", ops.OpClip, ops.Attrs{Lo: 0, Hi: 6}, []*ops.Tensor{x}, ref(func(v float64) float64 { return math.Min(math.Max(v, 0), 6) })},
		{"hardsigmoid", ops.OpHardSigmoid, ops.Attrs{Alpha: 1. / 6, Beta: 0.5}, []*ops.Tensor{x},
			ref(func(v float64) float64 { return math.Min(math.Max(v/6+0.5, 0), 1) })},
		{"softplus", ops.OpSoftplus, ops.Attrs{}, []*ops.Tensor{x}, ref(func(v float64) float64 { return math.Log(1 + math.Exp(v)) })},
		{"erf", ops.OpErf, ops.Attrs{}, []*ops.Tensor{x}, ref(math.Erf)},
		{"max", ops.OpMax, ops.Attrs{}, []*ops.Tensor{x, y}, []float64{1, -1, 0.5, 2, 1, 1, 3.5, 8}},
		{"min", ops.OpMin, ops.Attrs{}, []*ops.Tensor{x, y}, []float64{-7, -2.5, -0.5, 0, 0.25, -1, 0.5, 2}},
		{"reduce_max axis 1", ops.OpReduceMax, ops.Attrs{Axes: []int{1}}, []*ops.Tensor{x}, []float64{0, 8}},
		{"reduce_min all", ops.OpReduceMin, ops.Attrs{KeepDims: true}, []*ops.Tensor{x}, []float64{-7}},
		{"pad", ops.OpPad, ops.Attrs{Pads: []int{0, 1, 1, 0}, PadValue: 9}, []*ops.Tensor{x},
			[]float64{9, -7, -2.5, -0.5, 0, 9, 0.25, 1, 3.5, 8, 9, 9, 9, 9, 9}},
	}
	for _, c := range cases {
		got := runKind(t, extCtx(t, false), c.k, c.a, c.ins...)
		if len(got.Data) != len(c.want) {
			t.Errorf("%s: %d values %v, want %d", c.name, len(got.Data), got.Shape, len(c.want))
			continue
		}
		for i, w := range c.want {
			if d := math.Abs(float64(got.Data[i]) - w); d > 1e-6*math.Max(1, math.Abs(w)) {
				t.Errorf("%s[%d] = %v, want %v", c.name, i, got.Data[i], w)
			}
		}
	}
	if s := runKind(t, extCtx(t, false), ops.OpReduceMax, ops.Attrs{Axes: []int{0}, KeepDims: true}, x).Shape; !ops.SameShape(s, []int{1, 4}) {
		t.Errorf("reduce_max keep dims shape %v", s)
	}
}

// TestExtKindsGradient: backward against central finite differences of
// sum(w·f(x)) in float64, away from the kinks.
func TestExtKindsGradient(t *testing.T) {
	xs := []float32{-2.3, -0.7, 0.4, 1.3, 2.2, 4.1}
	ys := []float32{0.1, -0.9, 1.9, 0.2, 2.6, -1}
	w := []float32{0.3, -1.1, 0.7, 2, -0.4, 1.5}
	cases := []struct {
		name string
		k    ops.OpKind
		a    ops.Attrs
		two  bool
	}{
		{"clip", ops.OpClip, ops.Attrs{Lo: -1, Hi: 2}, false},
		{"hardsigmoid", ops.OpHardSigmoid, ops.Attrs{Alpha: 0.2, Beta: 0.5}, false},
		{"softplus", ops.OpSoftplus, ops.Attrs{}, false},
		{"erf", ops.OpErf, ops.Attrs{}, false},
		{"max", ops.OpMax, ops.Attrs{}, true},
		{"min", ops.OpMin, ops.Attrs{}, true},
		{"reduce_max", ops.OpReduceMax, ops.Attrs{Axes: []int{1}, KeepDims: true}, false},
		{"pad", ops.OpPad, ops.Attrs{Pads: []int{1, 0, 0, 2}, PadValue: -3}, false},
	}
	for _, cs := range cases {
		loss := func(c *ops.Context, x, y *ops.Tensor) *ops.Tensor {
			ins := []*ops.Tensor{x}
			if cs.two {
				ins = append(ins, y)
			}
			out := runKind(t, c, cs.k, cs.a, ins...)
			wt := ops.New(out.Shape...)
			for i := range wt.Data {
				wt.Data[i] = w[i%len(w)]
			}
			return c.SumAll(c.Mul(out, wt))
		}
		c := extCtx(t, true)
		x := ops.MustFromData(append([]float32{}, xs...), 2, 3)
		y := ops.MustFromData(append([]float32{}, ys...), 2, 3)
		x.SetRequiresGrad(true)
		y.SetRequiresGrad(true)
		if err := c.Backward(loss(c, x, y)); err != nil {
			t.Fatal(err)
		}
		for _, v := range []struct {
			t    *ops.Tensor
			name string
		}{{x, "x"}, {y, "y"}} {
			if v.name == "y" && !cs.two {
				continue
			}
			for i := range v.t.Data {
				const h = 1e-3
				at := func(d float32) float64 {
					x2 := ops.MustFromData(append([]float32{}, xs...), 2, 3)
					y2 := ops.MustFromData(append([]float32{}, ys...), 2, 3)
					tgt := x2
					if v.name == "y" {
						tgt = y2
					}
					tgt.Data[i] += d
					return float64(loss(extCtx(t, false), x2, y2).Data[0])
				}
				num := (at(h) - at(-h)) / (2 * h)
				if got := float64(v.t.Grad().Data[i]); math.Abs(got-num) > 2e-2*math.Max(1, math.Abs(num)) {
					t.Errorf("%s: d/d%s[%d] = %.5f, finite differences %.5f", cs.name, v.name, i, got, num)
				}
			}
		}
	}
}
