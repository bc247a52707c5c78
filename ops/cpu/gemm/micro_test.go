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
