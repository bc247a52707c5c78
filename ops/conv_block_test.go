package ops_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// blockCounter is the CPU backend counting the inverted residual blocks
// handed to it and the ones it banded; with decline set it takes none,
// with noStem none whose expansion is not a 1×1 convolution.
type blockCounter struct {
	*cpu.Backend
	decline, noStem bool
	offered, taken  int
}

func (c *blockCounter) ConvBlock(b ops.ConvBlock) (bool, error) {
	c.offered++
	if c.decline || c.noStem && b.Expand.W != nil && b.Expand.P.KH*b.Expand.P.KW > 1 {
		return false, nil
	}
	done, err := c.Backend.ConvBlock(b)
	if done {
		c.taken++
	}
	return done, err
}

// mobileBlocks is three MobileNetV2 inverted residual blocks: one without
// expansion (depthwise 3×3 → ReLU6 → 1×1 projection), then two with (1×1
// expansion → ReLU6 → depthwise 3×3 → ReLU6 → 1×1 projection), the first
// at stride 1 with its residual add, the second at stride 2 without; then
// a classifier.
func mobileBlocks(t *testing.T) *ops.Model {
	b := ops.NewBuilder("mobile", 1)
	x := b.Input("x")
	relu6 := ops.Attrs{Lo: 0, Hi: 6}
	block := func(name string, x *ops.Node, c, e, o, s int) *ops.Node {
		h := b.Op(ops.OpClip, name+".a1", relu6, b.Conv2d(name+".expand", x, c, e, 1, ops.Conv2dOptions{}, true))
		dw := ops.Conv2dOptions{Padding: [2]int{1, 1}, Stride: [2]int{s, s}, Groups: e}
		h = b.Op(ops.OpClip, name+".a2", relu6, b.Conv2d(name+".dw", h, e, e, 3, dw, true))
		return b.Conv2d(name+".project", h, e, o, 1, ops.Conv2dOptions{}, true)
	}
	// a block without expansion (MobileNetV2's first): depthwise → ReLU6 → 1×1
	dw := ops.Conv2dOptions{Padding: [2]int{1, 1}, Groups: 16}
	x = b.Conv2d("b0.project", b.Op(ops.OpClip, "b0.a2", relu6, b.Conv2d("b0.dw", x, 16, 16, 3, dw, true)), 16, 16, 1, ops.Conv2dOptions{}, true)
	h := b.Op(ops.OpAdd, "add", ops.Attrs{}, block("b1", x, 16, 96, 16, 1), x)
	h = block("b2", h, 16, 96, 24, 2)
	y := b.Linear("fc", b.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, h), 24*20*20, 3, true)
	m, err := b.Build(y)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, p := range m.Params() {
		for i := range p.Value.Data {
			p.Value.Data[i] = float32(r.NormFloat64()) * 0.3
		}
	}
	return m
}

// Inference hands each inverted residual block to the backend in one call
// (three here), and the CPU backend's banded blocks give the same bits as
// the block's convolutions one after the other (the backend declining:
// the executor's own path) and match the nodes run apart (a hook turns
// fusion off), at batch 1 and 2.
func TestConvBlockFusionMatchesUnfused(t *testing.T) {
	m := mobileBlocks(t)
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 2} {
		in := ops.New(n, 16, 40, 40)
		for i := range in.Data {
			in.Data[i] = float32(r.NormFloat64())
		}
		banded := &blockCounter{Backend: cpu.New(cpu.Options{Threads: 2})}
		got, err := m.Forward1(ops.NewContext(banded, ops.Options{}), in)
		if err != nil {
			t.Fatal(err)
		}
		wantBlocks(t, fmt.Sprintf("batch %d", n), banded, 3, 3)
		declined := &blockCounter{Backend: cpu.New(cpu.Options{Threads: 2}), decline: true}
		want, err := m.Forward1(ops.NewContext(declined, ops.Options{}), in)
		if err != nil {
			t.Fatal(err)
		}
		matchesLayered(t, fmt.Sprintf("batch %d", n), got, want, unfused(t, m, in)[0])
	}
}

// An expansion whose activation has a second reader is not folded into
// the block (its value is needed): the block offered starts at the
// depthwise convolution; both outputs match the nodes run apart (a hook
// turns fusion off) and, bit for bit, the layer-by-layer path.
func TestConvBlockKeepsValuesOthersRead(t *testing.T) {
	b := ops.NewBuilder("shared", 1)
	x := b.Input("x")
	relu6 := ops.Attrs{Lo: 0, Hi: 6}
	h := b.Op(ops.OpClip, "a1", relu6, b.Conv2d("expand", x, 8, 48, 1, ops.Conv2dOptions{}, true))
	dw := ops.Conv2dOptions{Padding: [2]int{1, 1}, Groups: 48}
	y := b.Conv2d("project", b.Op(ops.OpClip, "a2", relu6, b.Conv2d("dw", h, 48, 48, 3, dw, true)), 48, 8, 1, ops.Conv2dOptions{}, true)
	side := b.Op(ops.OpFlatten, "side", ops.Attrs{Axis: 1}, h) // h's second reader
	m, err := b.Build(y, side)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 10))
	in := ops.New(1, 8, 24, 24)
	for i := range in.Data {
		in.Data[i] = float32(r.NormFloat64())
	}
	banded := &blockCounter{Backend: cpu.New(cpu.Options{Threads: 2})}
	got, err := m.Forward(ops.NewContext(banded, ops.Options{}), in)
	if err != nil {
		t.Fatal(err)
	}
	wantBlocks(t, "the depthwise block alone", banded, 1, 1)
	layered, err := m.Forward(ops.NewContext(&blockCounter{Backend: cpu.New(cpu.Options{Threads: 2}), decline: true}, ops.Options{}), in)
	if err != nil {
		t.Fatal(err)
	}
	for o, a := range unfused(t, m, in) {
		matchesLayered(t, fmt.Sprintf("output %d", o), got[o], layered[o], a)
	}
}

// A 3×3 convolution before a depthwise block (MobileNetV2's stem) makes
// the pattern of a block with an expansion. The CPU backend bands it
// with the stem (one call); a backend that takes only 1×1 expansions
// declines it, and the executor then runs the stem alone and offers the
// rest. Both give the same bits as layer by layer, and the unfused
// nodes' values.
func TestConvBlockAfterAStem(t *testing.T) {
	b := ops.NewBuilder("stem", 1)
	x := b.Input("x")
	relu6 := ops.Attrs{Lo: 0, Hi: 6}
	stem := ops.Conv2dOptions{Padding: [2]int{1, 1}, Stride: [2]int{2, 2}}
	h := b.Op(ops.OpClip, "a0", relu6, b.Conv2d("stem", x, 3, 32, 3, stem, true))
	dw := ops.Conv2dOptions{Padding: [2]int{1, 1}, Groups: 32}
	y := b.Conv2d("project", b.Op(ops.OpClip, "a1", relu6, b.Conv2d("dw", h, 32, 32, 3, dw, true)), 32, 16, 1, ops.Conv2dOptions{}, true)
	m, err := b.Build(y)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(11, 12))
	in := ops.New(1, 3, 48, 48)
	for i := range in.Data {
		in.Data[i] = float32(r.NormFloat64())
	}
	layered, err := m.Forward1(ops.NewContext(&blockCounter{Backend: cpu.New(cpu.Options{Threads: 2}), decline: true}, ops.Options{}), in)
	if err != nil {
		t.Fatal(err)
	}
	apart := unfused(t, m, in)[0]
	for _, c := range []struct {
		be             *blockCounter
		offered, taken int
	}{
		{&blockCounter{Backend: cpu.New(cpu.Options{Threads: 2})}, 1, 1},               // banded with the stem
		{&blockCounter{Backend: cpu.New(cpu.Options{Threads: 2}), noStem: true}, 2, 1}, // with the stem, then without
	} {
		got, err := m.Forward1(ops.NewContext(c.be, ops.Options{}), in)
		if err != nil {
			t.Fatal(err)
		}
		wantBlocks(t, fmt.Sprintf("noStem %v", c.be.noStem), c.be, c.offered, c.taken)
		matchesLayered(t, fmt.Sprintf("noStem %v", c.be.noStem), got, layered, apart)
	}
}

// unfused is m's outputs with every node run on its own (an observing
// hook turns the executor's fusions off).
func unfused(t *testing.T, m *ops.Model, in *ops.Tensor) []*ops.Tensor {
	t.Helper()
	outs, err := m.ForwardObserved(ops.NewContext(cpu.New(cpu.Options{}), ops.Options{}), func(*ops.Node, []*ops.Tensor, *ops.Tensor) {}, in)
	if err != nil {
		t.Fatal(err)
	}
	return outs
}

// matchesLayered fails unless got has the bits of layered (the block's
// convolutions one after the other) and is within 1e-4·(1+|v|) of each
// value v of apart (the nodes run on their own).
func matchesLayered(t *testing.T, what string, got, layered, apart *ops.Tensor) {
	t.Helper()
	if len(got.Data) != len(apart.Data) || len(layered.Data) != len(apart.Data) {
		t.Fatalf("%s: %d and %d values, want %d", what, len(got.Data), len(layered.Data), len(apart.Data))
	}
	for i, v := range apart.Data {
		if math.Float32bits(got.Data[i]) != math.Float32bits(layered.Data[i]) {
			t.Fatalf("%s, value %d: banded %v, layer by layer %v", what, i, got.Data[i], layered.Data[i])
		}
		if d := math.Abs(float64(got.Data[i] - v)); d > 1e-4*(1+math.Abs(float64(v))) {
			t.Fatalf("%s, value %d: fused %v, unfused %v", what, i, got.Data[i], v)
		}
	}
}

// wantBlocks checks how many blocks the executor offered be and how many
// it banded. The CPU backend bands blocks only with its indirect GEMM
// kernel (AVX-512); elsewhere (AVX2, arm64, purego) it declines every
// block, the executor runs the layers, and the tests' comparisons check
// that path instead.
func wantBlocks(t *testing.T, what string, be *blockCounter, offered, taken int) {
	t.Helper()
	if !gemm.IndirectNative() {
		if be.taken != 0 {
			t.Fatalf("%s: %d blocks banded without the indirect kernel; want none", what, be.taken)
		}
		return
	}
	if be.offered != offered || be.taken != taken {
		t.Fatalf("%s: %d blocks offered, %d banded; want %d and %d", what, be.offered, be.taken, offered, taken)
	}
}
