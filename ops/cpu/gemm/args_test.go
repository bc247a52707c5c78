package gemm

import (
	"testing"
	"unsafe"
)

// TestArgOffsets pins the argument-struct layout that internal/gen's
// assembly reads by offset.
func TestArgOffsets(t *testing.T) {
	var f sgemmArgs
	var s s8Args
	for name, got := range map[string][2]uintptr{
		"sgemm.a": {unsafe.Offsetof(f.a), 0}, "sgemm.lda": {unsafe.Offsetof(f.lda), 8},
		"sgemm.b": {unsafe.Offsetof(f.b), 16}, "sgemm.kc": {unsafe.Offsetof(f.kc), 24},
		"sgemm.c": {unsafe.Offsetof(f.c), 32}, "sgemm.ldc": {unsafe.Offsetof(f.ldc), 40},
		"sgemm.alpha": {unsafe.Offsetof(f.alpha), 48}, "sgemm.beta": {unsafe.Offsetof(f.beta), 52},
		"sgemm.nr": {unsafe.Offsetof(f.nr), 56}, "sgemm.boff": {unsafe.Offsetof(f.boff), 64},
		"sgemm.epi": {unsafe.Offsetof(f.epi), 72}, "sgemm.scale": {unsafe.Offsetof(f.scale), 80},
		"sgemm.shift": {unsafe.Offsetof(f.shift), 88}, "sgemm.res": {unsafe.Offsetof(f.res), 96},
		"sgemm.lo": {unsafe.Offsetof(f.lo), 104}, "sgemm.hi": {unsafe.Offsetof(f.hi), 108},
		"s8.a": {unsafe.Offsetof(s.a), 0}, "s8.lda": {unsafe.Offsetof(s.lda), 8},
		"s8.b": {unsafe.Offsetof(s.b), 16}, "s8.k": {unsafe.Offsetof(s.k), 24},
		"s8.c": {unsafe.Offsetof(s.c), 32}, "s8.ldc": {unsafe.Offsetof(s.ldc), 40},
		"s8.corr": {unsafe.Offsetof(s.corr), 48}, "s8.bias": {unsafe.Offsetof(s.bias), 56},
		"s8.scale": {unsafe.Offsetof(s.scale), 64}, "s8.mode": {unsafe.Offsetof(s.mode), 72},
		"s8.nr": {unsafe.Offsetof(s.nr), 80}, "s8.lo": {unsafe.Offsetof(s.lo), 88},
		"s8.hi": {unsafe.Offsetof(s.hi), 92}, "s8.segs": {unsafe.Offsetof(s.segs), 96},
		"s8.segSkip": {unsafe.Offsetof(s.segSkip), 104},
	} {
		if got[0] != got[1] {
			t.Errorf("offset of %s = %d, generator assumes %d", name, got[0], got[1])
		}
	}
}

func TestKernelName(t *testing.T) {
	defer useKernels("generic", "generic")()
	if Kernel() != "generic" {
		t.Fatalf("Kernel() = %q with the Go kernels", Kernel())
	}
}
