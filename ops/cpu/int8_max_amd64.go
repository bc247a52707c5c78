//go:build amd64 && !purego

package cpu

import "golang.org/x/sys/cpu"

// maxS8Vec reports whether maxS8x64 (AVX-512BW, BMI2) runs here.
var maxS8Vec = vec16 && cpu.X86.HasAVX512BW && cpu.X86.HasBMI2

// maxS8x64 writes dst[i] = max(a[i], b[i]) for n signed bytes, 64 at a
// time (a masked tail).
//
//go:noescape
func maxS8x64(dst, a, b *int8, n int)

// maxS8 writes dst[i] = max(a[i], b[i]); dst may be a or b.
func maxS8(dst, a, b []int8) {
	if maxS8Vec && len(dst) > 0 {
		_, _ = a[len(dst)-1], b[len(dst)-1]
		maxS8x64(&dst[0], &a[0], &b[0], len(dst))
		return
	}
	maxS8Go(dst, a, b)
}
