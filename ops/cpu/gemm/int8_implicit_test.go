package gemm

import (
	"math/rand/v2"
	"testing"
)

// TestGemmS8Implicit checks the implicit GEMM against the reference on
// the gathered rows, bit for bit, on every int8 kernel: overlapping rows
// (Lda smaller than a segment, as in a convolution), one and several
// segments, row counts across the 14-row tile, columns across the
// 32-column panel, both epilogues.
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
					sums := make([]int32, c.m) // the rows' sums, as a caller may supply them
					for i := range sums {
						for _, v := range rows[i*k:][:k] {
							sums[i] += int32(v)
						}
					}
					for _, given := range [][]int32{nil, sums} {
						im := ImplicitS8{A: a, M: c.m, Lda: c.lda, Segs: c.segs, SegLen: c.segLen, SegStride: c.segStride, Sums: given}
						GemmS8ImplicitRequant(im, pb, ep, q, ldo)
						GemmS8ImplicitDequant(im, pb, ep, f, ldo)
						for i := range c.m {
							for j := range c.n {
								if q[i*ldo+j] != wq[i*c.n+j] || f[i*ldo+j] != wf[i*c.n+j] {
									t.Fatalf("%+v relu=%v sums given %v: (%d,%d) = %d / %v, want %d / %v", c, relu, given != nil, i, j, q[i*ldo+j], f[i*ldo+j], wq[i*c.n+j], wf[i*c.n+j])
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

// TestRowSumsS8: row sums of overlapping and strided rows, lengths off
// the 64-byte block, against a plain loop.
func TestRowSumsS8(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, c := range []struct{ m, lda, k int }{{1, 1, 1}, {30, 1, 4}, {17, 32, 96}, {9, 3, 130}, {5, 200, 64}, {4, 7, 0}} {
		a := randS8(r, (c.m-1)*c.lda+c.k)
		got := make([]int32, c.m)
		RowSumsS8(a, c.lda, c.m, c.k, got)
		for i := range c.m {
			var want int32
			for _, v := range a[i*c.lda:][:c.k] {
				want += int32(v)
			}
			if got[i] != want {
				t.Fatalf("%+v: sum %d = %d, want %d", c, i, got[i], want)
			}
		}
	}
}
