//go:build amd64 && !purego

package cpu

// addQF16 and addFF16 run the AVX-512 add-and-quantize kernels of
// int8_add_amd64.s on the first len(out)/16·16 elements and return how
// many they did (0 without AVX-512).
func addQF16(q []int8, s float32, f []float32, inv, lo float32, out []int8) int {
	n := len(out) &^ 15
	if !vec16 || n == 0 {
		return 0
	}
	_, _ = q[n-1], f[n-1]
	addQFQuantS8Row(&q[0], s, &f[0], n, inv, lo, &out[0])
	return n
}

func addFF16(a, b []float32, inv, lo float32, out []int8) int {
	n := len(out) &^ 15
	if !vec16 || n == 0 {
		return 0
	}
	_, _ = a[n-1], b[n-1]
	addFFQuantS8Row(&a[0], &b[0], n, inv, lo, &out[0])
	return n
}

//go:noescape
func addQFQuantS8Row(q *int8, s float32, f *float32, n int, inv float32, lo float32, out *int8)

//go:noescape
func addFFQuantS8Row(a *float32, b *float32, n int, inv float32, lo float32, out *int8)
