package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// TestMaxPoolInferMatchesMaxPool: the inference max pool (no argmax)
// gives exactly MaxPool2d's values for windows 1..5, strides 1..3,
// padding up to half the window, odd sizes, batches of 1 and 2, on 1 to
// 3 workers (fewer images than workers: the 3×3 stride-2 pool in bands of
// rows, maxPoolBands).
func TestMaxPoolInferMatchesMaxPool(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 7))
	for _, g := range [][5]int{ // kernel, stride, pad, size, batch
		{3, 2, 1, 112, 2}, {3, 2, 1, 112, 1}, {3, 2, 1, 7, 2}, {3, 2, 1, 9, 1}, {2, 2, 0, 9, 2}, {3, 1, 1, 5, 2}, {5, 3, 2, 11, 2}, {1, 1, 0, 4, 2}, {3, 3, 0, 10, 2}, {4, 2, 2, 6, 2},
	} {
		p := ops.PoolParams{N: g[4], C: 3, H: g[3], W: g[3] - 1, KH: g[0], KW: g[0], StrideH: g[1], StrideW: g[1], PadH: g[2], PadW: g[2]}
		p.OutH = (p.H+2*p.PadH-p.KH)/p.StrideH + 1
		p.OutW = (p.W+2*p.PadW-p.KW)/p.StrideW + 1
		x := ops.New(p.N, p.C, p.H, p.W)
		for i := range x.Data {
			x.Data[i] = float32(r.NormFloat64())
		}
		for _, threads := range []int{1, 2, 3} {
			name := fmt.Sprintf("%v/t%d", g, threads)
			be := New(Options{Threads: threads})
			want, got := ops.New(p.N, p.C, p.OutH, p.OutW), ops.New(p.N, p.C, p.OutH, p.OutW)
			if err := be.MaxPool2d(p, x, want, make([]int32, want.Numel())); err != nil {
				t.Fatal(err)
			}
			if err := be.MaxPool2dInfer(p, x, got); err != nil {
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

// BenchmarkMaxPoolStem times resnet18's stem pool (3×3, stride 2, padding
// 1 on 64 channels of 112×112, batch 8) with and without argmax indices.
func BenchmarkMaxPoolStem(b *testing.B) {
	p := ops.PoolParams{N: 8, C: 64, H: 112, W: 112, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, OutH: 56, OutW: 56}
	x, y := ops.New(p.N, p.C, p.H, p.W), ops.New(p.N, p.C, p.OutH, p.OutW)
	arg := make([]int32, y.Numel())
	be := New(Options{})
	b.Run("argmax", func(b *testing.B) {
		for b.Loop() {
			_ = be.MaxPool2d(p, x, y, arg)
		}
	})
	b.Run("infer", func(b *testing.B) {
		for b.Loop() {
			_ = be.MaxPool2dInfer(p, x, y)
		}
	})
}
