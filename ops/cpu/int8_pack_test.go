package cpu

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPackVMatchesReference checks the branch-free packV against packVGo
// byte for byte, with row counts that leave partial groups.
func TestPackVMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 3, 4, 5, 16, 49, 50, 64} {
		for _, d := range []int{4, 16, 32, 20} {
			ld := 3*d + 8
			v := make([]int8, n*ld)
			for i := range v {
				v[i] = int8(r.IntN(256) - 128)
			}
			blocks := (d + 15) / 16
			size := (n + 3) / 4 * blocks * 64
			got, want := make([]int8, size), make([]int8, size)
			packV(got, v, ld, n, d, blocks)
			packVGo(want, v, ld, n, d, blocks)
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d d=%d: packV differs from packVGo", n, d)
			}
		}
	}
}
