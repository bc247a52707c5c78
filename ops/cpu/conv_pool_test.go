package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/internal/cpufeature"
	"github.com/qpipe/qpipe/ops"
)

// skipNoConvPool skips a test of the fused step where this CPU has no
// vector 3×3 stride-2 pool or direct convolution (purego, no AVX-512;
// it fails there where CI requires them): ConvPoolFuses then declines
// every shape and the ops run the chain's nodes one by one (ops'
// TestConvChainPoolStep covers that).
func skipNoConvPool(t *testing.T) {
	stem := ops.ConvParams{Groups: 1}
	pool := ops.PoolParams{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}
	cpufeature.Require(t, directOK(stem) && pool3s2OK(pool), "AVX-512F and AVX-512VL (the fused stem's kernels)")
}

// TestConvFusedMaxPoolMatchesUnfused: the stem step (7×7 or 3×3 stride-2
// convolution, batch norm and ReLU in the epilogue, 3×3 stride-2 max
// pool) gives bit for bit one worker's Conv2dFused pooled by MaxPool2d,
// on 1, 2 and 3 workers, for odd and even heights and widths, batches of
// 1 and 2, and bands that start on every parity: each shape has at least
// two bands per worker, so the row a band shares with the one above is
// both carried over and computed again (a wrong halo row changes the
// pooled maxima of the band's first row).
func TestConvFusedMaxPoolMatchesUnfused(t *testing.T) {
	skipNoConvPool(t)
	r := rand.New(rand.NewPCG(19, 16))
	for _, g := range [][6]int{ // in C, out C, H, W, kernel, batch
		{3, 64, 113, 120, 7, 1}, {3, 64, 224, 224, 7, 1}, {3, 16, 131, 97, 7, 2}, {8, 64, 181, 121, 3, 1}, {3, 64, 71, 80, 7, 3},
	} {
		p := ops.ConvParams{N: g[5], C: g[0], H: g[2], W: g[3], OutC: g[1], KH: g[4], KW: g[4],
			StrideH: 2, StrideW: 2, PadH: g[4] / 2, PadW: g[4] / 2, DilH: 1, DilW: 1, Groups: 1}
		p.OutH, p.OutW = (p.H+2*p.PadH-p.KH)/2+1, (p.W+2*p.PadW-p.KW)/2+1
		pp := ops.PoolParams{N: p.N, C: p.OutC, H: p.OutH, W: p.OutW, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}
		pp.OutH, pp.OutW = (pp.H-1)/2+1, (pp.W-1)/2+1
		x, w := ops.New(p.N, p.C, p.H, p.W), ops.New(p.OutC, p.C, p.KH, p.KW)
		for _, d := range [][]float32{x.Data, w.Data} {
			for i := range d {
				d[i] = float32(r.NormFloat64())
			}
		}
		f := ops.ConvFusion{Scale: make([]float32, p.OutC), Shift: make([]float32, p.OutC), ReLU: true}
		for i := range f.Scale {
			f.Scale[i], f.Shift[i] = 0.5+float32(r.Float64()), float32(r.NormFloat64())
		}
		ref := New(Options{Threads: 1})
		conv, want := ops.New(p.N, p.OutC, p.OutH, p.OutW), ops.New(p.N, p.OutC, pp.OutH, pp.OutW)
		if err := ref.Conv2dFused(p, x, w, conv, f); err != nil {
			t.Fatal(err)
		}
		if err := ref.MaxPool2d(pp, conv, want, make([]int32, want.Numel())); err != nil {
			t.Fatal(err)
		}
		for _, threads := range []int{1, 2, 3} {
			name := fmt.Sprintf("%v/t%d", g, threads)
			be := New(Options{Threads: threads})
			if !be.ConvPoolFuses(p, pp, f) {
				t.Fatalf("%s: the fused step declines the stem", name)
			}
			if bands := be.convPoolBands(directGeomFor(p), pp); len(bands) < 2*threads {
				t.Fatalf("%s: %d bands, want two per worker at least (no carried row to check)", name, len(bands))
			}
			got := ops.New(p.N, p.OutC, pp.OutH, pp.OutW)
			if err := be.Conv2dFusedMaxPool(p, pp, x, w, got, f); err != nil {
				t.Fatal(err)
			}
			for i := range want.Data {
				if got.Data[i] != want.Data[i] {
					t.Fatalf("%s: y[%d] = %v, want %v", name, i, got.Data[i], want.Data[i])
				}
			}
		}
	}
}

// TestConvPoolFusesDeclines: shapes the fused step does not take go back
// to the ops (a residual, another pool window, a stride-1 convolution,
// a pool whose input is not the convolution's output, a 7×7 image small
// enough for the dot columns).
func TestConvPoolFusesDeclines(t *testing.T) {
	skipNoConvPool(t)
	be := New(Options{Threads: 2})
	p := ops.ConvParams{N: 1, C: 3, H: 64, W: 64, OutC: 16, KH: 7, KW: 7, StrideH: 2, StrideW: 2, PadH: 3, PadW: 3, DilH: 1, DilW: 1, Groups: 1, OutH: 32, OutW: 32}
	pp := ops.PoolParams{N: 1, C: 16, H: 32, W: 32, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, OutH: 16, OutW: 16}
	f := ops.ConvFusion{Shift: make([]float32, 16), ReLU: true}
	if !be.ConvPoolFuses(p, pp, f) {
		t.Fatal("declines the stem")
	}
	res := f
	res.Res = ops.New(1, 16, 32, 32)
	pool2 := pp
	pool2.KH, pool2.KW, pool2.PadH, pool2.PadW = 2, 2, 0, 0
	s1 := p
	s1.StrideH, s1.StrideW, s1.OutH, s1.OutW = 1, 1, 64, 64
	other := pp
	other.C = 8
	tiny := p
	tiny.H, tiny.W, tiny.OutH, tiny.OutW = 13, 13, 7, 7
	tinyPool := pp
	tinyPool.H, tinyPool.W, tinyPool.OutH, tinyPool.OutW = 7, 7, 4, 4
	for _, c := range []struct {
		name string
		p    ops.ConvParams
		pp   ops.PoolParams
		f    ops.ConvFusion
	}{{"residual", p, pp, res}, {"2×2 pool", p, pool2, f}, {"stride 1", s1, pp, f}, {"other input", p, other, f}, {"dot columns", tiny, tinyPool, f}} {
		if be.ConvPoolFuses(c.p, c.pp, c.f) {
			t.Errorf("%s: fused", c.name)
		}
	}
}
