package ops_test

import (
	"math"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
)

// TestInt8CodesPassThroughPoolAndFlatten: in conv → ReLU → max pool →
// conv → ReLU → flatten → linear, both convolutions requantize straight
// into the next layer's scale, the pool takes the maximum of the codes
// and flatten relabels them (no float value between the layers), and the
// result stays close to the float model.
func TestInt8CodesPassThroughPoolAndFlatten(t *testing.T) {
	b := ops.NewBuilder("cnn", 1)
	x := b.Input("x")
	h := b.Conv2d("conv1", x, 3, 6, 3, ops.Conv2dOptions{Padding: [2]int{1, 1}}, true)
	h = b.Act(ops.OpReLU, "relu1", h)
	h = b.Op(ops.OpMaxPool2d, "pool", ops.Attrs{Kernel: []int{2, 2}}, h)
	h = b.Conv2d("conv2", h, 6, 8, 3, ops.Conv2dOptions{Padding: [2]int{1, 1}}, true)
	h = b.Act(ops.OpReLU, "relu2", h)
	h = b.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, h)
	y := b.Linear("fc", h, 128, 5, true)
	m, err := b.Build(y)
	if err != nil {
		t.Fatal(err)
	}
	in := ops.New(3, 3, 8, 8)
	for i := range in.Data {
		in.Data[i] = float32((i*13)%17)/8 - 1
	}
	want := forward(t, m, in)
	scales := calibrate(t, m, in)
	r, err := m.ConvertInt8(ops.Int8Options{InputScales: scales})
	if err != nil {
		t.Fatal(err)
	}
	if r.Converted != 3 || r.FusedReLU != 2 || r.Int8Outputs != 2 {
		t.Fatalf("report %+v, want 3 converted, 2 fused ReLUs, 2 int8 outputs", r)
	}
	outs := map[string]*ops.Tensor{}
	hook := func(n *ops.Node, _ []*ops.Tensor, out *ops.Tensor) { outs[n.Name] = out }
	got, err := m.ForwardObserved(newCtx(false, false), hook, in)
	if err != nil {
		t.Fatal(err)
	}
	c1, s1, ok1 := outs["conv1"].Int8()
	pq, ps, okp := outs["pool"].Int8()
	fq, fs, okf := outs["flatten"].Int8()
	if !ok1 || !okp || !okf || s1 != scales["conv2"] || ps != s1 || fs != scales["fc"] {
		t.Fatalf("int8 outputs: conv1 %v (scale %v), pool %v (%v), flatten %v (%v); want int8 in scales %v and %v", ok1, s1, okp, ps, okf, fs, scales["conv2"], scales["fc"])
	}
	for img := range 3 {
		for ch := range 6 {
			for oh := range 4 {
				for ow := range 4 {
					at := func(i, j int) int8 { return c1[((img*6+ch)*8+2*oh+i)*8+2*ow+j] }
					if w, g := max(at(0, 0), at(0, 1), at(1, 0), at(1, 1)), pq[((img*6+ch)*4+oh)*4+ow]; g != w {
						t.Fatalf("pool (%d,%d,%d,%d): code %d, want the window's max %d", img, ch, oh, ow, g, w)
					}
				}
			}
		}
	}
	if len(fq) != 3*128 || outs["flatten"].Shape[1] != 128 {
		t.Fatalf("flatten: %d codes, shape %v", len(fq), outs["flatten"].Shape)
	}
	assertClose(t, "int8 cnn vs float", got[0], want, tol{atol: 0.05 * maxAbs(want)})
}

// TestInt8OutputsRecycledAcrossReset: the int8 activations of conv and
// pool come from the context's arena; a forward on recycled (dirty)
// buffers after Reset gives the same bits as the first, odd sizes and
// padding included.
func TestInt8OutputsRecycledAcrossReset(t *testing.T) {
	b := ops.NewBuilder("cnn", 1)
	x := b.Input("x")
	h := b.Conv2d("conv1", x, 3, 5, 3, ops.Conv2dOptions{Padding: [2]int{1, 1}}, true)
	h = b.Act(ops.OpReLU, "relu1", h)
	h = b.Op(ops.OpMaxPool2d, "pool", ops.Attrs{Kernel: []int{2, 2}}, h)
	h = b.Conv2d("conv2", h, 5, 7, 3, ops.Conv2dOptions{Padding: [2]int{1, 1}}, true)
	h = b.Act(ops.OpReLU, "relu2", h)
	h = b.Op(ops.OpMaxPool2d, "pool2", ops.Attrs{Kernel: []int{3, 3}, Stride: []int{2, 2}, Padding: []int{1, 1}}, h)
	h = b.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, h)
	y := b.Linear("fc", h, 7*2*2, 5, true)
	m, err := b.Build(y)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(seed int) *ops.Tensor {
		in := ops.New(3, 3, 9, 9)
		for i := range in.Data {
			in.Data[i] = float32((i*seed)%17)/8 - 1
		}
		return in
	}
	a, other := mk(13), mk(7)
	r, err := m.ConvertInt8(ops.Int8Options{InputScales: calibrate(t, m, a)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Int8Outputs != 2 {
		t.Fatalf("report %+v, want 2 int8 outputs", r)
	}
	ctx := newCtx(false, false)
	run := func(in *ops.Tensor) []float32 {
		defer ctx.Reset()
		got, err := m.ForwardObserved(ctx, nil, in)
		if err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), got[0].Data...)
	}
	first := run(a)
	run(other)
	again := run(a)
	for i := range first {
		if math.Float32bits(first[i]) != math.Float32bits(again[i]) {
			t.Fatalf("logit %d: %v after Reset, first %v", i, again[i], first[i])
		}
	}
}

// TestInt8FlattenOfChannelLastCodes: a flatten of a conv's channel-last
// codes stays channel-last and the qlinear reading it permutes its weight
// columns instead: the logits are bit-identical to the run where the
// flatten's codes are moved to NCHW order first (a hook reading them,
// which also keeps the 2×2 pool out of the convolution's epilogue), on
// 1 and 3 workers.
func TestInt8FlattenOfChannelLastCodes(t *testing.T) {
	b := ops.NewBuilder("cnn", 1)
	x := b.Input("x")
	h := b.Conv2d("conv1", x, 3, 5, 3, ops.Conv2dOptions{Padding: [2]int{1, 1}}, true)
	h = b.Act(ops.OpReLU, "relu1", h)
	h = b.Op(ops.OpMaxPool2d, "pool", ops.Attrs{Kernel: []int{2, 2}}, h)
	h = b.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, h)
	y := b.Linear("fc", h, 5*3*4, 7, true)
	m, err := b.Build(y)
	if err != nil {
		t.Fatal(err)
	}
	in := ops.New(2, 3, 7, 9)
	for i := range in.Data {
		in.Data[i] = float32((i*11)%19)/9 - 1
	}
	if _, err := m.ConvertInt8(ops.Int8Options{InputScales: calibrate(t, m, in)}); err != nil {
		t.Fatal(err)
	}
	run := func(ctx *ops.Context, toNCHW bool) []float32 {
		hook := func(n *ops.Node, _ []*ops.Tensor, out *ops.Tensor) {
			if toNCHW && n.Name == "flatten" {
				if _, _, ok := out.Int8(); !ok {
					t.Fatal("flatten output is not int8")
				}
			}
		}
		got, err := m.ForwardObserved(ctx, hook, in)
		if !toNCHW { // no hook: the pool runs in the convolution's epilogue
			got, err = m.Forward(ctx, in)
		}
		if err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), got[0].Data...)
	}
	for _, threads := range []int{1, 3} {
		ctx := ops.NewContext(cpu.New(cpu.Options{Threads: threads}), ops.Options{})
		want, got := run(ctx, true), run(ctx, false)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("threads=%d logit %d: %v reading channel-last codes, %v reading NCHW codes", threads, i, got[i], want[i])
			}
		}
	}
}
