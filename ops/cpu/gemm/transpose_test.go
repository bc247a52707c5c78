package gemm

import (
	"math/rand/v2"
	"testing"
)

// TestTransposes: the float (16×16 vector blocks) and int8 (8×8 blocks)
// transposes against the definition, sizes on and off the blocks, on
// every fp32 kernel.
func TestTransposes(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	sizes := [][2]int{{1, 1}, {16, 16}, {8, 8}, {17, 33}, {32, 48}, {49, 96}, {3, 200}, {130, 7}}
	for _, kern := range []string{"generic", "avx2+fma", "avx512"} {
		if _, ok := f32Impls[kern]; !ok {
			continue
		}
		restore := useKernels(kern, "")
		for _, s := range sizes {
			rows, cols := s[0], s[1]
			f, q := make([]float32, rows*cols), randS8(r, rows*cols)
			for i := range f {
				f[i] = r.Float32()
			}
			gf, gq := make([]float32, len(f)), make([]int8, len(q))
			TransposeF32(f, rows, cols, gf)
			TransposeS8(q, rows, cols, gq)
			pf, pq := make([]float32, len(f)), make([]int8, len(q))
			for lo := 0; lo < rows; lo += 16 { // in parts, as workers split it
				TransposeRowsF32(f, rows, cols, pf, lo, min(lo+16, rows))
				TransposeRowsS8(q, rows, cols, pq, lo, min(lo+16, rows))
			}
			for i := range rows {
				for j := range cols {
					if gf[j*rows+i] != f[i*cols+j] || gq[j*rows+i] != q[i*cols+j] || pf[j*rows+i] != f[i*cols+j] || pq[j*rows+i] != q[i*cols+j] {
						t.Fatalf("%s %dx%d: (%d,%d) transposed wrong", kern, rows, cols, i, j)
					}
				}
			}
		}
		restore()
	}
}
