package cpu

import (
	"math"
	"testing"
)

func TestExp32WithinTwoULP(t *testing.T) {
	worst := 0.0
	for x := -87.0; x <= 88.5; x += 0.000731 {
		got, want := float64(exp32(float32(x))), math.Exp(float64(float32(x)))
		ulp := float64(math.Nextafter32(float32(want), float32(math.Inf(1)))) - float64(float32(want))
		worst = max(worst, math.Abs(got-want)/ulp)
	}
	if worst > 2 {
		t.Fatalf("exp32 off by %.2f ulp", worst)
	}
	if exp32(89) != float32(math.Inf(1)) || exp32(-100) != 0 || exp32(0) != 1 || !math.IsNaN(float64(exp32(float32(math.NaN())))) {
		t.Fatalf("edges: %v %v %v", exp32(89), exp32(-100), exp32(0))
	}
}

func TestGELU32MatchesFloat64(t *testing.T) {
	for x := -12.0; x <= 12; x += 0.00137 {
		xf := float32(x)
		v := float64(xf)
		erf, _ := erfExp(float32(v / math.Sqrt2))
		if d := math.Abs(float64(erf) - math.Erf(v/math.Sqrt2)); d > 4e-7 {
			t.Fatalf("erf(%v): error %g", v/math.Sqrt2, d)
		}
		want := 0.5 * v * (1 + math.Erf(v/math.Sqrt2))
		if d := math.Abs(float64(gelu32(xf)) - want); d > 3e-7*math.Max(1, math.Abs(v)) {
			t.Fatalf("gelu(%v) = %v, want %v", v, gelu32(xf), want)
		}
		wantGrad := 0.5*(1+math.Erf(v/math.Sqrt2)) + v*math.Exp(-v*v/2)/math.Sqrt(2*math.Pi)
		if d := math.Abs(float64(gelu32Grad(xf)) - wantGrad); d > 4e-7 {
			t.Fatalf("gelu'(%v) = %v, want %v", v, gelu32Grad(xf), wantGrad)
		}
	}
}

func BenchmarkGELU(b *testing.B) {
	xs := make([]float32, 1<<16)
	for i := range xs {
		xs[i] = float32(i%2000)/250 - 4
	}
	b.Run("float64", func(b *testing.B) {
		for range b.N {
			for i, v := range xs {
				xs[i] = v - float32(0.5*float64(v)*(1+math.Erf(float64(v)/math.Sqrt2)))*1e-9
			}
		}
	})
	b.Run("float32", func(b *testing.B) {
		for range b.N {
			for i, v := range xs {
				xs[i] = v - gelu32(v)*1e-9
			}
		}
	})
}
