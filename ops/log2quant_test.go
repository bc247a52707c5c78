package ops_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
)

// log2Ref is the level rule in float64: the nearest power of two below tau
// in the log domain, zero when pruned or below tau·2^-K.
func log2Ref(w, tau, prune float64, K int) float64 {
	a := math.Abs(w)
	if a < prune || a == 0 {
		return 0
	}
	e := math.Round(math.Log2(math.Min(a/tau, 1)))
	if e < -float64(K) {
		return 0
	}
	return math.Copysign(tau*math.Pow(2, e), w)
}

func TestLog2LevelMatchesFloat64Reference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, bits := range []int{2, 3, 4} {
		K := ops.Log2MaxShift(bits)
		if want := []int{0, 2, 6}[bits-2]; K != want {
			t.Fatalf("bits %d: K=%d, want %d", bits, K, want)
		}
		levels := map[float64]bool{}
		for range 20000 {
			w := float32(r.NormFloat64())
			q, k := ops.Log2Level(w, 1.5, 0.3, K)
			want := log2Ref(float64(w), 1.5, 0.3, K)
			if float64(q) != want {
				t.Fatalf("bits %d w=%v: q=%v want %v", bits, w, q, want)
			}
			if (q == 0) != (k < 0) || (q != 0 && float64(q) != math.Copysign(1.5*math.Pow(2, -float64(k)), float64(w))) {
				t.Fatalf("w=%v: q=%v but k=%d", w, q, k)
			}
			q0, _ := ops.Log2Level(w, 1.5, 0, K)
			levels[math.Abs(float64(q0))] = true
		}
		// {0} ∪ {tau·2^-k, k=0..K}: 2^(bits-1) magnitudes.
		if len(levels) != 1<<(bits-1) {
			t.Fatalf("bits %d: %d magnitudes %v; want %d", bits, len(levels), levels, 1<<(bits-1))
		}
	}
	// Clipping: anything above tau is tau; pruning wins over the levels.
	if q, _ := ops.Log2Level(-9, 1.5, 0, 2); q != -1.5 {
		t.Fatalf("clip: %v", q)
	}
	if q, _ := ops.Log2Level(1.4, 1.5, 1.41, 2); q != 0 {
		t.Fatalf("prune: %v", q)
	}
	// 3 bits: below tau·2^-2.5 underflows to zero, just above is tau/4.
	under := float32(1.5 * math.Pow(2, -2.5))
	if q, _ := ops.Log2Level(under*0.999, 1.5, 0, 2); q != 0 {
		t.Fatalf("underflow: %v", q)
	}
	if q, _ := ops.Log2Level(under*1.001, 1.5, 0, 2); q != 0.375 {
		t.Fatalf("smallest level: %v", q)
	}
}

// The alpha gradient is the derivative of the LSQ surrogate: with the
// rounding held at its current value, q(alpha) = w + tau·c (c = (q0-w)/tau0)
// inside the range, sign(w)·tau when clipped, 0 when pruned or masked.
func TestLog2QuantAlphaGradientFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const n = 300
	wv, dy, mk := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range wv {
		wv[i], dy[i], mk[i] = float32(r.NormFloat64()*0.2), float32(r.NormFloat64()), 1
	}
	mk[5], mk[17] = 0, 0
	o := ops.Log2QuantOptions{Bits: 3, Beta: 0.4}
	alpha0 := 2.0
	w, mask := ops.MustFromData(wv, 20, 15), ops.MustFromData(mk, 20, 15)
	alpha := ops.MustFromData([]float32{float32(alpha0)}, 1)
	alpha.SetRequiresGrad(true)
	w.SetRequiresGrad(true)
	c := ops.NewContext(cpu.New(cpu.Options{}), ops.Options{Grad: true})
	y := c.Log2Quant(w, alpha, mask, o)
	loss := c.Sum(c.Mul(y, ops.MustFromData(dy, 20, 15)), nil, false)
	if err := c.Backward(loss); err != nil {
		t.Fatal(err)
	}
	// float64 surrogate.
	var mean, ss float64
	for _, v := range wv {
		mean += float64(v)
	}
	mean /= n
	for _, v := range wv {
		ss += (float64(v) - mean) * (float64(v) - mean)
	}
	sigma := math.Sqrt(ss / n)
	tau0 := alpha0 * sigma
	surrogate := func(al float64) float64 {
		tau, s := al*sigma, 0.0
		for i, v := range wv {
			w := float64(v)
			a := math.Abs(w)
			var q float64
			switch {
			case mk[i] == 0 || a < 0.4*sigma:
			case a >= tau0:
				q = math.Copysign(tau, w)
			default:
				q0 := log2Ref(w, tau0, 0.4*sigma, 2)
				q = w + tau*(q0-w)/tau0
			}
			s += float64(dy[i]) * q
		}
		return s
	}
	h := 1e-6
	fd := (surrogate(alpha0+h) - surrogate(alpha0-h)) / (2 * h)
	g := 1 / math.Sqrt(n*3)
	if got := float64(alpha.Grad().Data[0]); math.Abs(got-fd*g) > 1e-4*math.Max(1, math.Abs(fd*g)) {
		t.Fatalf("alpha grad %v, finite differences %v", got, fd*g)
	}
	// Weight gradient: straight-through inside [-tau, tau], zero when masked or clipped.
	for i, v := range wv {
		want := dy[i]
		if mk[i] == 0 || math.Abs(float64(v)) > tau0 {
			want = 0
		}
		if got := w.Grad().Data[i]; got != want {
			t.Fatalf("w[%d]=%v: grad %v want %v", i, v, got, want)
		}
	}
	if y.Data[5] != 0 || y.Data[17] != 0 {
		t.Fatal("masked weights are not zero")
	}
}
