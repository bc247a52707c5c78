//go:build !amd64 || purego

package cpu

const vec16 = false

func maxRow16(x *float32, n int) float32                        { panic("cpu: no vector kernels") }
func expShiftSum16(x, y *float32, n int, shift float32) float32 { panic("cpu: no vector kernels") }
func scale16(y *float32, n int, s float32)                      { panic("cpu: no vector kernels") }
func gelu16(x, y *float32, n int)                               { panic("cpu: no vector kernels") }
func geluGradAcc16(x, dy, dx *float32, n int)                   { panic("cpu: no vector kernels") }
func softmaxGrad16(y, dy, dx *float32, n int)                   { panic("cpu: no vector kernels") }
func relu16(x, y *float32, n int)                               { panic("cpu: no vector kernels") }
func reluGradAcc16(x, dy, dx *float32, n int)                   { panic("cpu: no vector kernels") }
func maxPool2x2Row16(r0, r1, dst *float32, arg *int32, n, base, w int) {
	panic("cpu: no vector kernels")
}
func biasReLU16(x, y *float32, n int, b float32, relu bool)      { panic("cpu: no vector kernels") }
func maskedCopy16(mask, x, y *float32, n int)                    { panic("cpu: no vector kernels") }
func lnStats16(x *float32, n int) (sum, sqdev float32)           { panic("cpu: no vector kernels") }
func lnApply16(x, y, gamma, beta *float32, n int, m, is float32) { panic("cpu: no vector kernels") }
func lnGrad16(x, dy, gamma, dx *float32, n int, m, is float32)   { panic("cpu: no vector kernels") }

func lnParamGrad16(x, dy, dgamma, dbeta *float32, n int, m, is float32) {
	panic("cpu: no vector kernels")
}

func smallGemm16(m, n, k int, alpha float32, a *float32, sai, sat int, b *float32, ldb int, beta float32, c *float32, ldc int) {
	panic("cpu: no vector kernels")
}

func addRow16(a, b, y *float32, n int) { panic("cpu: no vector kernels") }

func im2colTap32(plane *float32, h, w int, out *float32, n, rows, ih0, lo, hi, iw0, strideH int) {
	panic("cpu: no vector kernels")
}

func col2imTap32(plane *float32, h, w int, src *float32, n, rows, ih0, lo, hi, iw0, strideH int) {
	panic("cpu: no vector kernels")
}
