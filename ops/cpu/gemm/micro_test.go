//go:build amd64 && !purego

package gemm

import (
	"fmt"
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
