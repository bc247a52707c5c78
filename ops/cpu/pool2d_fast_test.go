package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// The unrolled 2×2 path agrees with the general one, ties and odd sizes
// (a dropped last row and column) included.
func TestMaxPool2x2MatchesGeneral(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, hw := range [][2]int{{28, 28}, {7, 9}, {2, 2}, {14, 14}, {5, 33}, {4, 64}, {3, 70}, {6, 31}} {
		p := ops.PoolParams{N: 1, C: 1, H: hw[0], W: hw[1], KH: 2, KW: 2, StrideH: 2, StrideW: 2, OutH: hw[0] / 2, OutW: hw[1] / 2}
		src := make([]float32, p.H*p.W)
		for i := range src {
			src[i] = float32(r.IntN(4)) // many ties
		}
		src[0] = float32(math.NaN()) // never replaces, as v > best is false
		n := p.OutH * p.OutW
		d1, d2, d3 := make([]float32, n), make([]float32, n+1), make([]float32, n)
		a1, a2, a3 := make([]int32, n), make([]int32, n+1), make([]int32, n)
		d2[n], a2[n] = 42, 42
		maxPoolPlane(p, src, d1, a1, 5)
		maxPool2x2Plane(p, src, d2[:n], a2[:n], 5)
		maxPool2x2PlaneGo(p, src, d3, a3, 5)
		if d2[n] != 42 || a2[n] != 42 {
			t.Fatalf("%v: wrote past the end", hw)
		}
		same := func(a, b float32) bool { return a == b || a != a && b != b }
		for i := range d1 {
			if !same(d1[i], d2[i]) || a1[i] != a2[i] || !same(d1[i], d3[i]) || a1[i] != a3[i] {
				t.Fatalf("%v output %d: (%v, %d) vs general (%v, %d)", hw, i, d2[i], a2[i], d1[i], a1[i])
			}
		}
	}
}
