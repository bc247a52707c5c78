package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// TestDirectOutMatchesGo checks the output pass (the vector kernel where
// there is one) against directOutGo bit for bit: every activation (none,
// ReLU, a clip, ReLU then a clip), with and without a residual, rows of
// 1..40 columns (masked tails) read from a strided source, NaN inputs
// included (they become the bound, as VMAXPS/VMINPS give it).
func TestDirectOutMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	fusions := []ops.ConvFusion{{}, {ReLU: true}, {Clip: true, Lo: 0, Hi: 6}, {Clip: true, Lo: -1, Hi: 0.5}, {ReLU: true, Clip: true, Lo: -2, Hi: 6}}
	for fi, f := range fusions {
		act := fusionAct(f)
		for cols := 1; cols <= 40; cols++ {
			for _, withRes := range []bool{false, true} {
				rows, lds := 3, cols+5
				src := make([]float32, rows*lds)
				for i := range src {
					src[i] = float32(r.NormFloat64() * 8)
				}
				src[0] = float32(math.NaN())
				var res []float32
				if withRes {
					res = make([]float32, rows*cols)
					for i := range res {
						res[i] = float32(r.NormFloat64())
					}
				}
				got, want := make([]float32, rows*cols), make([]float32, rows*cols)
				directOut(src, lds, got, res, rows, cols, 0.7, -0.3, act)
				directOutGo(src, lds, want, res, rows, cols, 0.7, -0.3, act)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("fusion %d %+v, cols %d, res %v: [%d] = %v, want %v", fi, f, cols, withRes, i, got[i], want[i])
					}
					if f.Clip && !math.IsNaN(float64(want[i])) && (want[i] < max(f.Lo, 0) && f.ReLU || want[i] > f.Hi) {
						t.Fatalf("fusion %+v: [%d] = %v outside the clip", f, i, want[i])
					}
				}
				if f.ReLU || f.Clip {
					if math.IsNaN(float64(want[0])) {
						t.Fatalf("fusion %+v: a NaN input stayed NaN under a bound", f)
					}
				} else if !math.IsNaN(float64(want[0])) {
					t.Fatalf("no activation: a NaN input became %v", want[0])
				}
			}
		}
	}
}
