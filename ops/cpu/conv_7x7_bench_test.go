package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// BenchmarkConv7x7Paths times resnet18's 512→512 3×3 layer on 7×7 at
// batch 1 (with its residual and ReLU) on one worker, on each path the
// backend has: the direct convolution that Conv2dFused takes (the
// gapless layout: 49 GEMM columns, 48 + 1 as a dot product), F(4,3)
// and F(4×4,3×3) forced (winoPick chooses none here), and the 16 GEMMs
// of 512×512 by 16 columns that an F(2×2,3×3) Winograd would run (its
// transforms left out: a lower bound on that path), with the weights in
// cache (hot) and after a 64 MB write (cold: the whole model's weights,
// 45 MB, do not fit the 32 MB L3, so a forward reads them from memory).
// F(2×2,3×3)'s transformed weights are 16/9 of the weights (16.8 MB per
// layer against 9.4).
//
//	go test ./ops/cpu -run XXX -bench Conv7x7Paths -benchtime 200x -cpu 1
func BenchmarkConv7x7Paths(b *testing.B) {
	const C, T = 512, 16 // channels; F(2×2,3×3) tiles of a 7×7 image (padded to 8×8)
	p := ops.ConvParams{N: 1, C: C, H: 7, W: 7, OutC: C, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
		PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1, OutH: 7, OutW: 7}
	r := rand.New(rand.NewPCG(1, 2))
	x, w, y, res := ops.New(1, C, 7, 7), ops.New(C, C, 3, 3), ops.New(1, C, 7, 7), ops.New(1, C, 7, 7)
	fill := func(s []float32) {
		for i := range s {
			s[i] = float32(r.NormFloat64())
		}
	}
	fill(x.Data)
	fill(w.Data)
	u, v, m, off := make([]float32, 16*C*C), make([]float32, 16*C*T), make([]float32, 16*C*T), make([]int, C)
	fill(u)
	fill(v)
	f := ops.ConvFusion{Scale: make([]float32, C), Shift: make([]float32, C), ReLU: true, Res: res}
	be := New(Options{Threads: 1})
	paths := map[string]func(){
		"direct": func() {
			fo := newFusedOut(p, y.Data, f)
			g := directGeomFor(p)
			be.directForward(g, be.directTiles(g), x.Data, w.Data, fo.out(g), fo.into)
		},
		"f43":      func() { be.winoFusedAs(wino1D, p, x, w, y, f) },
		"f4x4":     func() { be.winoFusedAs(wino2D, p, x, w, y, f) },
		"f2x2gemm": func() { f22GEMMs(u, v, m, off) },
	}
	flush := make([]float32, 16<<20)
	for _, cold := range []bool{false, true} {
		for _, name := range []string{"direct", "f43", "f4x4", "f2x2gemm"} {
			b.Run(fmt.Sprintf("%s/cold=%v", name, cold), func(b *testing.B) {
				for b.Loop() {
					if cold {
						b.StopTimer()
						for i := range flush {
							flush[i]++
						}
						b.StartTimer()
					}
					paths[name]()
				}
			})
		}
	}
}

// f22GEMMs runs the 16 products of F(2×2,3×3) for a 512→512 layer on
// 7×7: product k is U_k (512×512, u[k·512²:]) times V_k (512 rows of 16
// tile columns, v[k·512·16:]) into m.
func f22GEMMs(u, v, m []float32, off []int) {
	const C, T = 512, 16
	for k := range 16 {
		for c := range off {
			off[c] = k*C*T + c*T
		}
		gemm.SgemmIndirect(C, T, C, u[k*C*C:], C, v, off, m[k*C*T:], T)
	}
}
