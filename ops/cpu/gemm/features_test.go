package gemm

import (
	"runtime"
	"testing"

	"github.com/qpipe/qpipe/internal/cpufeature"
)

// TestFastKernelsPresent: the kernel tests loop over the kernels this
// machine registered, so on a CPU without AVX2/AVX-512/VNNI they test only
// the Go kernels. This test names what is missing (a skip), and fails where
// CI requires the fast kernels (QPIPE_REQUIRE_AVX512=1).
func TestFastKernelsPresent(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		cpufeature.Require(t, false, "amd64 (the assembly kernels)")
		return
	}
	for _, k := range []struct{ name, feature string }{
		{"avx2+fma", "AVX2 and FMA (fp32 kernel avx2+fma)"},
		{"avx512", "AVX-512F/BW/VL (fp32 kernel avx512)"},
	} {
		_, ok := f32Impls[k.name]
		cpufeature.Require(t, ok, k.feature)
	}
	for _, k := range []struct{ name, feature string }{
		{"avx2", "AVX2 (int8 kernel avx2)"},
		{"vnni", "AVX-512 VNNI (int8 kernel vnni)"},
	} {
		_, ok := s8Impls[k.name]
		cpufeature.Require(t, ok, k.feature)
	}
}
