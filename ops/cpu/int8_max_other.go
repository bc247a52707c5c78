//go:build !amd64 || purego

package cpu

// maxS8 writes dst[i] = max(a[i], b[i]); dst may be a or b.
func maxS8(dst, a, b []int8) { maxS8Go(dst, a, b) }

// maxPairRows has no vector kernel here.
func maxPairRows(dst, r0, r1 []int8, c, outW int) bool { return false }
