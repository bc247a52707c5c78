package cpu

import (
	"github.com/qpipe/qpipe/ops"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAxpyMatchesGo: the vector axpy equals the Go fused multiply-add bit
// for bit, on lengths with and without a tail.
func TestAxpyMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{1, 7, 16, 33, 100} {
		x, y := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], y[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
		}
		want := append([]float32(nil), y...)
		axpyGo(0.37, x, want)
		axpy(0.37, x, y)
		for i := range y {
			if y[i] != want[i] {
				t.Fatalf("n=%d: element %d is %v, want %v", n, i, y[i], want[i])
			}
		}
	}
}

// TestBiasClipMatchesGo: the vector bias+clamp equals the Go loop bit for
// bit (NaN kept), on lengths with and without a tail.
func TestBiasClipMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{1, 7, 16, 33, 100} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(4 * r.NormFloat64())
		}
		x[n/2] = float32(math.NaN())
		want, got := make([]float32, n), make([]float32, n)
		biasClipRowGo(x, want, 0.5, 0, 6)
		biasClipRow(x, got, 0.5, 0, 6)
		for i := range got {
			if got[i] != want[i] && !(math.IsNaN(float64(got[i])) && math.IsNaN(float64(want[i]))) {
				t.Fatalf("n=%d: element %d is %v, want %v", n, i, got[i], want[i])
			}
		}
	}
}

// dwGeoms are depthwise convolutions (one input channel per group): 3x3
// (the vector kernel) at stride 1 and 2 with and without padding, odd
// sizes, channel counts off 16, a channel multiplier, dilation, stride 3,
// non-square strides and kernels (the axpy rows), batches 1 and 64.
var dwGeoms = []ops.ConvParams{
	{N: 1, C: 3, H: 5, W: 5, OutC: 3, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1},
	{N: 2, C: 17, H: 13, W: 11, OutC: 17, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
	{N: 1, C: 20, H: 37, W: 35, OutC: 20, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1},
	{N: 1, C: 18, H: 36, W: 34, OutC: 18, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
	{N: 3, C: 5, H: 9, W: 10, OutC: 5, KH: 3, KW: 3, StrideH: 1, StrideW: 1},
	{N: 2, C: 6, H: 12, W: 9, OutC: 6, KH: 3, KW: 3, StrideH: 2, StrideW: 2},
	{N: 2, C: 4, H: 8, W: 8, OutC: 8, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 2, PadW: 2},
	{N: 1, C: 7, H: 15, W: 14, OutC: 7, KH: 3, KW: 3, StrideH: 1, StrideW: 2, PadH: 2, PadW: 2, DilH: 2, DilW: 2},
	{N: 2, C: 9, H: 12, W: 17, OutC: 9, KH: 5, KW: 5, StrideH: 2, StrideW: 2, PadH: 2, PadW: 2},
	{N: 1, C: 6, H: 11, W: 13, OutC: 12, KH: 3, KW: 1, StrideH: 3, StrideW: 3, PadH: 1},
	{N: 64, C: 20, H: 9, W: 9, OutC: 20, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
}

// TestDepthwiseMatchesFloat64Reference: the direct depthwise forward
// (Conv2dEpilogue with every epilogue, Conv2dAct with and without ReLU)
// within float32 rounding of a direct float64 convolution, on 1 to 3
// workers, and bit for bit the same on every worker count, with the
// scratch buffers recycled dirty.
func TestDepthwiseMatchesFloat64Reference(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	fill := func(n int, scale float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(scale * r.NormFloat64())
		}
		return v
	}
	T := func(d []float32, shape ...int) *ops.Tensor { return &ops.Tensor{Shape: shape, Data: d} }
	acts := []ops.Epilogue{
		{Kind: ops.EpilogueNone},
		{Kind: ops.EpilogueClip, Lo: 0, Hi: 6},
		{Kind: ops.EpilogueHardswish},
		{Kind: ops.EpilogueHardSigmoid, Alpha: 1.0 / 6, Beta: 0.5},
		reluEpilogue(true),
	}
	for gi, p := range dwGeoms {
		p.Groups, p.DilH, p.DilW = p.C, max(p.DilH, 1), max(p.DilW, 1)
		p.OutH = (p.H+2*p.PadH-p.DilH*(p.KH-1)-1)/p.StrideH + 1
		p.OutW = (p.W+2*p.PadW-p.DilW*(p.KW-1)-1)/p.StrideW + 1
		if !depthwise(p) {
			t.Fatalf("geometry %d is not depthwise", gi)
		}
		x, w, bias := fill(p.N*p.C*p.H*p.W, 2), fill(p.OutC*p.KH*p.KW, 1), fill(p.OutC, 1)
		for ai, act := range acts {
			want := convEpilogueRef(p, x, w, bias, act)
			var first []float32
			for threads := 1; threads <= 3; threads++ {
				be := New(Options{Threads: threads})
				pl := newDWPlan(p)
				for slot := range 16 { // recycled scratch full of NaN on every slot a piece may run on: the padding must be written
					for range 3 {
						buf := make([]float32, pl.rows*pl.rs)
						for i := range buf {
							buf[i] = float32(math.NaN())
						}
						be.tmp.put(slot, buf)
					}
				}
				y := ops.New(p.N, p.OutC, p.OutH, p.OutW)
				var err error
				if ai == len(acts)-1 { // ReLU through Conv2dAct
					_, err = be.Conv2dAct(p, T(x, len(x)), T(w, len(w)), T(bias, len(bias)), y, true, false)
				} else {
					err = be.Conv2dEpilogue(p, T(x, len(x)), T(w, len(w)), T(bias, len(bias)), y, act)
				}
				if err != nil {
					t.Fatal(err)
				}
				for i, g := range y.Data {
					if d := math.Abs(float64(g) - want[i]); d > 1e-5*(1+math.Abs(want[i])) {
						t.Fatalf("geometry %d, epilogue %+v, %d threads: y[%d] = %v, want %v", gi, act, threads, i, g, want[i])
					}
				}
				if first == nil {
					first = y.Data
				} else if !slices.Equal(first, y.Data) {
					t.Fatalf("geometry %d, epilogue %+v: %d threads differ from 1", gi, act, threads)
				}
			}
		}
	}
}

// TestDepthwiseVectorKernelMatchesAxpyRows: the nine-tap vector kernel
// gives the axpy rows' result (same products in the same order), on rows
// with and without a tail and on stride-2 phases.
func TestDepthwiseVectorKernelMatchesAxpyRows(t *testing.T) {
	if !vec16 {
		t.Skip("no AVX-512 here")
	}
	r := rand.New(rand.NewPCG(17, 18))
	shapes := []ops.ConvParams{
		{N: 1, C: 1, H: 40, W: 37, OutC: 1, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1, OutH: 40, OutW: 37},
		{N: 1, C: 1, H: 40, W: 37, OutC: 1, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1, OutH: 20, OutW: 19},
		{N: 1, C: 1, H: 9, W: 9, OutC: 1, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 0, PadW: 0, DilH: 1, DilW: 1, Groups: 1, OutH: 7, OutW: 7},
		{N: 1, C: 1, H: 12, W: 12, OutC: 1, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 2, PadW: 2, DilH: 2, DilW: 2, Groups: 1, OutH: 12, OutW: 12},
	}
	// stride 1 (dw9x4Rows16 four rows at a time, then dw9Rows16): every
	// row remainder, widths under, at and past one and several vectors
	for h := 1; h <= 9; h++ {
		for _, w := range []int{1, 7, 14, 16, 17, 28, 33, 56} {
			shapes = append(shapes, ops.ConvParams{N: 1, C: 1, H: h, W: w, OutC: 1, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1, OutH: h, OutW: w})
		}
	}
	for si, p := range shapes {
		pl := newDWPlan(p)
		x, w := make([]float32, p.H*p.W), make([]float32, 9)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		if si%3 == 2 {
			x[r.IntN(len(x))] = float32(math.NaN())
		}
		for i := range w {
			w[i] = float32(r.NormFloat64())
		}
		buf := make([]float32, pl.rows*pl.rs)
		pl.pad(x, buf)
		got, want := make([]float32, p.OutH*p.OutW), make([]float32, p.OutH*p.OutW)
		if !dwRowsFast(pl, buf, w, got, 0.25, -1, 1) {
			t.Fatal("the vector kernel did not take a 3x3 plane")
		}
		for oh := range p.OutH {
			row := want[oh*p.OutW:][:p.OutW]
			for k, a := range w {
				axpy(a, buf[oh*pl.step+pl.offs[k]:][:p.OutW], row)
			}
			biasClipRow(row, row, 0.25, -1, 1)
		}
		if !slices.EqualFunc(got, want, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
			t.Fatalf("%dx%d stride %d dilation %d: vector kernel differs from the axpy rows", p.H, p.W, p.StrideW, p.DilW)
		}
	}
}

// TestPadRowsMatchesGo: the vector row copies (stride 1) and stride-2
// gathers equal the Go loop on every length up to three vectors, over
// several rows, reading no further than the last float they need and
// writing nothing between the rows.
func TestPadRowsMatchesGo(t *testing.T) {
	for s := 1; s <= 3; s++ {
		for n := 1; n <= 48; n++ {
			const rows = 3
			sstep, dstep := s*n+5, n+3
			src := make([]float32, (rows-1)*sstep+(n-1)*s+1)
			for i := range src {
				src[i] = float32(i) + 0.5
			}
			want, got := make([]float32, rows*dstep), make([]float32, rows*dstep)
			padRowsGo(s, src, want, rows, n, sstep, dstep)
			padRows(s, src, got, rows, n, sstep, dstep)
			if !slices.Equal(got, want) {
				t.Fatalf("s=%d n=%d: got %v, want %v", s, n, got, want)
			}
		}
	}
}

// BenchmarkDepthwiseMobileNetV2 times the direct depthwise forward with
// ReLU6 on MobileNetV2's depthwise layers at 224x224 (batch 1, every
// layer once per op; one worker, so the figure is the kernel's).
func BenchmarkDepthwiseMobileNetV2(b *testing.B) {
	layers := []struct{ c, hw, s int }{
		{32, 112, 1}, {96, 112, 2}, {144, 56, 1}, {144, 56, 2}, {192, 28, 1}, {192, 28, 1},
		{192, 28, 2}, {384, 14, 1}, {384, 14, 1}, {384, 14, 1}, {384, 14, 1}, {576, 14, 1},
		{576, 14, 1}, {576, 14, 2}, {960, 7, 1}, {960, 7, 1}, {960, 7, 1},
	}
	be := New(Options{Threads: 1})
	type op struct {
		p       ops.ConvParams
		x, w, y *ops.Tensor
	}
	var all []op
	for _, l := range layers {
		p := ops.ConvParams{N: 1, C: l.c, H: l.hw, W: l.hw, OutC: l.c, KH: 3, KW: 3, StrideH: l.s, StrideW: l.s,
			PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: l.c, OutH: (l.hw-1)/l.s + 1, OutW: (l.hw-1)/l.s + 1}
		all = append(all, op{p, ops.New(1, l.c, l.hw, l.hw), ops.New(l.c, 1, 3, 3), ops.New(1, l.c, p.OutH, p.OutW)})
	}
	act := ops.Epilogue{Kind: ops.EpilogueClip, Lo: 0, Hi: 6}
	for b.Loop() {
		for _, o := range all {
			if err := be.Conv2dEpilogue(o.p, o.x, o.w, nil, o.y, act); err != nil {
				b.Fatal(err)
			}
		}
	}
}
