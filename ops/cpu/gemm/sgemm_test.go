package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// refSgemm is the triple-loop reference, accumulated in float64.
func refSgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			v := float64(alpha) * s
			if beta != 0 {
				v += float64(beta) * float64(c[i*ldc+j])
			}
			c[i*ldc+j] = float32(v)
		}
	}
}

func randF32(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.Float64()*2 - 1)
	}
	return x
}

// fp32Kernels lists the fp32 kernels this machine can run, Go fallback first.
func fp32Kernels() []string {
	names := []string{"generic"}
	for _, n := range []string{"avx2+fma", "avx512"} {
		if _, ok := f32Impls[n]; ok {
			names = append(names, n)
		}
	}
	return names
}

type sgemmCase struct {
	ta, tb      bool
	m, n, k     int
	alpha, beta float32
	pad         int // extra leading-dimension elements
}

func runSgemmCase(t *testing.T, r *rand.Rand, tc sgemmCase) {
	t.Helper()
	ar, ac := tc.m, tc.k
	if tc.ta {
		ar, ac = ac, ar
	}
	br, bc := tc.k, tc.n
	if tc.tb {
		br, bc = bc, br
	}
	lda, ldb, ldc := ac+tc.pad, bc+tc.pad, tc.n+tc.pad
	a := randF32(r, max(ar*lda, 1))
	b := randF32(r, max(br*ldb, 1))
	c := randF32(r, max(tc.m*ldc, 1))
	if tc.beta == 0 {
		for i := range c {
			c[i] = float32(math.NaN()) // beta == 0 must not read C
		}
	}
	want := append([]float32(nil), c...)
	refSgemm(tc.ta, tc.tb, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want, ldc)
	Sgemm(tc.ta, tc.tb, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	for i := 0; i < tc.m; i++ {
		for j := 0; j < ldc && i*ldc+j < len(c); j++ {
			got, ref := c[i*ldc+j], want[i*ldc+j]
			if j >= tc.n { // padding must be untouched
				if math.Float32bits(got) != math.Float32bits(ref) {
					t.Fatalf("%+v: wrote padding C[%d,%d]", tc, i, j)
				}
				continue
			}
			tol := 1e-5*float64(tc.k+1) + 1e-4*math.Abs(float64(ref))
			if d := math.Abs(float64(got - ref)); !(d <= tol) {
				t.Fatalf("%+v: C[%d,%d] = %v, want %v", tc, i, j, got, ref)
			}
		}
	}
}

func TestSgemmShapes(t *testing.T) {
	sizes := []int{1, 3, 17, 31, 33, 65, 127, 129}
	for _, kern := range fp32Kernels() {
		t.Run(kern, func(t *testing.T) {
			defer useKernels(kern, "")()
			r := rand.New(rand.NewPCG(1, 2))
			for _, m := range sizes {
				for _, n := range sizes {
					for _, k := range []int{1, 17, 129, 300} {
						tc := sgemmCase{ta: (m+n)%2 == 0, tb: (m+k)%3 == 0, m: m, n: n, k: k, alpha: 1, beta: 0, pad: (m * n) % 5}
						runSgemmCase(t, r, tc)
					}
				}
			}
		})
	}
}

func TestSgemmTransAlphaBeta(t *testing.T) {
	for _, kern := range fp32Kernels() {
		t.Run(kern, func(t *testing.T) {
			defer useKernels(kern, "")()
			r := rand.New(rand.NewPCG(3, 4))
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					for _, ab := range [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}, {0, 0.5}, {2, -1}} {
						for _, s := range [][3]int{{33, 65, 31}, {129, 17, 520}, {14, 32, 64}, {3, 100, 7}} {
							runSgemmCase(t, r, sgemmCase{ta, tb, s[0], s[1], s[2], ab[0], ab[1], 3})
						}
					}
				}
			}
		})
	}
}

// TestSgemmBlocking crosses every cache block edge (K > kc, N > nc, M > mc)
// and a 4 KiB row stride, which takes the copied-A path.
func TestSgemmBlocking(t *testing.T) {
	for _, kern := range fp32Kernels() {
		t.Run(kern, func(t *testing.T) {
			defer useKernels(kern, "")()
			r := rand.New(rand.NewPCG(5, 6))
			im := f32Impls[kern]
			runSgemmCase(t, r, sgemmCase{false, false, im.mc + 5, im.nc + 40, im.kc*2 + 3, 1, 0.5, 0})
			runSgemmCase(t, r, sgemmCase{false, true, 40, 70, 1024, 1, 0, 0})
			runSgemmCase(t, r, sgemmCase{true, false, 200, 30, 1024, 1, 1, 0})
		})
	}
}

func TestSgemmThreads(t *testing.T) {
	defer SetThreads(0)
	r := rand.New(rand.NewPCG(7, 8))
	for _, th := range []int{1, 2, 3, 4} {
		SetThreads(th)
		for _, s := range [][3]int{{256, 256, 256}, {1, 700, 2000}, {3000, 5, 400}} {
			runSgemmCase(t, r, sgemmCase{false, false, s[0], s[1], s[2], 1, 0, 0})
		}
	}
}

func TestSgemmPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"short A": func() {
			Sgemm(false, false, 2, 2, 2, 1, make([]float32, 3), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		},
		"bad ldc": func() {
			Sgemm(false, false, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 4), 2, 0, make([]float32, 4), 1)
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
	Sgemm(false, false, 0, 5, 5, 1, nil, 5, make([]float32, 25), 5, 0, nil, 5) // empty is fine
}

// BenchmarkSgemm times square sizes and the neural-net shapes (m×n×k); the
// NT cases multiply by a weight matrix stored [n,k], as a linear layer does.
func BenchmarkSgemm(b *testing.B) {
	for _, s := range [][4]int{{256, 256, 256, 0}, {512, 512, 512, 0}, {1024, 1024, 1024, 0},
		{128, 256, 784, 0}, {128, 256, 784, 1}, {8192, 64, 64, 0}, {8192, 64, 64, 1}, {64, 49, 32, 0}, {64, 49, 32, 1}, {1, 1000, 512, 1}} {
		m, n, k, tb := s[0], s[1], s[2], s[3] == 1
		r := rand.New(rand.NewPCG(1, 1))
		a, bb, c := randF32(r, m*k), randF32(r, k*n), make([]float32, m*n)
		ldb, name := n, "NN"
		if tb {
			ldb, name = k, "NT"
		}
		b.Run(fmt.Sprintf("%s%dx%dx%d", name, m, n, k), func(b *testing.B) {
			for b.Loop() {
				Sgemm(false, tb, m, n, k, 1, a, k, bb, ldb, 0, c, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestConcurrentCalls runs fp32 and int8 products from several goroutines
// at once: they share the worker pool, and a call that finds no idle
// worker runs its pieces itself.
func TestConcurrentCalls(t *testing.T) {
	defer SetThreads(0)
	SetThreads(3)
	const m, n, k = 150, 130, 140
	r := rand.New(rand.NewPCG(21, 22))
	a, b := randF32(r, m*k), randF32(r, k*n)
	want := make([]float32, m*n)
	refSgemm(false, false, m, n, k, 1, a, k, b, n, 0, want, n)
	qa, qb := randS8(r, m*k), randS8(r, n*k)
	pb := PackS8(n, k, qb, k)
	qwant := refGemmS8(m, n, k, qa, k, qb, k)
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			c, qc := make([]float32, m*n), make([]int32, m*n)
			for it := 0; it < 20; it++ {
				Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
				GemmS8Packed(m, qa, k, pb, qc, n)
				for i := range c {
					if d := math.Abs(float64(c[i] - want[i])); d > 1e-3 || qc[i] != qwant[i] {
						errs <- fmt.Errorf("goroutine %d iteration %d: element %d differs", g, it, i)
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestSgemmBatch(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, kern := range fp32Kernels() {
		restore := useKernels(kern, "")
		for _, s := range [][4]int{{64, 49, 32, 12}, {1, 70, 40, 5}, {300, 300, 300, 2}, {7, 9, 3, 1}} {
			m, n, k, batch := s[0], s[1], s[2], s[3]
			for _, shareB := range []bool{false, true} {
				sa, sb, sc := m*k+3, k*n+1, m*n+2
				if shareB {
					sb = 0
				}
				a, b := randF32(r, batch*sa), randF32(r, max(batch*sb, k*n))
				c := randF32(r, batch*sc)
				want := append([]float32(nil), c...)
				for i := 0; i < batch; i++ {
					refSgemm(false, true, m, n, k, 0.5, a[i*sa:], k, b[i*sb:], k, 2, want[i*sc:], n)
				}
				SgemmBatch(batch, false, true, m, n, k, 0.5, a, k, sa, b, k, sb, 2, c, n, sc)
				for i := range c {
					if d := math.Abs(float64(c[i] - want[i])); d > 1e-4*float64(k)+1e-4*math.Abs(float64(want[i])) {
						t.Fatalf("%s %v shareB=%v: C[%d] = %v, want %v", kern, s, shareB, i, c[i], want[i])
					}
				}
			}
		}
		restore()
	}
	defer func() {
		if recover() == nil {
			t.Fatal("overlapping C outputs accepted")
		}
	}()
	SgemmBatch(2, false, false, 2, 2, 2, 1, make([]float32, 4), 2, 0, make([]float32, 4), 2, 0, 0, make([]float32, 8), 2, 1)
}

func BenchmarkSgemmBatch(b *testing.B) {
	const batch, m, n, k = 64, 64, 49, 32 // Swin-style windows: 64 tokens × 49 × head dim 32
	r := rand.New(rand.NewPCG(1, 1))
	a, w, c := randF32(r, batch*m*k), randF32(r, batch*k*n), make([]float32, batch*m*n)
	for b.Loop() {
		SgemmBatch(batch, false, true, m, n, k, 1, a, k, m*k, w, k, n*k, 0, c, n, m*n)
	}
	b.ReportMetric(2*float64(batch*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// SgemmSerial computes what Sgemm does (large sizes that Sgemm would
// split over threads included) and checks its arguments the same way.
func TestSgemmSerial(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, c := range []sgemmCase{
		{false, false, 300, 200, 150, 1, 0, 0}, {false, true, 64, 392, 288, 1, 0.5, 0},
		{true, false, 288, 392, 64, 1, 1, 0}, {true, true, 17, 33, 9, 0.5, 0, 0},
	} {
		lda, ldb := c.k, c.n
		if c.ta {
			lda = c.m
		}
		if c.tb {
			ldb = c.k
		}
		a, b, cc := randF32(r, c.m*c.k), randF32(r, c.k*c.n), randF32(r, c.m*c.n)
		want := append([]float32(nil), cc...)
		refSgemm(c.ta, c.tb, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, want, c.n)
		SgemmSerial(c.ta, c.tb, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, cc, c.n)
		for i := range want {
			if d := math.Abs(float64(cc[i] - want[i])); d > 1e-4*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("%+v: c[%d] = %v, want %v", c, i, cc[i], want[i])
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("short A did not panic")
		}
	}()
	SgemmSerial(false, false, 4, 4, 4, 1, make([]float32, 15), 4, make([]float32, 16), 4, 0, make([]float32, 16), 4)
}

// TestSgemmDotsThreads: a few rows against a transposed B that does not
// fit a core's L2 (resnet18's classifier at batch 1: 1 × 1000 × 512) take
// every thread although their multiply-adds alone would not (threadsFor:
// one), a small B keeps one, and the columns' split changes no bit: each
// output is the same dot product on 1, 2 and 3 threads (1003 columns: the
// dot kernel's last, single, columns too; with and without alpha and
// beta), within the float64 reference's tolerance.
func TestSgemmDotsThreads(t *testing.T) {
	defer SetThreads(0)
	SetThreads(2)
	if got := dotsThreads(1, 1000, 512); got != 2 {
		t.Errorf("1×1000×512 on 2 threads: %d threads, want 2", got)
	}
	if got := dotsThreads(1, 128, 256); got != 1 {
		t.Errorf("1×128×256 (128 KiB of B) on 2 threads: %d threads, want 1", got)
	}
	if got := dotsThreads(1, 100, 4096); got != 2 {
		t.Errorf("1×100×4096: %d threads, want 2 (one per 64 columns at most)", got)
	}
	r := rand.New(rand.NewPCG(31, 32))
	const n, k = 1003, 512
	for _, tc := range []struct {
		m           int
		alpha, beta float32
	}{{1, 1, 0}, {3, 1, 0}, {2, -0.5, 2}} {
		a, b, c0 := randF32(r, tc.m*k), randF32(r, n*k), randF32(r, tc.m*n)
		want := slices.Clone(c0)
		refSgemm(false, true, tc.m, n, k, tc.alpha, a, k, b, k, tc.beta, want, n)
		var first []float32
		for _, th := range []int{1, 2, 3} {
			SetThreads(th)
			c := slices.Clone(c0)
			Sgemm(false, true, tc.m, n, k, tc.alpha, a, k, b, k, tc.beta, c, n)
			for i := range c {
				if d := math.Abs(float64(c[i] - want[i])); d > 1e-3*(1+math.Abs(float64(want[i]))) {
					t.Fatalf("%+v, %d threads: element %d = %v, want %v", tc, th, i, c[i], want[i])
				}
			}
			if first == nil {
				first = c
			} else if !slices.EqualFunc(c, first, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) }) {
				t.Errorf("%+v: %d threads give other bits than one", tc, th)
			}
		}
	}
}

// TestSgemmDotsAllocates: a classifier's product at batch 1 (the dot
// path) allocates nothing on one thread: its job, counter and bound work
// method come from a pool (before: a closure and a buffer per part).
func TestSgemmDotsAllocates(t *testing.T) {
	if curF32.Load().dots == nil {
		t.Skip("no dot-product kernel: the product takes the packed GEMM")
	}
	defer SetThreads(0)
	SetThreads(1)
	a, b, c := make([]float32, 512), make([]float32, 1000*512), make([]float32, 1000)
	if n := testing.AllocsPerRun(50, func() { Sgemm(false, true, 1, 1000, 512, 1, a, 512, b, 512, 0, c, 1000) }); n != 0 {
		t.Errorf("%v allocations per call, want 0", n)
	}
}
