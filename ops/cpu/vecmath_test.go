package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/internal/cpufeature"
)

// The vector loops against the scalar functions they replace, at every
// length up to a few vectors (tails), over a wide range and the edges.

// requireVec16 skips a test of the AVX-512 loops on a CPU without them
// (where it would compare the scalar code with itself), or fails it when
// CI requires them.
func requireVec16(t *testing.T) {
	t.Helper()
	cpufeature.Require(t, vec16, "AVX-512F and AVX-512VL")
}

// requireVNNI16 is requireVec16 for the int8 kernels.
func requireVNNI16(t *testing.T) {
	t.Helper()
	cpufeature.Require(t, vnni16, "AVX-512BW and AVX-512 VNNI")
}

// TestFastPathsPresent fails where CI requires the fast paths and this CPU
// cannot run them, and otherwise says which tests will skip.
func TestFastPathsPresent(t *testing.T) {
	requireVec16(t)
	requireVNNI16(t)
}

func vecInputs(n int, r *rand.Rand) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 4)
	}
	return x
}

func relClose(got, want, rel, abs float32) bool {
	if math.IsNaN(float64(want)) {
		return math.IsNaN(float64(got))
	}
	if math.IsInf(float64(want), 0) {
		return got == want
	}
	d := math.Abs(float64(got - want))
	return d <= float64(abs) || d <= float64(rel)*math.Abs(float64(want))
}

func TestVecExpSoftmaxMatchesScalar(t *testing.T) {
	requireVec16(t)
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 70; n++ {
		x := vecInputs(n, r)
		y := make([]float32, n+1)
		y[n] = 42 // guard: nothing written past n
		m := maxRow(x)
		wantM := float32(math.Inf(-1))
		for _, v := range x {
			wantM = max(wantM, v)
		}
		if m != wantM {
			t.Fatalf("n=%d: max %v, want %v", n, m, wantM)
		}
		s := expShiftSum(x, y[:n], m)
		var ws float64
		for i, v := range x {
			e := exp32(v - m)
			ws += float64(e)
			if !relClose(y[i], e, 4e-7, 0) {
				t.Fatalf("n=%d: exp(%v) = %v, want %v", n, v-m, y[i], e)
			}
		}
		if math.Abs(float64(s)-ws) > 1e-6*ws {
			t.Fatalf("n=%d: sum %v, want %v", n, s, ws)
		}
		scaleRow(y[:n], 0.5)
		for i, v := range x {
			if !relClose(y[i], 0.5*exp32(v-m), 4e-7, 0) {
				t.Fatalf("n=%d: scaled %v", n, y[i])
			}
		}
		if y[n] != 42 {
			t.Fatalf("n=%d: wrote past the end", n)
		}
	}
}

func TestVecExpEdges(t *testing.T) {
	inf := float32(math.Inf(1))
	x := []float32{0, 1, -1, 88.5, 88.72, 89, 200, inf, -inf, -87, -87.3, -103, -200, float32(math.NaN()), 10, -10, 0.5}
	y := make([]float32, len(x))
	expShiftSum(x, y, 0)
	for i, v := range x {
		want := exp32(v)
		// below the normal range the vector form may give a subnormal
		if !relClose(y[i], want, 4e-7, 1.2e-38) {
			t.Errorf("exp(%v) = %v, want %v", v, y[i], want)
		}
	}
	if m := maxRow([]float32{-inf, -inf}); m != -inf {
		t.Errorf("max of -Inf = %v", m)
	}
}

func TestVecGELUMatchesScalar(t *testing.T) {
	requireVec16(t)
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n <= 70; n++ {
		x := vecInputs(n, r)
		if n > 3 {
			x[0], x[1], x[2], x[3] = 0.7071067, -0.7071068, 0, -1e-30
		}
		y := make([]float32, n+1)
		y[n] = 42
		geluRow(x, y[:n])
		dy := vecInputs(n, r)
		dx := vecInputs(n+1, r)
		dx0 := append([]float32(nil), dx...)
		geluGradRow(x, dy, dx[:n])
		for i, v := range x {
			if want := gelu32(v); !relClose(y[i], want, 1e-6, 1e-7) {
				t.Fatalf("n=%d: gelu(%v) = %v, want %v", n, v, y[i], want)
			}
			if want := dx0[i] + gelu32Grad(v)*dy[i]; !relClose(dx[i], want, 1e-6, 1e-6) {
				t.Fatalf("n=%d: dx at %v = %v, want %v", n, v, dx[i], want)
			}
		}
		if y[n] != 42 || dx[n] != dx0[n] {
			t.Fatalf("n=%d: wrote past the end", n)
		}
	}
}

func TestVecGELUFloat64(t *testing.T) {
	var xs []float32
	for x := -12.0; x <= 12; x += 0.00137 {
		xs = append(xs, float32(x))
	}
	inf := float32(math.Inf(1))
	xs = append(xs, inf, -inf, 100, -100, 1e-20, -1e-20)
	y := make([]float32, len(xs))
	geluRow(xs, y)
	ones := make([]float32, len(xs))
	for i := range ones {
		ones[i] = 1
	}
	g := make([]float32, len(xs))
	geluGradRow(xs, ones, g)
	for i, xf := range xs {
		v := float64(xf)
		want := 0.5 * v * (1 + math.Erf(v/math.Sqrt2))
		if math.IsInf(v, 0) {
			if want := gelu32(xf); float64(y[i]) != float64(want) && !(math.IsNaN(float64(want)) && math.IsNaN(float64(y[i]))) {
				t.Fatalf("gelu(%v) = %v, want %v", v, y[i], want)
			}
			continue
		}
		if d := math.Abs(float64(y[i]) - want); d > 3e-7*math.Max(1, math.Abs(v)) {
			t.Fatalf("gelu(%v) = %v, want %v", v, y[i], want)
		}
		wantGrad := 0.5*(1+math.Erf(v/math.Sqrt2)) + v*math.Exp(-v*v/2)/math.Sqrt(2*math.Pi)
		if d := math.Abs(float64(g[i]) - wantGrad); d > 4e-7 {
			t.Fatalf("gelu'(%v) = %v, want %v", v, g[i], wantGrad)
		}
	}
}

func BenchmarkVecGELU(b *testing.B) {
	xs := make([]float32, 1<<16)
	for i := range xs {
		xs[i] = float32(i%2000)/250 - 4
	}
	ys := make([]float32, len(xs))
	b.Run("scalar", func(b *testing.B) {
		for range b.N {
			for i, v := range xs {
				ys[i] = gelu32(v)
			}
		}
	})
	b.Run("vec", func(b *testing.B) {
		for range b.N {
			geluRow(xs, ys)
		}
	})
}

func TestVecSoftmaxGradMatchesScalar(t *testing.T) {
	requireVec16(t)
	r := rand.New(rand.NewPCG(5, 6))
	for n := 0; n <= 70; n++ {
		x := vecInputs(n, r)
		y := make([]float32, n)
		if n > 0 {
			scaleRow(y, 1/expShiftSum(x, y, maxRow(x)))
		}
		dy := vecInputs(n, r)
		dx := vecInputs(n+1, r)
		want := append([]float32(nil), dx...)
		var s float64
		for i := range y {
			s += float64(dy[i]) * float64(y[i])
		}
		for i := range y {
			want[i] += float32(float64(y[i]) * (float64(dy[i]) - s))
		}
		softmaxGradRow(y, dy, dx[:n])
		for i := range dx {
			if !relClose(dx[i], want[i], 1e-5, 1e-6) {
				t.Fatalf("n=%d: dx[%d] = %v, want %v", n, i, dx[i], want[i])
			}
		}
	}
}

func TestVecReLUMatchesScalar(t *testing.T) {
	requireVec16(t)
	r := rand.New(rand.NewPCG(7, 8))
	for n := 0; n <= 70; n++ {
		x := vecInputs(n, r)
		if n > 2 {
			x[1], x[2] = 0, float32(math.NaN())
		}
		y := make([]float32, n+1)
		y[n] = 42
		reluRow(x, y[:n])
		dy := vecInputs(n, r)
		dx := vecInputs(n+1, r)
		dx0 := append([]float32(nil), dx...)
		reluGradRow(x, dy, dx[:n])
		for i, v := range x {
			if want := max(v, 0); y[i] != want && !(want != want && y[i] != y[i]) {
				t.Fatalf("n=%d: relu(%v) = %v", n, v, y[i])
			}
			want := dx0[i]
			if v > 0 {
				want += dy[i]
			}
			if dx[i] != want {
				t.Fatalf("n=%d: relu grad at %v: %v, want %v", n, v, dx[i], want)
			}
		}
		if y[n] != 42 || dx[n] != dx0[n] {
			t.Fatalf("n=%d: wrote past the end", n)
		}
	}
}

func TestVecBiasReLUAndMaskedCopy(t *testing.T) {
	requireVec16(t)
	r := rand.New(rand.NewPCG(9, 10))
	for n := 0; n <= 70; n++ {
		x := vecInputs(n, r)
		for _, relu := range []bool{false, true} {
			y := make([]float32, n+1)
			y[n] = 42
			biasReLURow(x, y[:n], 0.25, relu)
			for i, v := range x {
				want := v + 0.25
				if relu {
					want = max(want, 0)
				}
				if y[i] != want {
					t.Fatalf("n=%d relu=%v: %v -> %v, want %v", n, relu, v, y[i], want)
				}
			}
			if y[n] != 42 {
				t.Fatalf("n=%d: wrote past the end", n)
			}
		}
		m := vecInputs(n, r)
		if n > 1 {
			m[0], m[1] = 0, float32(math.NaN())
		}
		y := vecInputs(n+1, r)
		last := y[n]
		maskedCopyRow(m, x, y[:n])
		for i := range m {
			want := float32(0)
			if m[i] > 0 {
				want = x[i]
			}
			if y[i] != want {
				t.Fatalf("n=%d: masked copy %d = %v, want %v", n, i, y[i], want)
			}
		}
		if y[n] != last {
			t.Fatalf("n=%d: wrote past the end", n)
		}
	}
}

func TestVecLayerNormMatchesFloat64(t *testing.T) {
	requireVec16(t)
	r := rand.New(rand.NewPCG(11, 12))
	for n := 1; n <= 70; n++ {
		x, gamma, beta, dy := vecInputs(n, r), vecInputs(n, r), vecInputs(n, r), vecInputs(n, r)
		for i := range x {
			x[i] += 3 // an offset the mean must remove
		}
		var m, v float64
		for _, e := range x {
			m += float64(e)
		}
		m /= float64(n)
		for _, e := range x {
			v += (float64(e) - m) * (float64(e) - m)
		}
		is := 1 / math.Sqrt(v/float64(n)+1e-5)
		s, sq := lnStats16(&x[0], n)
		if math.Abs(float64(s)/float64(n)-m) > 1e-5 || math.Abs(float64(sq)-v) > 1e-4*(1+v) {
			t.Fatalf("n=%d: stats (%v, %v), want (%v, %v)", n, float64(s)/float64(n), sq, m, v)
		}
		y := make([]float32, n+1)
		y[n] = 42
		lnApply16(&x[0], &y[0], &gamma[0], &beta[0], n, float32(m), float32(is))
		var sg, sgx float64
		for i := range x {
			xh := (float64(x[i]) - m) * is
			if want := xh*float64(gamma[i]) + float64(beta[i]); math.Abs(float64(y[i])-want) > 1e-5*(1+math.Abs(want)) {
				t.Fatalf("n=%d: y[%d] = %v, want %v", n, i, y[i], want)
			}
			g := float64(dy[i]) * float64(gamma[i])
			sg += g
			sgx += g * xh
		}
		if y[n] != 42 {
			t.Fatalf("n=%d: wrote past the end", n)
		}
		dx := vecInputs(n+1, r)
		dx0 := append([]float32(nil), dx...)
		lnGrad16(&x[0], &dy[0], &gamma[0], &dx[0], n, float32(m), float32(is))
		for i := range x {
			xh := (float64(x[i]) - m) * is
			g := float64(dy[i]) * float64(gamma[i])
			want := float64(dx0[i]) + is*(g-sg/float64(n)-xh*sgx/float64(n))
			if math.Abs(float64(dx[i])-want) > 1e-4*(1+math.Abs(want)) {
				t.Fatalf("n=%d: dx[%d] = %v, want %v", n, i, dx[i], want)
			}
		}
		if dx[n] != dx0[n] {
			t.Fatalf("n=%d: wrote past the end", n)
		}
	}
}

func TestVecLayerNormParamGrad(t *testing.T) {
	requireVec16(t)
	r := rand.New(rand.NewPCG(13, 14))
	for n := 1; n <= 70; n++ {
		x, dy := vecInputs(n, r), vecInputs(n, r)
		dg, db := vecInputs(n+1, r), vecInputs(n+1, r)
		dg0, db0 := append([]float32(nil), dg...), append([]float32(nil), db...)
		lnParamGrad16(&x[0], &dy[0], &dg[0], &db[0], n, 0.3, 1.7)
		for i := range x {
			wg := float64(dg0[i]) + float64(dy[i])*(float64(x[i])-0.3)*1.7
			if math.Abs(float64(dg[i])-wg) > 1e-5*(1+math.Abs(wg)) || db[i] != db0[i]+dy[i] {
				t.Fatalf("n=%d i=%d: (%v, %v), want (%v, %v)", n, i, dg[i], db[i], wg, db0[i]+dy[i])
			}
		}
		if dg[n] != dg0[n] || db[n] != db0[n] {
			t.Fatalf("n=%d: wrote past the end", n)
		}
		lnParamGrad16(&x[0], &dy[0], nil, &db[0], n, 0.3, 1.7) // dgamma not wanted
		for i := range x {
			if db[i] != db0[i]+dy[i]+dy[i] {
				t.Fatalf("n=%d: dbeta alone %v", n, db[i])
			}
		}
	}
}

// smallGemm16 against a float64 triple loop: A read both ways (row-major
// and transposed through its strides), widths 1..64 (one and four
// vectors), strided B and C, beta 0 (C not read: NaN stays out) and not.
func TestSmallGemm16(t *testing.T) {
	requireVec16(t)
	r := rand.New(rand.NewPCG(15, 16))
	for _, n := range []int{1, 5, 16, 17, 33, 50, 64} {
		for _, k := range []int{1, 3, 16, 50} {
			for _, trans := range []bool{false, true} {
				for _, beta := range []float32{0, 0.5} {
					m, lda, ldb, ldc := 11, k+3, n+5, n+2
					sai, sat := lda, 1
					if trans {
						lda = m + 2
						sai, sat = 1, lda
					}
					a := vecInputs(max(m, k)*lda, r)
					b := vecInputs(k*ldb, r)
					c := vecInputs(m*ldc, r)
					if beta == 0 {
						for i := range c {
							c[i] = float32(math.NaN())
						}
					}
					want := make([]float64, len(c))
					for i := range m {
						for j := range n {
							var s float64
							for q := range k {
								s += float64(a[i*sai+q*sat]) * float64(b[q*ldb+j])
							}
							want[i*ldc+j] = 1.5 * s
							if beta != 0 {
								want[i*ldc+j] += float64(beta) * float64(c[i*ldc+j])
							}
						}
					}
					c0 := append([]float32(nil), c...)
					smallGemm16(m, n, k, 1.5, &a[0], sai, sat, &b[0], ldb, beta, &c[0], ldc)
					for i := range m {
						for j := range ldc {
							got := float64(c[i*ldc+j])
							if j >= n {
								if !(c[i*ldc+j] == c0[i*ldc+j] || math.IsNaN(got) && math.IsNaN(float64(c0[i*ldc+j]))) {
									t.Fatalf("n=%d k=%d: wrote column %d", n, k, j)
								}
								continue
							}
							if w := want[i*ldc+j]; math.Abs(got-w) > 1e-4*(1+math.Abs(w)) {
								t.Fatalf("n=%d k=%d trans=%v beta=%v: c[%d,%d] = %v, want %v", n, k, trans, beta, i, j, got, w)
							}
						}
					}
				}
			}
		}
	}
}

func TestVecAddRow(t *testing.T) {
	requireVec16(t)
	r := rand.New(rand.NewPCG(17, 18))
	for n := 1; n <= 70; n++ {
		a, b := vecInputs(n, r), vecInputs(n, r)
		y := make([]float32, n+1)
		y[n] = 42
		addRow16(&a[0], &b[0], &y[0], n)
		for i := range a {
			if y[i] != a[i]+b[i] {
				t.Fatalf("n=%d: y[%d] = %v, want %v", n, i, y[i], a[i]+b[i])
			}
		}
		if y[n] != 42 {
			t.Fatalf("n=%d: wrote past the end", n)
		}
		addRow16(&a[0], &b[0], &a[0], n) // y may alias a
		for i := range b {
			if a[i] != y[i] {
				t.Fatalf("n=%d: in place a[%d] = %v, want %v", n, i, a[i], y[i])
			}
		}
	}
}
