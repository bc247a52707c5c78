//go:build !amd64 || purego

package cpu

// axpy adds a·x to y.
func axpy(a float32, x, y []float32) { axpyGo(a, x, y) }
