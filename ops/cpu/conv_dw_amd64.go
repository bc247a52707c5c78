//go:build amd64 && !purego

package cpu

//go:noescape
func axpy16(x, y *float32, n int, a float32)

// axpy adds a·x to y (one fused multiply-add per element).
func axpy(a float32, x, y []float32) {
	if vec16 && len(y) > 0 {
		_ = x[len(y)-1]
		axpy16(&x[0], &y[0], len(y), a)
		return
	}
	axpyGo(a, x, y)
}
