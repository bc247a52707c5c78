package ops_test

import (
	"math"
	"testing"

	"github.com/qpipe/qpipe/ops"
)

func twoLayer(t *testing.T, act ops.OpKind) *ops.Model {
	b := ops.NewBuilder("mlp", 5)
	x := b.Input("x")
	h := b.Linear("fc1", x, 24, 32, true)
	h = b.Act(act, "act", h)
	y := b.Linear("fc2", h, 32, 6, true)
	m, err := b.Build(y)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// calibrate records max|input| of every linear/conv node over one batch
// and returns symmetric int8 scales (max/127).
func calibrate(t *testing.T, m *ops.Model, x *ops.Tensor) map[string]float32 {
	scales := map[string]float32{}
	hook := func(n *ops.Node, in []*ops.Tensor, out *ops.Tensor) {
		if n.Kind != ops.OpLinear && n.Kind != ops.OpConv2d {
			return
		}
		for _, v := range in[0].Data {
			scales[n.Name] = max(scales[n.Name], float32(math.Abs(float64(v)))/127)
		}
	}
	if _, err := m.ForwardObserved(newCtx(false, false), hook, x); err != nil {
		t.Fatal(err)
	}
	return scales
}

func maxAbs(t *ops.Tensor) float64 {
	m := 0.0
	for _, v := range t.Data {
		m = math.Max(m, math.Abs(float64(v)))
	}
	return m
}

// emulateQLinear is the int8 layer in plain integer arithmetic.
func emulateQLinear(xq []int8, rows int, w, b *ops.Tensor, sa, so float32, relu bool) (q []int8, f []float32) {
	wq, sw := ops.QuantizeWeightsInt8(w)
	n, k := w.Shape[0], w.Shape[1]
	for i := range rows {
		for j := range n {
			var acc int32
			for p := range k {
				acc += int32(xq[i*k+p]) * int32(wq[j*k+p])
			}
			bias := int32(math.RoundToEven(float64(b.Data[j] / (sa * sw[j]))))
			scale := sa * sw[j]
			if so > 0 {
				scale /= so
			}
			v := float32(acc+bias) * scale
			if relu {
				v = max(v, 0)
			}
			if so > 0 {
				q = append(q, int8(min(max(math.RoundToEven(float64(v)), -128), 127)))
			} else {
				f = append(f, v)
			}
		}
	}
	return q, f
}

func quantize(x []float32, s float32) []int8 {
	q := make([]int8, len(x))
	inv := 1 / s
	for i, v := range x {
		q[i] = int8(min(max(math.RoundToEven(float64(v*inv)), -128), 127))
	}
	return q
}

func TestInt8ReLUMLPFusesAndChainsInt8(t *testing.T) {
	m := twoLayer(t, ops.OpReLU)
	x := input(7, 24)
	want := forward(t, m, x)
	scales := calibrate(t, m, x)
	r, err := m.ConvertInt8(ops.Int8Options{InputScales: scales})
	if err != nil {
		t.Fatal(err)
	}
	if r.Converted != 2 || r.FusedReLU != 1 || r.Int8Outputs != 1 || len(m.FindKind(ops.OpReLU)) != 0 {
		t.Fatalf("report %+v, relus left %d", r, len(m.FindKind(ops.OpReLU)))
	}
	got := forward(t, m, x)

	// Exact integer emulation: fc1 requantizes (with ReLU) into fc2's scale.
	p := func(n string) *ops.Tensor { return m.Param(n).Value }
	s1, s2 := scales["fc1"], scales["fc2"]
	h, _ := emulateQLinear(quantize(x.Data, s1), 7, p("fc1.weight"), p("fc1.bias"), s1, s2, true)
	_, y := emulateQLinear(h, 7, p("fc2.weight"), p("fc2.bias"), s2, 0, false)
	assertClose(t, "int8 vs integer emulation", got, ops.MustFromData(y, 7, 6), tol{atol: 1e-6, rtol: 1e-6})
	// And close to the float model: within 3% of the output range.
	assertClose(t, "int8 vs float", got, want, tol{atol: 0.03 * maxAbs(want)})
}

func TestInt8GELUPathDequantizes(t *testing.T) {
	m := twoLayer(t, ops.OpGELU)
	x := input(5, 24)
	want := forward(t, m, x)
	r, err := m.ConvertInt8(ops.Int8Options{InputScales: calibrate(t, m, x)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Converted != 2 || r.FusedReLU != 0 || r.Int8Outputs != 0 || len(m.FindKind(ops.OpGELU)) != 1 {
		t.Fatalf("report %+v", r)
	}
	assertClose(t, "int8 gelu vs float", forward(t, m, x), want, tol{atol: 0.03 * maxAbs(want)})
}

func TestInt8ConvMatchesConvOfQuantizedValues(t *testing.T) {
	m := buildCNN(t)
	x := ops.New(2, 3, 8, 8)
	for i := range x.Data {
		x.Data[i] = float32((i*13)%17)/8 - 1
	}
	want := forward(t, m, x)
	scales := calibrate(t, m, x)
	// Reference: conv1 on dequantized int8 values computes the same sums.
	c := newCtx(false, false)
	w := m.Param("conv1.weight").Value
	wq, sw := ops.QuantizeWeightsInt8(w)
	wd := ops.New(w.Shape...)
	k := w.Numel() / w.Shape[0]
	for i, q := range wq {
		wd.Data[i] = float32(q) * sw[i/k]
	}
	xd := ops.New(x.Shape...)
	for i, q := range quantize(x.Data, scales["conv1"]) {
		xd.Data[i] = float32(q) * scales["conv1"]
	}
	conv1 := c.Conv2d(xd, wd, m.Param("conv1.bias").Value, ops.Conv2dOptions{Padding: [2]int{1, 1}})

	if _, err := m.ConvertInt8(ops.Int8Options{InputScales: scales}); err != nil {
		t.Fatal(err)
	}
	var got *ops.Tensor
	hook := func(n *ops.Node, in []*ops.Tensor, out *ops.Tensor) {
		if n.Name == "conv1" {
			got = c.Dequantize(out).Clone()
		}
	}
	out, err := m.ForwardObserved(newCtx(false, false), hook, x)
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "qconv2d vs conv of quantized values", got, conv1, tol{atol: 1e-5, rtol: 1e-4})
	assertClose(t, "int8 cnn vs float", out[0], want, tol{atol: 0.05 * maxAbs(want)})
}

func TestInt8NeedsScales(t *testing.T) {
	m := twoLayer(t, ops.OpReLU)
	if _, err := m.ConvertInt8(ops.Int8Options{InputScales: map[string]float32{"fc9": 1}}); err == nil {
		t.Fatal("unknown node accepted")
	}
	m.NodeByName("fc1").Kind = ops.OpQLinear
	if _, err := m.Forward(newCtx(false, false), input(2, 24)); err == nil {
		t.Fatal("qlinear without in_scale ran")
	}
}

func TestInt8UsesGivenWeightScales(t *testing.T) {
	m := twoLayer(t, ops.OpReLU)
	x := input(3, 24)
	scales := calibrate(t, m, x)
	fc2 := m.NodeByName("fc2")
	ws := ops.New(6)
	for i := range ws.Data {
		ws.Data[i] = 0.02 // coarser than max|W|/127: codes differ from the derived ones
	}
	if _, err := m.AddParam("fc2.weight_scale", ws, false); err != nil {
		t.Fatal(err)
	}
	fc2.Params["weight_scale"] = "fc2.weight_scale"
	if _, err := m.ConvertInt8(ops.Int8Options{InputScales: scales}); err != nil {
		t.Fatal(err)
	}
	got := forward(t, m, x)

	p := func(n string) *ops.Tensor { return m.Param(n).Value }
	s1, s2 := scales["fc1"], scales["fc2"]
	h, _ := emulateQLinear(quantize(x.Data, s1), 3, p("fc1.weight"), p("fc1.bias"), s1, s2, true)
	w, b := p("fc2.weight"), p("fc2.bias")
	want := make([]float32, 0, 18)
	for i := range 3 {
		for j := range 6 {
			var acc int32
			for k := range 32 {
				q := min(max(math.RoundToEven(float64(w.Data[j*32+k]/0.02)), -128), 127)
				acc += int32(h[i*32+k]) * int32(q)
			}
			bias := int32(math.RoundToEven(float64(b.Data[j] / (s2 * 0.02))))
			want = append(want, float32(acc+bias)*(s2*0.02))
		}
	}
	assertClose(t, "int8 with given weight scales", got, ops.MustFromData(want, 3, 6), tol{atol: 1e-6, rtol: 1e-6})
}
