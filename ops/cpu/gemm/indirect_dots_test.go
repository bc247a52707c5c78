package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSgemmIndirectDotTail checks SgemmIndirectDotTail on every kernel
// against the float64 product (its epilogue applied in float64, then
// rounded) for n with a tail of 1-4 columns past a full 48-column block
// (49, 196, 100), without one (48, 96) and with a longer one (53: the
// kernel's path), with and without each part of the epilogue, and bit
// for bit against SgemmIndirectEpilogue on the columns before the tail
// (the same kernel, the same order). It fails where a tail column is
// missing, computed from the wrong column of B, or loses its epilogue.
func TestSgemmIndirectDotTail(t *testing.T) {
	for _, kern := range fp32Kernels() {
		t.Run(kern, func(t *testing.T) {
			defer useKernels(kern, "")()
			r := rand.New(rand.NewPCG(7, 8))
			for _, s := range [][4]int{ // m, n, k, ldc pad
				{160, 49, 480, 0}, {30, 97, 1700, 2}, {9, 49, 1, 0}, {37, 196, 64, 3}, {20, 100, 800, 0}, {10, 48, 20, 0}, {5, 96, 17, 1}, {12, 53, 30, 0},
			} {
				for combo := range 5 { // 0: no epilogue; 1: a shift; 2: and a scale; 3: and a residual; 4: and both bounds
					m, n, k := s[0], s[1], s[2]
					ldc := n + s[3]
					b := randF32(r, 2*n+k)
					off := make([]int, k)
					for p := range off {
						off[p] = r.IntN(len(b) - n + 1)
					}
					a := randF32(r, m*k)
					var ep *RowEpilogue
					if combo > 0 {
						ep = &RowEpilogue{Shift: randF32(r, m), Lo: -0.25, Hi: 0.5, Floor: combo == 4, Ceil: combo == 4}
						if combo >= 2 {
							ep.Scale = randF32(r, m)
						}
						if combo >= 3 {
							ep.Res = randF32(r, m*ldc)
						}
					}
					got, same := make([]float32, m*ldc), make([]float32, m*ldc)
					SgemmIndirectDotTail(m, n, k, a, k, b, off, got, ldc, ep)
					if ep != nil {
						SgemmIndirectEpilogue(m, n, k, a, k, b, off, same, ldc, *ep)
					} else {
						SgemmIndirect(m, n, k, a, k, b, off, same, ldc)
					}
					full := n
					if tail := n % 48; tail <= DotTailMax {
						full = n - tail
					}
					for i := range m {
						for j := range n {
							g := got[i*ldc+j]
							if j < full && g != same[i*ldc+j] {
								t.Fatalf("%v combo %d: C[%d,%d] = %v, the kernel's %v", s, combo, i, j, g, same[i*ldc+j])
							}
							want, mag := 0.0, 0.0
							for p := range k {
								v := float64(a[i*k+p]) * float64(b[off[p]+j])
								want += v
								mag += math.Abs(v)
							}
							if ep != nil {
								scale := float32(1)
								if ep.Scale != nil {
									scale = ep.Scale[i]
								}
								mag = mag*math.Abs(float64(scale)) + math.Abs(float64(ep.Shift[i]))
								want = want*float64(scale) + float64(ep.Shift[i])
								if ep.Res != nil {
									want += float64(ep.Res[i*ldc+j])
									mag += math.Abs(float64(ep.Res[i*ldc+j]))
								}
								if ep.Floor {
									want = max(want, float64(ep.Lo))
								}
								if ep.Ceil {
									want = min(want, float64(ep.Hi))
								}
							}
							if math.Abs(float64(g)-want) > 1e-6*(mag+1) {
								t.Fatalf("%v combo %d: C[%d,%d] = %v, want %v", s, combo, i, j, g, want)
							}
						}
					}
				}
			}
		})
	}
}

// TestSgemmIndirectDotTailRowTiles checks the tail columns that
// SgemmIndirectDotTail computes tile by tile (each row tile's dot
// products right after the kernel's k blocks for it) bit for bit against
// one pass of the dot products over every row with the whole k, the order
// they ran in before: a row's sum must not depend on the tile it sits in.
// The shapes have several k blocks (idxKC), row tiles of 8 and 9 rows and
// an A larger than dotsStream (tile by tile) or smaller (one pass after),
// resnet18's 512→512 layer on 7×7 among them (k = 4608, 49 columns).
func TestSgemmIndirectDotTailRowTiles(t *testing.T) {
	if _, ok := f32Impls["avx512"]; !ok {
		t.Skip("no AVX-512 indirect kernel here")
	}
	defer useKernels("avx512", "")()
	impl := curF32.Load()
	r := rand.New(rand.NewPCG(9, 10))
	for _, s := range [][3]int{{512, 49, 4608}, {60, 97, 4400}, {37, 98, 2*idxKC + 5}, {17, 52, idxKC + 1}} { // m, n, k: A over and under dotsStream
		m, n, k := s[0], s[1], s[2]
		ldc := n + 2
		b := randF32(r, 2*n+k)
		off := make([]int, k)
		for p := range off {
			off[p] = r.IntN(len(b) - n + 1)
		}
		a := randF32(r, m*k)
		ep := &RowEpilogue{Scale: randF32(r, m), Shift: randF32(r, m), Res: randF32(r, m*ldc), Lo: 0, Floor: true}
		got := make([]float32, m*ldc)
		SgemmIndirectDotTail(m, n, k, a, k, b, off, got, ldc, ep)
		full := n / 48 * 48
		col, out := make([]float32, k), make([]float32, m)
		for j := full; j < n; j++ {
			for p, o := range off {
				col[p] = b[o+j]
			}
			impl.dots(&col[0], &a[0], k, k, m, &out[0])
			for i, v := range out {
				want := ep.apply(v, ep.Scale[i], ep.Shift[i], ep.Res[i*ldc+j])
				if g := got[i*ldc+j]; math.Float32bits(g) != math.Float32bits(want) {
					t.Fatalf("%v: C[%d,%d] = %v, one pass over the rows gives %v", s, i, j, g, want)
				}
			}
		}
	}
}
