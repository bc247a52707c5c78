package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/internal/cpufeature"
)

// TestSgemmIndirect checks SgemmIndirect against the float64 reference on a
// dense copy of its B, on every kernel: edge tiles in every direction
// (m not a multiple of 14, n of 32), k across the kc block, a padded lda
// and ldc (last column tiles of 8, 16, 31 and 32 take the narrow kernels), overlapping and repeated offsets (taps share input), and an
// lda whose rows share cache sets (A is copied first).
func TestSgemmIndirect(t *testing.T) {
	for _, kern := range fp32Kernels() {
		t.Run(kern, func(t *testing.T) {
			defer useKernels(kern, "")()
			r := rand.New(rand.NewPCG(3, 4))
			for _, s := range [][5]int{ // m, n, k, lda pad, ldc pad
				{1, 1, 1, 0, 0}, {16, 1088, 144, 0, 0}, {15, 33, 9, 3, 1}, {29, 95, 300, 0, 7},
				{64, 80, 576, 0, 0}, {3, 31, 1, 0, 0}, {14, 64, 513, 5, 0}, {2, 200, 1024, 0, 0},
			} {
				m, n, k := s[0], s[1], s[2]
				lda, ldc := k+s[3], n+s[4]
				b := randF32(r, 3*n+k)
				off := make([]int, k)
				for p := range off {
					off[p] = r.IntN(len(b) - n + 1)
				}
				a, c := randF32(r, m*lda), randF32(r, m*ldc)
				for i := range c {
					c[i] = float32(math.NaN()) // beta 0: never read
				}
				dense := make([]float32, k*n)
				for p := range k {
					copy(dense[p*n:][:n], b[off[p]:][:n])
				}
				want := make([]float32, m*ldc)
				refSgemm(false, false, m, n, k, 1, a, lda, dense, n, 0, want, ldc)
				SgemmIndirect(m, n, k, a, lda, b, off, c, ldc)
				for i := range m {
					for j := range n {
						g, w := c[i*ldc+j], want[i*ldc+j]
						if math.Abs(float64(g-w)) > 1e-4*math.Sqrt(float64(k)) || g != g {
							t.Fatalf("%v: C[%d,%d] = %g, want %g", s, i, j, g, w)
						}
					}
				}
			}
		})
	}
}

func TestSgemmIndirectPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"row leaves b": func() {
			SgemmIndirect(1, 4, 2, make([]float32, 2), 2, make([]float32, 8), []int{0, 5}, make([]float32, 4), 4)
		},
		"negative offset": func() {
			SgemmIndirect(1, 4, 1, make([]float32, 1), 1, make([]float32, 8), []int{-1}, make([]float32, 4), 4)
		},
		"few offsets": func() {
			SgemmIndirect(1, 4, 2, make([]float32, 2), 2, make([]float32, 8), []int{0}, make([]float32, 4), 4)
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// BenchmarkSgemmIndirect times the convolution shapes of resnet20 (OC ×
// pixels × C·9 per image) with the offsets of a 3×3 same convolution over
// an input laid out with one zero column and row between rows and images.
func BenchmarkSgemmIndirect(b *testing.B) {
	for _, s := range [][3]int{{16, 32, 16}, {32, 16, 32}, {64, 8, 64}} {
		oc, hw, c := s[0], s[1], s[2]
		wp := hw + 1
		plane := (hw + 3) * wp
		n, k := hw*wp, c*9
		r := rand.New(rand.NewPCG(1, 1))
		x, a, out := randF32(r, c*plane+64), randF32(r, oc*k), make([]float32, oc*n)
		off := make([]int, k)
		for ci := range c {
			for t := range 9 {
				off[ci*9+t] = ci*plane + (t/3)*wp + t%3
			}
		}
		b.Run(fmt.Sprintf("%dx%dx%d", oc, n, k), func(b *testing.B) {
			for b.Loop() {
				SgemmIndirect(oc, n, k, a, k, x, off, out, n)
			}
			b.ReportMetric(2*float64(oc*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestIndirectColumnBlocks checks the column blocks the AVX-512 indirect
// kernel takes: full 48-column blocks, and 49-64 columns left as two
// blocks of two narrow vectors (32 and the rest) instead of 48 and a
// one-vector tail.
func TestIndirectColumnBlocks(t *testing.T) {
	impl, ok := f32Impls["avx512"]
	cpufeature.Require(t, ok, "AVX-512F/BW/VL (fp32 kernel avx512)")
	if !ok {
		return
	}
	for n, want := range map[int][][2]int{ // {columns, narrow vectors (0: the full kernel)}
		48:  {{48, 0}},
		40:  {{40, 0}},
		64:  {{32, 2}, {32, 2}},
		49:  {{32, 2}, {17, 2}},
		112: {{48, 0}, {32, 2}, {32, 2}},
		96:  {{48, 0}, {48, 0}},
		80:  {{48, 0}, {32, 2}},
		65:  {{48, 0}, {17, 2}},
		16:  {{16, 1}},
	} {
		r := idxRun{impl: impl, p: &sgemmArgs{}, n: n, b: make([]float32, n)}
		var got [][2]int
		for jr := 0; jr < n; jr += r.p.nr {
			vecs := r.cols(jr)
			got = append(got, [2]int{r.p.nr, vecs})
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("n = %d: blocks %v, want %v", n, got, want)
		}
	}
}

// TestSgemmIndirectPairsSameBits: 49-64 columns cut as 32 + the rest give
// the same bits as a full block and a one-vector tail (each column's sum
// runs in the same order in every kernel), with the epilogue, across a
// k block, on rows cut in several tiles. Only the AVX-512 kernel cuts
// columns in pairs (elsewhere both runs would be the same code), so the
// test needs it.
func TestSgemmIndirectPairsSameBits(t *testing.T) {
	cpufeature.Require(t, IndirectNative(), "AVX-512F/BW/VL (the indirect kernel that cuts columns in pairs)")
	if !IndirectNative() {
		return
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, s := range [][3]int{{64, 64, 576}, {9, 49, 27}, {20, 56, 900}, {64, 112, 576}, {7, 63, 1}} {
		m, n, k := s[0], s[1], s[2]
		b := randF32(r, 2*n+k)
		off := make([]int, k)
		for p := range off {
			off[p] = r.IntN(len(b) - n + 1)
		}
		a := randF32(r, m*k)
		ep := RowEpilogue{Scale: randF32(r, m), Shift: randF32(r, m), Res: randF32(r, m*n), Floor: true}
		run := func(pairs bool) []float32 {
			defer func(old bool) { idxPairs = old }(idxPairs)
			idxPairs = pairs
			c := make([]float32, m*n)
			SgemmIndirectEpilogue(m, n, k, a, k, b, off, c, n, ep)
			return c
		}
		got, want := run(true), run(false)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%v: C[%d] = %g cut in pairs, %g as 48 + a tail", s, i, got[i], want[i])
			}
		}
	}
}

// BenchmarkSgemmIndirectColumns times resnet20's 8×8 3×3 layer's product
// (64 output channels × 64 pixels × 576) and 48 and 56 columns, with
// 49-64 columns cut as 32 + the rest ("pairs", the default) and as 48 +
// a one-vector tail ("tail"); -count N alternates the two.
func BenchmarkSgemmIndirectColumns(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	const m, k = 64, 576
	for _, n := range []int{48, 56, 64} {
		x, a, out := randF32(r, 4*n+k), randF32(r, m*k), make([]float32, m*n)
		off := make([]int, k)
		for p := range off {
			off[p] = (p % 64) * 2
		}
		for _, pairs := range []bool{true, false} {
			name := map[bool]string{true: "pairs", false: "tail"}[pairs]
			b.Run(fmt.Sprintf("%dx%dx%d/%s", m, n, k, name), func(b *testing.B) {
				defer func(old bool) { idxPairs = old }(idxPairs)
				idxPairs = pairs
				for b.Loop() {
					SgemmIndirect(m, n, k, a, k, x, off, out, n)
				}
				b.ReportMetric(float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			})
		}
	}
}
