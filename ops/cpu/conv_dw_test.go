package cpu

import (
	"math/rand/v2"
	"testing"
)

// TestAxpyMatchesGo: the vector axpy equals the Go fused multiply-add bit
// for bit, on lengths with and without a tail.
func TestAxpyMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{1, 7, 16, 33, 100} {
		x, y := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], y[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
		}
		want := append([]float32(nil), y...)
		axpyGo(0.37, x, want)
		axpy(0.37, x, y)
		for i := range y {
			if y[i] != want[i] {
				t.Fatalf("n=%d: element %d is %v, want %v", n, i, y[i], want[i])
			}
		}
	}
}
