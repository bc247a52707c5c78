package gemm

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
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

// TestTransposeRowsInParallel: row parts of one transpose on separate
// goroutines, as ops/cpu splits a lone image's transpose over its
// workers, touch only their own columns of dst (run with -race: the
// bounds check used to read dst's last element, which the last part
// writes) and together make the whole transpose.
func TestTransposeRowsInParallel(t *testing.T) {
	const rows, cols = 70, 19
	f, q := make([]float32, rows*cols), make([]int8, rows*cols)
	for i := range f {
		f[i], q[i] = float32(i), int8(i%251-125)
	}
	gf, gq := make([]float32, rows*cols), make([]int8, rows*cols)
	var wg sync.WaitGroup
	for lo := 0; lo < rows; lo += 16 {
		wg.Go(func() {
			TransposeRowsF32(f, rows, cols, gf, lo, min(lo+16, rows))
			TransposeRowsS8(q, rows, cols, gq, lo, min(lo+16, rows))
		})
	}
	wg.Wait()
	for r := range rows {
		for c := range cols {
			if gf[c*rows+r] != f[r*cols+c] || gq[c*rows+r] != q[r*cols+c] {
				t.Fatalf("(%d, %d): got %v and %d, want %v and %d", r, c, gf[c*rows+r], gq[c*rows+r], f[r*cols+c], q[r*cols+c])
			}
		}
	}
}

// TestTransposeShortSlices: a dst or src shorter than rows·cols is a
// panic that names the sizes, not a write past the end.
func TestTransposeShortSlices(t *testing.T) {
	for _, c := range []struct{ src, dst int }{{12, 11}, {11, 12}} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "3×4 needs 12 values") {
					t.Errorf("src %d, dst %d: recovered %v, want the sizes", c.src, c.dst, r)
				}
			}()
			TransposeF32(make([]float32, c.src), 3, 4, make([]float32, c.dst))
		}()
	}
}
