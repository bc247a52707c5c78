package gemm

import (
	"math/rand/v2"
	"testing"
)

// TestGemmS8Implicit checks the implicit GEMM against the reference on
// the gathered rows, bit for bit, on every int8 kernel: overlapping rows
// (Lda smaller than a segment, as in a convolution), one and several
// segments, row counts across the 14-row tile, columns across the
// 32-column panel, both epilogues, A as s8 codes and as u8 = code+128.
func TestGemmS8Implicit(t *testing.T) {
	for _, kern := range s8Kernels() {
		t.Run(kern, func(t *testing.T) {
			defer useKernels("", kern)()
			r := rand.New(rand.NewPCG(21, 22))
			for _, c := range []struct{ m, n, lda, segs, segLen, segStride int }{
				{1, 1, 4, 1, 4, 0}, {14, 32, 1, 3, 4, 30}, {28, 32, 1, 3, 4, 30}, {15, 64, 32, 3, 96, 16 * 32},
				{3, 33, 64, 3, 96, 9 * 32}, {29, 17, 8, 9, 12, 100}, {16, 16, 12, 1, 36, 0}, {5, 65, 4, 2, 8, 5},
			} {
				size := (c.m-1)*c.lda + (c.segs-1)*c.segStride + c.segLen
				a := randS8(r, size)
				k := c.segs * c.segLen
				rows := make([]int8, c.m*k)
				for i := range c.m {
					for s := range c.segs {
						copy(rows[i*k+s*c.segLen:][:c.segLen], a[i*c.lda+s*c.segStride:])
					}
				}
				b := randS8(r, c.n*k)
				pb := PackS8(c.n, k, b, k)
				acc := refGemmS8(c.m, c.n, k, rows, k, b, k)
				for _, relu := range []bool{false, true} {
					ep := Epilogue{Scale: make([]float32, c.n), Bias: make([]int32, c.n), ReLU: relu}
					for j := range ep.Scale {
						ep.Scale[j] = float32(r.Float64()*4+0.01) / float32(64*k)
						ep.Bias[j] = int32(r.IntN(20000) - 10000)
					}
					wq, wf := refRequant(acc, c.n, ep)
					ldo := c.n + 3 // a row stride wider than the row
					q := make([]int8, c.m*ldo)
					f := make([]float32, c.m*ldo)
					au8 := make([]int8, len(a)) // the same codes as u8 = code+128
					for i, v := range a {
						au8[i] = v ^ -128
					}
					for _, u8 := range []bool{false, true} {
						im := ImplicitS8{A: a, M: c.m, Lda: c.lda, Segs: c.segs, SegLen: c.segLen, SegStride: c.segStride, U8: u8}
						if u8 {
							im.A = au8
						}
						GemmS8ImplicitRequant(im, pb, ep, q, ldo)
						GemmS8ImplicitDequant(im, pb, ep, f, ldo)
						for i := range c.m {
							for j := range c.n {
								if q[i*ldo+j] != wq[i*c.n+j] || f[i*ldo+j] != wf[i*c.n+j] {
									t.Fatalf("%+v relu=%v u8 %v: (%d,%d) = %d / %v, want %d / %v", c, relu, u8, i, j, q[i*ldo+j], f[i*ldo+j], wq[i*c.n+j], wf[i*c.n+j])
								}
							}
						}
					}
				}
			}
		})
	}
}

// TestGemmS8ImplicitBadShape: a segment length that is no VNNI group, or
// rows reaching past A, is a clear panic, not a wrong answer.
func TestGemmS8ImplicitBadShape(t *testing.T) {
	pb := PackS8(2, 12, make([]int8, 24), 12)
	for name, im := range map[string]ImplicitS8{
		"segment": {A: make([]int8, 100), M: 2, Lda: 1, Segs: 4, SegLen: 3},
		"short":   {A: make([]int8, 10), M: 2, Lda: 4, Segs: 3, SegLen: 4, SegStride: 4},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			GemmS8ImplicitRequant(im, pb, Epilogue{Scale: []float32{1, 1}}, make([]int8, 4), 2)
		}()
	}
}
