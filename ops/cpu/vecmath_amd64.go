//go:build amd64 && !purego

package cpu

import "golang.org/x/sys/cpu"

// vec16 reports whether the AVX-512 loops of vecmath_amd64.s run here.
var vec16 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL

//go:noescape
func maxRow16(x *float32, n int) float32

//go:noescape
func expShiftSum16(x, y *float32, n int, shift float32) float32

//go:noescape
func scale16(y *float32, n int, s float32)

//go:noescape
func gelu16(x, y *float32, n int)

//go:noescape
func geluGradAcc16(x, dy, dx *float32, n int)

//go:noescape
func softmaxGrad16(y, dy, dx *float32, n int)

//go:noescape
func relu16(x, y *float32, n int)

//go:noescape
func reluGradAcc16(x, dy, dx *float32, n int)

//go:noescape
func maxPool2x2Row16(r0, r1, dst *float32, arg *int32, n, base, w int)

//go:noescape
func biasReLU16(x, y *float32, n int, b float32, relu bool)

//go:noescape
func maskedCopy16(mask, x, y *float32, n int)

//go:noescape
func lnStats16(x *float32, n int) (sum, sqdev float32)

//go:noescape
func lnApply16(x, y, gamma, beta *float32, n int, m, is float32)

//go:noescape
func lnGrad16(x, dy, gamma, dx *float32, n int, m, is float32)

//go:noescape
func lnParamGrad16(x, dy, dgamma, dbeta *float32, n int, m, is float32)

//go:noescape
func smallGemm16(m, n, k int, alpha float32, a *float32, sai, sat int, b *float32, ldb int, beta float32, c *float32, ldc int)

//go:noescape
func addRow16(a, b, y *float32, n int)

//go:noescape
func im2colTap32(plane *float32, h, w int, out *float32, n, rows, ih0, lo, hi, iw0, strideH int)

//go:noescape
func col2imTap32(plane *float32, h, w int, src *float32, n, rows, ih0, lo, hi, iw0, strideH int)
