//go:build !amd64 || purego

package cpu

// dwInt8Row3 is never called without AVX-512 (vec16 is false).
func dwInt8Row3(x *int8, ldx, step int, w *int32, wstride int, bias *int32, scale *float32, lo, hi float32, out *int8, ow, c int) {
	panic("cpu: dwInt8Row3 without AVX-512")
}
