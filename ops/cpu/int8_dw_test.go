package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// TestDepthwiseInt8MatchesReference: the int8 depthwise convolution gives
// the codes of ops.DepthwiseInt8Go (exact int32 window sums through the
// epilogue) for 3×3 stride 1 and 2 (the AVX-512 row kernel), padding 0-2,
// odd sizes, images with no inside pixel or row, channel counts off 16,
// batch 1 and 64, the epilogue with and without ReLU and a ReLU6 bound,
// other kernel shapes and dilation (the Go row), on 1-3 workers
// bit-identically.
func TestDepthwiseInt8MatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 6))
	type tc struct{ n, c, h, w, k1, k2, s, pad, dil int }
	cases := []tc{
		{1, 32, 7, 9, 3, 3, 1, 1, 1},
		{1, 17, 11, 10, 3, 3, 2, 1, 1},
		{1, 1, 5, 5, 3, 3, 1, 0, 1},
		{1, 96, 13, 13, 3, 3, 2, 1, 1},
		{64, 24, 6, 5, 3, 3, 1, 1, 1},
		{64, 19, 7, 7, 3, 3, 2, 1, 1},
		{2, 70, 9, 8, 3, 3, 1, 2, 1},
		{2, 16, 9, 8, 3, 3, 2, 0, 1},
		{1, 33, 8, 9, 5, 5, 1, 2, 1},
		{1, 9, 8, 9, 3, 1, 2, 1, 1},
		{1, 21, 10, 9, 3, 3, 1, 2, 2},
		{1, 18, 1, 2, 3, 3, 1, 1, 1},  // every pixel and row on the border
		{3, 40, 2, 3, 3, 3, 2, 1, 1},  // no inside pixel
		{1, 8, 12, 14, 3, 3, 2, 2, 1}, // two border columns each side
		{1, 35, 9, 30, 3, 3, 1, 1, 1}, // long inside runs
	}
	for _, c := range cases {
		p := ops.ConvParams{N: c.n, C: c.c, H: c.h, W: c.w, OutC: c.c, KH: c.k1, KW: c.k2, StrideH: c.s, StrideW: c.s,
			PadH: c.pad, PadW: c.pad, DilH: c.dil, DilW: c.dil, Groups: c.c}
		p.OutH = (c.h+2*c.pad-c.dil*(c.k1-1)-1)/c.s + 1
		p.OutW = (c.w+2*c.pad-c.dil*(c.k2-1)-1)/c.s + 1
		x := randInt8(r, c.n*c.h*c.w*c.c)
		w := randInt8(r, c.c*c.k1*c.k2)
		for _, ep := range dwEpilogues(r, c.c) {
			want := make([]int8, c.n*p.OutH*p.OutW*c.c)
			ops.DepthwiseInt8Go(p, x, w, ep, want, nil)
			for threads := 1; threads <= 3; threads++ {
				t.Run(fmt.Sprintf("%+v/relu%v-hi%v/t%d", c, ep.ReLU, ep.Hi, threads), func(t *testing.T) {
					be := New(Options{Threads: threads})
					pw, err := be.PackDepthwiseInt8(w, c.c, c.k1, c.k2)
					if err != nil {
						t.Fatal(err)
					}
					got := make([]int8, len(want))
					for i := range got {
						got[i] = 99 // every code must be written
					}
					if err := be.DepthwiseInt8(p, x, pw, ep, got); err != nil {
						t.Fatal(err)
					}
					if i := firstDiff(got, want); i >= 0 {
						t.Fatalf("code %d: got %d, want %d", i, got[i], want[i])
					}
				})
			}
		}
	}
}

// dwEpilogues are a plain requantize (outputs that saturate both ways),
// one with ReLU and one with a ReLU6 bound of 40 codes.
func dwEpilogues(r *rand.Rand, c int) []ops.Int8Epilogue {
	var eps []ops.Int8Epilogue
	for _, e := range []struct {
		relu bool
		hi   float32
	}{{false, 0}, {true, 0}, {true, 40.5}} {
		ep := ops.Int8Epilogue{Bias: make([]int32, c), Scale: make([]float32, c), ReLU: e.relu, Hi: e.hi}
		for j := range c {
			ep.Bias[j] = int32(r.IntN(4001) - 2000)
			ep.Scale[j] = 0.001 + r.Float32()*0.01
		}
		eps = append(eps, ep)
	}
	return eps
}

func firstDiff(a, b []int8) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// TestDepthwiseInt8Rejects: weights packed for another shape and short
// buffers are errors, not panics.
func TestDepthwiseInt8Rejects(t *testing.T) {
	be := New(Options{Threads: 1})
	if _, err := be.PackDepthwiseInt8(make([]int8, 10), 2, 3, 3); err == nil {
		t.Fatal("10 codes for (2, 1, 3, 3) accepted")
	}
	pw, err := be.PackDepthwiseInt8(make([]int8, 18), 2, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	p := ops.ConvParams{N: 1, C: 3, H: 4, W: 4, OutC: 3, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: 3, OutH: 2, OutW: 2}
	ep := ops.Int8Epilogue{Scale: []float32{1, 1, 1}}
	if err := be.DepthwiseInt8(p, make([]int8, 48), pw, ep, make([]int8, 12)); err == nil {
		t.Fatal("weights of 2 channels accepted for 3")
	}
	p.C, p.OutC, p.Groups = 2, 2, 2
	if err := be.DepthwiseInt8(p, make([]int8, 31), pw, ops.Int8Epilogue{Scale: []float32{1, 1}}, make([]int8, 8)); err == nil {
		t.Fatal("31 input codes accepted for 32")
	}
}

// BenchmarkDepthwiseInt8MobileNetV2 runs MobileNetV2's seventeen 3×3
// depthwise layers at batch 1 in int8 (requantize and ReLU6), as
// BenchmarkDepthwiseMobileNetV2 does in float, on one worker.
func BenchmarkDepthwiseInt8MobileNetV2(b *testing.B) {
	layers := []struct{ c, hw, s int }{
		{32, 112, 1}, {96, 112, 2}, {144, 56, 1}, {144, 56, 2}, {192, 28, 1}, {192, 28, 1},
		{192, 28, 2}, {384, 14, 1}, {384, 14, 1}, {384, 14, 1}, {384, 14, 1}, {576, 14, 1},
		{576, 14, 1}, {576, 14, 2}, {960, 7, 1}, {960, 7, 1}, {960, 7, 1},
	}
	be := New(Options{Threads: 1})
	type op struct {
		p    ops.ConvParams
		x, y []int8
		w    ops.PackedInt8
		ep   ops.Int8Epilogue
	}
	r := rand.New(rand.NewPCG(1, 2))
	var all []op
	for _, l := range layers {
		p := ops.ConvParams{N: 1, C: l.c, H: l.hw, W: l.hw, OutC: l.c, KH: 3, KW: 3, StrideH: l.s, StrideW: l.s,
			PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: l.c, OutH: (l.hw-1)/l.s + 1, OutW: (l.hw-1)/l.s + 1}
		w, err := be.PackDepthwiseInt8(randInt8(r, l.c*9), l.c, 3, 3)
		if err != nil {
			b.Fatal(err)
		}
		ep := dwEpilogues(r, l.c)[2]
		all = append(all, op{p, randInt8(r, l.c*l.hw*l.hw), make([]int8, l.c*p.OutH*p.OutW), w, ep})
	}
	for b.Loop() {
		for _, o := range all {
			if err := be.DepthwiseInt8(o.p, o.x, o.w, o.ep, o.y); err != nil {
				b.Fatal(err)
			}
		}
	}
}
