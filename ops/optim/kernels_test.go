package optim

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(r *rand.Rand, n int, scale float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = (r.Float32()*2 - 1) * scale
	}
	return s
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d] = %g (%#x), want %g (%#x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// lengths cover empty, below one vector, whole vectors and ragged tails.
var kernelLengths = []int{0, 1, 15, 16, 17, 31, 32, 100, 1000, 4099}

// TestSGDMomentumKernelMatchesFormula checks the momentum update (the
// AVX-512 loop where the CPU has it, the tail in Go) against PyTorch's
// formula written out element by element, bit for bit, over three steps.
func TestSGDMomentumKernelMatchesFormula(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	h := sgdHyper{lr: 0.05, wd: 1e-3, mom: 0.9, damp: 0.75}
	for _, n := range kernelLengths {
		w, buf := randSlice(r, n, 1), randSlice(r, n, 0.1)
		ww, wb := append([]float32(nil), w...), append([]float32(nil), buf...)
		for range 3 {
			grad := randSlice(r, n, 0.5)
			sgdMomentum(w, grad, buf, h, false)
			for i := range ww {
				g := grad[i] + float32(h.wd*ww[i])
				wb[i] = float32(h.mom*wb[i]) + float32(h.damp*g)
				ww[i] -= float32(h.lr * wb[i])
			}
			sameBits(t, "buf", buf, wb)
			sameBits(t, "w", w, ww)
		}
	}
}

// TestAdamWKernelMatchesFormula checks the AdamW update against the
// formula in float32, bit for bit, over three steps.
func TestAdamWKernelMatchesFormula(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range kernelLengths {
		w, m, v := randSlice(r, n, 1), make([]float32, n), make([]float32, n)
		ww, wm, wv := append([]float32(nil), w...), make([]float32, n), make([]float32, n)
		for step := 1; step <= 3; step++ {
			const lr, wd, b1, b2, eps = 1e-2, 0.01, 0.9, 0.999, 1e-8
			bc1, bc2 := 1-math.Pow(b1, float64(step)), 1-math.Pow(b2, float64(step))
			h := adamHyper{decay: float32(1 - lr*wd), b1: b1, c1: 1 - float32(b1), b2: b2, c2: 1 - float32(b2),
				invBC2: float32(1 / math.Sqrt(bc2)), eps: eps, step: float32(lr / bc1)}
			grad := randSlice(r, n, 0.5)
			adamW(w, grad, m, v, h)
			for i := range ww {
				g := grad[i]
				wm[i] = float32(h.b1*wm[i]) + float32(h.c1*g)
				wv[i] = float32(h.b2*wv[i]) + float32(float32(h.c2*g)*g)
				d := float32(float32(math.Sqrt(float64(wv[i])))*h.invBC2) + h.eps
				ww[i] = ww[i]*h.decay - float32(h.step*wm[i])/d
			}
			sameBits(t, "m", m, wm)
			sameBits(t, "v", v, wv)
			sameBits(t, "w", w, ww)
		}
	}
}

// TestParallelCutsAtVectorWidth checks that a large update split over
// goroutines covers every element once, in chunks that start at multiples
// of 16.
func TestParallelCutsAtVectorWidth(t *testing.T) {
	n := 3*minPerGoroutine + 5
	seen := make([]int32, n)
	var los []int
	done := make(chan int, 8)
	parallel(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			seen[i]++
		}
		done <- lo
	})
	close(done)
	for lo := range done {
		los = append(los, lo)
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("element %d updated %d times", i, c)
		}
	}
	for _, lo := range los {
		if lo%16 != 0 {
			t.Errorf("chunk starts at %d, not a multiple of 16", lo)
		}
	}
}
