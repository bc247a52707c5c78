//go:build amd64 && !purego

package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// The micro-kernel benchmarks time one full-height tile on L1-resident
// data: the ceiling a single core can reach, without packing or threads.

func BenchmarkKernelVNNI(b *testing.B) {
	if !cpu.X86.HasAVX512VNNI {
		b.Skip("no AVX512-VNNI")
	}
	for _, k := range []int{64, 256, 1024} {
		a, bp := make([]int8, 14*k), make([]uint8, k*32)
		c, corr := make([]int32, 14*32), make([]int32, 14)
		p := s8Args{a: unsafe.Pointer(&a[0]), lda: k, b: unsafe.Pointer(&bp[0]), k: k / 4,
			c: unsafe.Pointer(&c[0]), ldc: 32, corr: &corr[0], nr: 32}
		b.Run(fmt.Sprint("k", k), func(b *testing.B) {
			for b.Loop() {
				s8VNNI_14(&p)
			}
			b.ReportMetric(float64(2*14*32*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
		})
	}
}

func BenchmarkKernelAVX512(b *testing.B) {
	if !cpu.X86.HasAVX512F {
		b.Skip("no AVX-512")
	}
	for _, kc := range []int{64, 256} {
		a, bp, c := make([]float32, 14*kc), make([]float32, kc*32), make([]float32, 14*32)
		p := sgemmArgs{a: &a[0], lda: kc, b: &bp[0], kc: kc, c: &c[0], ldc: 32, alpha: 1, beta: 1, nr: 32}
		b.Run(fmt.Sprint("k", kc), func(b *testing.B) {
			for b.Loop() {
				sgemmAVX512_14(&p)
			}
			b.ReportMetric(float64(2*14*32*kc)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkKernelIdxAVX512 times the 9×48 indirect kernel on L1-resident
// data at the depths of mobilenet_v2's 1×1 convolutions (K = input
// channels, B rows 48 floats apart), plain and with the pointwise
// layers' epilogue (scale, shift, clamp): the ceiling against which
// BenchmarkPointwiseConv's GFLOP/s (ops/cpu) are read.
func BenchmarkKernelIdxAVX512(b *testing.B) {
	if !cpu.X86.HasAVX512F {
		b.Skip("no AVX-512")
	}
	for _, k := range []int{16, 64, 160, 384} {
		for _, epi := range []bool{false, true} {
			a, bp, c := make([]float32, 9*k), make([]float32, k*48), make([]float32, 9*48)
			off := make([]int, k)
			for i := range off {
				off[i] = 48 * i
			}
			scale, shift := make([]float32, 9), make([]float32, 9)
			p := sgemmArgs{a: &a[0], lda: k, b: &bp[0], kc: k, c: &c[0], ldc: 48, alpha: 1, nr: 48, boff: &off[0]}
			name := fmt.Sprint("k", k)
			if epi {
				ep := RowEpilogue{Scale: scale, Shift: shift, Floor: true, Lo: 0, Ceil: true, Hi: 6}
				p.epi, p.lo, p.hi = ep.flags(), ep.Lo, ep.Hi
				p.scale, p.shift = &scale[0], &shift[0]
				name += "_epi"
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					sgemmIdxAVX512_9(&p)
				}
				b.ReportMetric(float64(2*9*48*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// TestKernelIdxStream checks that sgemmIdxStreamAVX512 (the indirect
// kernel with A's rows prefetched) gives the bits of sgemmIdxAVX512 for
// every row count, with and without beta and the epilogue: the prefetches
// change no arithmetic. It fails where the variant is missing a row or a
// step.
func TestKernelIdxStream(t *testing.T) {
	if !cpu.X86.HasAVX512F {
		t.Skip("no AVX-512")
	}
	r := rand.New(rand.NewPCG(11, 12))
	const k = 700
	a, bp := randF32(r, 9*k+512), randF32(r, k*48)
	off := make([]int, k)
	for i := range off {
		off[i] = 48 * i
	}
	scale, shift, res := randF32(r, 9), randF32(r, 9), randF32(r, 9*48)
	for rows := 1; rows <= 9; rows++ {
		for mode := range 3 { // 0: beta 0; 1: beta 1; 2: the epilogue
			c0 := randF32(r, 9*48)
			var want, got []float32
			for _, f := range []func(*sgemmArgs){sgemmIdxAVX512[rows], sgemmIdxStreamAVX512[rows]} {
				c := append([]float32(nil), c0...)
				p := sgemmArgs{a: &a[0], lda: k, b: &bp[0], kc: k, c: &c[0], ldc: 48, alpha: 1, nr: 48, boff: &off[0]}
				if mode >= 1 {
					p.beta = 1
				}
				if mode == 2 {
					ep := RowEpilogue{Scale: scale, Shift: shift, Res: res, Floor: true}
					p.epi, p.lo, p.hi = ep.flags(), ep.Lo, ep.Hi
					p.scale, p.shift, p.res = &scale[0], &shift[0], &res[0]
				}
				f(&p)
				if want == nil {
					want = c
				} else {
					got = c
				}
			}
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("rows %d mode %d: C[%d] = %v, sgemmIdxAVX512 gives %v", rows, mode, i, got[i], want[i])
				}
			}
		}
	}
}

// TestIdxStreams checks which products take the prefetching kernel: an A
// larger than a core's L2 read in one column block (resnet18's 3×3
// layers onto 7×7, one worker's half or all of it), not one whose later
// column blocks reread A (onto 14×14) nor a small A.
func TestIdxStreams(t *testing.T) {
	for _, c := range []struct {
		m, n, k int
		want    bool
	}{
		{512, 48, 4608, true}, {256, 48, 4608, true}, {256, 48, 2304, true},
		{256, 196, 1152, false}, {64, 48, 576, false}, {16, 1024, 144, false},
	} {
		if got := idxStreams(c.m, c.n, c.k, 48); got != c.want {
			t.Errorf("idxStreams(%d, %d, %d) = %v, want %v", c.m, c.n, c.k, got, c.want)
		}
	}
}
