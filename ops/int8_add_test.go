package ops_test

import (
	"math"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
)

// residualNet is a stem and two residual blocks (identity shortcut, then
// a strided 1×1 projection shortcut), global average pooling and a
// classifier: the shape of resnet20.
func residualNet(t *testing.T) *ops.Model {
	b := ops.NewBuilder("res", 1)
	x := b.Input("x")
	pad := ops.Conv2dOptions{Padding: [2]int{1, 1}}
	h := b.Act(ops.OpReLU, "stem.relu", b.Conv2d("stem", x, 3, 8, 3, pad, true))
	block := func(name string, h *ops.Node, in, out, stride int) *ops.Node {
		o := ops.Conv2dOptions{Padding: [2]int{1, 1}, Stride: [2]int{stride, stride}}
		y := b.Act(ops.OpReLU, name+".relu1", b.Conv2d(name+".conv1", h, in, out, 3, o, true))
		y = b.Conv2d(name+".conv2", y, out, out, 3, pad, true)
		short := h
		if stride != 1 || in != out {
			short = b.Conv2d(name+".down", h, in, out, 1, ops.Conv2dOptions{Stride: [2]int{stride, stride}}, true)
		}
		return b.Act(ops.OpReLU, name+".relu2", b.Op(ops.OpAdd, name+".add", ops.Attrs{}, y, short))
	}
	h = block("b1", h, 8, 8, 1)
	h = block("b2", h, 8, 16, 2)
	h = block("b3", h, 16, 16, 1)
	h = b.Op(ops.OpGlobalAvgPool, "pool", ops.Attrs{}, h)
	m, err := b.Build(b.Linear("fc", h, 16, 5, true))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestInt8ResidualAdds: the adds of residual blocks feeding int8 layers
// become int8 adds with their ReLU fused (the last, feeding the pool,
// stays float); each writes exactly the codes of its operands' float
// sum, ReLU and quantization in its output scale; the logits are bit-
// identical whether the codes travel channel-last or are moved to NCHW
// between layers, and stay close to the float model.
func TestInt8ResidualAdds(t *testing.T) {
	m := residualNet(t)
	in := ops.New(2, 3, 9, 11)
	for i := range in.Data {
		in.Data[i] = float32((i*7)%23)/11 - 1
	}
	want := forward(t, m, in)
	r, err := m.ConvertInt8(ops.Int8Options{InputScales: calibrate(t, m, in)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Int8Adds != 2 || r.FusedReLU != 4+2 {
		t.Fatalf("report %+v, want 2 int8 adds and 6 fused ReLUs (4 conv, 2 add)", r)
	}
	if a := m.NodeByName("b3.add"); a.Attrs.OutScale != 0 || a.Attrs.FusedReLU {
		t.Fatalf("last add (feeding the pool): attrs %+v, want a float add", a.Attrs)
	}
	for _, threads := range []int{1, 3} {
		ctx := ops.NewContext(cpu.New(cpu.Options{Threads: threads}), ops.Options{})
		plain, err := m.ForwardObserved(ctx, nil, in)
		if err != nil {
			t.Fatal(err)
		}
		logits := append([]float32(nil), plain[0].Data...)
		checked := 0
		hook := func(n *ops.Node, args []*ops.Tensor, out *ops.Tensor) {
			if n.Kind != ops.OpAdd || n.Attrs.OutScale == 0 {
				return
			}
			a, b := ctx.Dequantize(args[0]), ctx.Dequantize(args[1])
			got, s, ok := out.Int8()
			if !ok || s != n.Attrs.OutScale {
				t.Fatalf("%s: output int8 %v in scale %v, want scale %v", n.Name, ok, s, n.Attrs.OutScale)
			}
			for i, g := range got {
				v := max(a.Data[i]+b.Data[i], 0)
				w := int8(math.Max(-128, math.Min(127, math.RoundToEven(float64(v*(1/s))))))
				if g != w {
					t.Fatalf("%s: code %d = %d, want %d (sum %v)", n.Name, i, g, w, v)
				}
			}
			checked++
		}
		got, err := m.ForwardObserved(ctx, hook, in)
		if err != nil {
			t.Fatal(err)
		}
		if checked != 2 {
			t.Fatalf("%d int8 adds ran, want 2", checked)
		}
		for i := range logits {
			if math.Float32bits(got[0].Data[i]) != math.Float32bits(logits[i]) {
				t.Fatalf("threads=%d logit %d: %v with NCHW codes between layers, %v channel-last", threads, i, got[0].Data[i], logits[i])
			}
		}
		assertClose(t, "int8 residual net vs float", got[0], want, tol{atol: 0.1 * maxAbs(want)})
	}
}

// TestInt8ClipFusedIntoEpilogue: a clip [0, 6] (ReLU6) after an int8
// conv or linear with float output runs in the layer's epilogue at
// inference; the logits are bit-identical to running the clip node (a
// hook keeps the nodes apart), on 1 and 3 workers.
func TestInt8ClipFusedIntoEpilogue(t *testing.T) {
	b := ops.NewBuilder("relu6", 1)
	x := b.Input("x")
	h := b.Conv2d("expand", x, 3, 12, 1, ops.Conv2dOptions{}, true)
	h = b.Op(ops.OpClip, "relu6a", ops.Attrs{Lo: 0, Hi: 6}, h)
	h = b.Conv2d("dw", h, 12, 12, 3, ops.Conv2dOptions{Padding: [2]int{1, 1}, Groups: 12}, true)
	h = b.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, h)
	h = b.Linear("fc1", h, 12*5*6, 16, true)
	h = b.Op(ops.OpClip, "relu6b", ops.Attrs{Lo: 0, Hi: 6}, h)
	m, err := b.Build(b.Linear("fc2", h, 16, 3, true))
	if err != nil {
		t.Fatal(err)
	}
	in := ops.New(2, 3, 5, 6)
	for i := range in.Data {
		in.Data[i] = float32((i*5)%13) - 4 // wide enough to reach 6
	}
	want := forward(t, m, in)
	scales := calibrate(t, m, in)
	delete(scales, "dw") // grouped: stays float
	if _, err := m.ConvertInt8(ops.Int8Options{InputScales: scales}); err != nil {
		t.Fatal(err)
	}
	for _, threads := range []int{1, 3} {
		ctx := ops.NewContext(cpu.New(cpu.Options{Threads: threads}), ops.Options{})
		fused, err := m.Forward(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		got := append([]float32(nil), fused[0].Data...)
		apart, err := m.ForwardObserved(ctx, func(*ops.Node, []*ops.Tensor, *ops.Tensor) {}, in)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(apart[0].Data[i]) {
				t.Fatalf("threads=%d logit %d: %v with the clip fused, %v apart", threads, i, got[i], apart[0].Data[i])
			}
		}
		assertClose(t, "int8 relu6 net vs float", apart[0], want, tol{atol: 0.1 * maxAbs(want)})
	}
}
