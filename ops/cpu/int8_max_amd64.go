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

// maxPool2x2S8 writes, for ow < outW, dst[ow·c+i] as the maximum of the
// four bytes i of pixels 2·ow and 2·ow+1 of the channel-last rows r0 and
// r1 (c bytes a pixel): one 2×2 stride-2 pooled row in one call.
//
//go:noescape
func maxPool2x2S8(dst, r0, r1 *int8, c, outW int)

// maxPairRows pools the pixel pairs of rows r0 and r1 (c channels, outW
// output pixels) into dst with the vector kernel; it reports false where
// that kernel does not run.
func maxPairRows(dst, r0, r1 []int8, c, outW int) bool {
	n := outW * c
	if !maxS8Vec || n == 0 {
		return false
	}
	_, _, _ = dst[n-1], r0[2*n-1], r1[2*n-1]
	maxPool2x2S8(&dst[0], &r0[0], &r1[0], c, outW)
	return true
}
