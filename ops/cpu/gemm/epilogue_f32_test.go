package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSgemmIndirectEpilogue checks the fused output pass of every kernel
// bit for bit against SgemmIndirect followed by the epilogue in Go (the
// same operations in the same order): every combination of scale (or
// none), residual, floor and ceiling; edge tiles in both directions; k
// across the k block (the epilogue only on the last one); NaN in B and in
// the residual (a bound replaces it, as in the plain output pass). It
// fails where the kernel drops the epilogue or any part of it.
func TestSgemmIndirectEpilogue(t *testing.T) {
	for _, kern := range fp32Kernels() {
		t.Run(kern, func(t *testing.T) {
			defer useKernels(kern, "")()
			r := rand.New(rand.NewPCG(5, 6))
			for _, s := range [][4]int{ // m, n, k, ldc pad
				{1, 1, 1, 0}, {9, 48, 16, 0}, {17, 50, 24, 3}, {32, 196, 96, 0}, {20, 97, 800, 5}, {7, 13, 1, 0}, {9, 80, 40, 2},
			} {
				for combo := range 16 {
					m, n, k := s[0], s[1], s[2]
					ldc := n + s[3]
					b := randF32(r, 2*n+k)
					b[n/2] = float32(math.NaN())
					off := make([]int, k)
					for p := range off {
						off[p] = r.IntN(len(b) - n + 1)
					}
					a := randF32(r, m*k)
					ep := RowEpilogue{Shift: randF32(r, m), Lo: -0.25, Hi: 0.5, Floor: combo&4 != 0, Ceil: combo&8 != 0}
					if combo&1 != 0 {
						ep.Scale = randF32(r, m)
					}
					if combo&2 != 0 {
						ep.Res = randF32(r, m*ldc)
						ep.Res[len(ep.Res)-1] = float32(math.NaN())
					}
					want, got := make([]float32, m*ldc), make([]float32, m*ldc)
					SgemmIndirect(m, n, k, a, k, b, off, want, ldc)
					ws := ep.withScale(m)
					ws.applyGo(m, n, want, ldc)
					SgemmIndirectEpilogue(m, n, k, a, k, b, off, got, ldc, ep)
					name := fmt.Sprintf("%v scale %v res %v floor %v ceil %v", s, ep.Scale != nil, ep.Res != nil, ep.Floor, ep.Ceil)
					for i := range m {
						for j := range n {
							g, w := got[i*ldc+j], want[i*ldc+j]
							if math.Float32bits(g) != math.Float32bits(w) {
								t.Fatalf("%s: C[%d,%d] = %v, want %v", name, i, j, g, w)
							}
							if (ep.Floor && !(g >= ep.Lo)) || (ep.Ceil && !(g <= ep.Hi)) {
								t.Fatalf("%s: C[%d,%d] = %v outside the bounds", name, i, j, g)
							}
						}
					}
				}
			}
		})
	}
}

// TestRowEpilogueApply pins the epilogue's definition on single values.
func TestRowEpilogueApply(t *testing.T) {
	nan := float32(math.NaN())
	ep := RowEpilogue{Res: []float32{0}, Lo: 0, Hi: 6, Floor: true, Ceil: true}
	for _, c := range []struct{ v, scale, shift, res, want float32 }{
		{1, 2, 0.5, 1, 3.5}, {-1, 2, 0.5, 0, 0}, {4, 2, 0, 1, 6}, {nan, 1, 0, 0, 0}, {1, 1, 0, nan, 0},
	} {
		if got := ep.apply(c.v, c.scale, c.shift, c.res); math.Float32bits(got) != math.Float32bits(c.want) {
			t.Errorf("apply(%v·%v + %v + %v) = %v, want %v", c.v, c.scale, c.shift, c.res, got, c.want)
		}
	}
	if got := (&RowEpilogue{}).apply(nan, 1, 0, 0); got == got {
		t.Errorf("no bounds: NaN became %v", got)
	}
}

func TestSgemmIndirectEpiloguePanics(t *testing.T) {
	for name, f := range map[string]func(){
		"short shift": func() {
			SgemmIndirectEpilogue(2, 4, 1, make([]float32, 2), 1, make([]float32, 8), []int{0}, make([]float32, 8), 4, RowEpilogue{Shift: make([]float32, 1)})
		},
		"short residual": func() {
			SgemmIndirectEpilogue(2, 4, 1, make([]float32, 2), 1, make([]float32, 8), []int{0}, make([]float32, 8), 4, RowEpilogue{Shift: make([]float32, 2), Res: make([]float32, 7)})
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

// TestSgemmIndirectEpilogueAllocates: a call with the epilogue allocates
// nothing once warm where the native kernel runs, with a scale or
// without one (the ones it multiplies by are shared), and a call without
// a scale still multiplies by 1. The
// epilogue went to the heap on every call before (one object per GEMM of
// a convolution that writes y through it).
func TestSgemmIndirectEpilogueAllocates(t *testing.T) {
	const m, n, k = 20, 50, 7
	a, b, c := make([]float32, m*k), make([]float32, k+n), make([]float32, m*n)
	off := make([]int, k)
	for i := range a {
		a[i] = float32(i%5) - 2
	}
	for i := range b {
		b[i] = float32(i%3) - 1
	}
	for i := range off {
		off[i] = i
	}
	shift, scale := make([]float32, m), make([]float32, m)
	for i := range scale {
		scale[i], shift[i] = 2, float32(i)
	}
	for _, sc := range [][]float32{scale, nil} {
		ep := RowEpilogue{Scale: sc, Shift: shift}
		SgemmIndirectEpilogue(m, n, k, a, k, b, off, c, n, ep)
		got := slices.Clone(c)
		want := make([]float32, m*n)
		SgemmIndirect(m, n, k, a, k, b, off, want, n)
		ws := ep.withScale(m)
		ws.applyGo(m, n, want, n)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("scale %v: c[%d] = %v, want %v", sc != nil, i, got[i], want[i])
			}
		}
		if !IndirectNative() {
			continue // the fallback copies B into pooled buffers
		}
		if allocs := testing.AllocsPerRun(20, func() { SgemmIndirectEpilogue(m, n, k, a, k, b, off, c, n, ep) }); allocs != 0 {
			t.Errorf("scale %v: %v allocations per call, want 0", sc != nil, allocs)
		}
	}
}
