package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func refGemmS8(m, n, k int, a []int8, lda int, b []int8, ldb int) []int32 {
	c := make([]int32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s int32
			for p := 0; p < k; p++ {
				s += int32(a[i*lda+p]) * int32(b[j*ldb+p])
			}
			c[i*n+j] = s
		}
	}
	return c
}

// randS8 fills n bytes; every fourth draw is an extreme (-128 or 127) so the
// +128 offset and int16 paths see their worst cases.
func randS8(r *rand.Rand, n int) []int8 {
	x := make([]int8, n)
	for i := range x {
		switch r.IntN(4) {
		case 0:
			x[i] = int8(-128 + 255*r.IntN(2))
		default:
			x[i] = int8(r.IntN(256) - 128)
		}
	}
	return x
}

func s8Kernels() []string {
	names := []string{"generic"}
	for _, n := range []string{"avx2", "vnni"} {
		if _, ok := s8Impls[n]; ok {
			names = append(names, n)
		}
	}
	return names
}

func TestGemmS8Exact(t *testing.T) {
	sizes := []int{1, 3, 17, 31, 33, 65, 127, 129}
	for _, kern := range s8Kernels() {
		t.Run(kern, func(t *testing.T) {
			defer useKernels("", kern)()
			r := rand.New(rand.NewPCG(11, 12))
			for _, m := range sizes {
				for _, n := range sizes {
					for _, k := range []int{0, 1, 4, 17, 64, 129, 300} {
						pad := (m + n + k) % 3
						lda, ldb, ldc := k+pad, k+2*pad, n+pad
						a, b := randS8(r, m*max(lda, 1)), randS8(r, n*max(ldb, 1))
						c := make([]int32, m*ldc)
						GemmS8S8(m, n, k, a, max(lda, 1), b, max(ldb, 1), c, ldc)
						want := refGemmS8(m, n, k, a, max(lda, 1), b, max(ldb, 1))
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								if c[i*ldc+j] != want[i*n+j] {
									t.Fatalf("m=%d n=%d k=%d: C[%d,%d] = %d, want %d", m, n, k, i, j, c[i*ldc+j], want[i*n+j])
								}
							}
						}
					}
				}
			}
		})
	}
}

// TestGemmS8Extremes pins the saturation corner: every product is
// (-128)*(-128) or (-128)*127, over a k deep enough to need all 32 bits.
func TestGemmS8Extremes(t *testing.T) {
	for _, kern := range s8Kernels() {
		t.Run(kern, func(t *testing.T) {
			defer useKernels("", kern)()
			for _, bv := range []int8{-128, 127} {
				m, n, k := 5, 40, 4096+3
				a, b := make([]int8, m*k), make([]int8, n*k)
				for i := range a {
					a[i] = -128
				}
				for i := range b {
					b[i] = bv
				}
				c := make([]int32, m*n)
				GemmS8S8(m, n, k, a, k, b, k, c, n)
				want := int32(k) * -128 * int32(bv)
				for i, v := range c {
					if v != want {
						t.Fatalf("b=%d: C[%d] = %d, want %d", bv, i, v, want)
					}
				}
			}
		})
	}
}

// TestGemmS8Strides covers the copied-A path (a 4 KiB row stride) and
// several thread counts.
func TestGemmS8Strides(t *testing.T) {
	defer SetThreads(0)
	for _, kern := range s8Kernels() {
		t.Run(kern, func(t *testing.T) {
			defer useKernels("", kern)()
			r := rand.New(rand.NewPCG(13, 14))
			for th := 1; th <= 3; th++ {
				SetThreads(th)
				for _, s := range [][4]int{{70, 50, 1000, 4096}, {300, 200, 256, 256}, {2, 700, 512, 512}, {500, 3, 64, 64}} {
					m, n, k, lda := s[0], s[1], s[2], s[3]
					a, b := randS8(r, m*lda), randS8(r, n*k)
					c := make([]int32, m*n)
					GemmS8S8(m, n, k, a, lda, b, k, c, n)
					want := refGemmS8(m, n, k, a, lda, b, k)
					for i := range c {
						if c[i] != want[i] {
							t.Fatalf("%v threads=%d: C[%d] = %d, want %d", s, th, i, c[i], want[i])
						}
					}
				}
			}
		})
	}
}

func refRequant(acc []int32, n int, ep Epilogue) ([]int8, []float32) {
	q, f := make([]int8, len(acc)), make([]float32, len(acc))
	for i, x := range acc {
		j := i % n
		var bias int32
		if ep.Bias != nil {
			bias = ep.Bias[j]
		}
		v := float32(x+bias) * ep.Scale[j]
		d := v
		if ep.ReLU {
			d = max(d, 0)
		}
		hi := float32(127)
		if ep.Hi > 0 {
			d = min(d, ep.Hi)
			hi = min(hi, ep.Hi)
		}
		f[i] = d
		lo := float32(-128)
		if ep.ReLU {
			lo = 0
		}
		q[i] = int8(math.RoundToEven(float64(min(max(v, lo), hi))))
	}
	return q, f
}

func TestGemmS8Epilogues(t *testing.T) {
	for _, kern := range s8Kernels() {
		t.Run(kern, func(t *testing.T) {
			defer useKernels("", kern)()
			r := rand.New(rand.NewPCG(15, 16))
			for _, s := range [][3]int{{1, 1, 8}, {17, 33, 64}, {31, 65, 129}, {129, 31, 200}, {14, 32, 12}} {
				m, n, k := s[0], s[1], s[2]
				a, b := randS8(r, m*k), randS8(r, n*k)
				pb := PackS8(n, k, b, k)
				acc := make([]int32, m*n)
				GemmS8Packed(m, a, k, pb, acc, n)
				if want := refGemmS8(m, n, k, a, k, b, k); fmt.Sprint(acc) != fmt.Sprint(want) {
					t.Fatalf("%v: packed int32 differs", s)
				}
				for _, relu := range []bool{false, true} {
					for _, withBias := range []bool{false, true} {
						ep := Epilogue{Scale: make([]float32, n), ReLU: relu}
						if withBias && relu {
							ep.Hi = 37.5 // a fused clip (ReLU6 in these units)
						}
						for j := range ep.Scale {
							// Large enough to saturate some outputs, small enough for others to land between.
							ep.Scale[j] = float32(r.Float64()*4+0.01) / float32(64*k)
						}
						if withBias {
							ep.Bias = make([]int32, n)
							for j := range ep.Bias {
								ep.Bias[j] = int32(r.IntN(20000) - 10000)
							}
						}
						wq, wf := refRequant(acc, n, ep)
						q := make([]int8, m*n)
						f := make([]float32, m*n)
						GemmS8PackedRequant(m, a, k, pb, ep, q, n)
						GemmS8PackedDequant(m, a, k, pb, ep, f, n)
						for i := range q {
							if q[i] != wq[i] {
								t.Fatalf("%v relu=%v bias=%v: requant[%d] = %d, want %d (acc %d)", s, relu, withBias, i, q[i], wq[i], acc[i])
							}
							if f[i] != wf[i] {
								t.Fatalf("%v relu=%v bias=%v: dequant[%d] = %v, want %v", s, relu, withBias, i, f[i], wf[i])
							}
						}
					}
				}
			}
		})
	}
}

func TestPackS8ColSums(t *testing.T) {
	b := []int8{1, 2, 3, -4, 5, 6}
	pb := PackS8(2, 3, b, 3)
	if got := fmt.Sprint(pb.ColSums()); got != "[6 7]" {
		t.Fatalf("ColSums = %s", got)
	}
}

func BenchmarkGemmS8(b *testing.B) {
	for _, s := range [][3]int{{256, 256, 256}, {512, 512, 512}, {1024, 1024, 1024}, {128, 256, 784}, {8192, 64, 64}, {64, 49, 32}} {
		m, n, k := s[0], s[1], s[2]
		r := rand.New(rand.NewPCG(1, 1))
		a, w, c := randS8(r, m*k), randS8(r, n*k), make([]int32, m*n)
		pb := PackS8(n, k, w, k)
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			for b.Loop() {
				GemmS8Packed(m, a, k, pb, c, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
		})
	}
}

func BenchmarkPackS8(b *testing.B) {
	n, k := 1024, 1024
	w := randS8(rand.New(rand.NewPCG(1, 1)), n*k)
	var pb PackedS8
	for b.Loop() {
		pb.pack(curS8.Load(), n, k, w, k)
	}
	b.ReportMetric(float64(n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gbyte/s")
}

// TestRequantEpilogueLayer runs a quantized linear layer end to end and
// checks it against the float layer it approximates.
func TestRequantEpilogueLayer(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	m, n, k := 9, 40, 96
	x, w, bias := make([]float32, m*k), make([]float32, n*k), make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for i := range w {
		w[i] = float32(r.NormFloat64()) * 0.1
	}
	for j := range bias {
		bias[j] = float32(r.NormFloat64()) * 0.5
	}
	want := make([]float32, m*n)
	Sgemm(false, true, m, n, k, 1, x, k, w, k, 0, want, n)
	var amax float32
	for i := range want {
		want[i] = max(want[i]+bias[i%n], 0)
		amax = max(amax, want[i])
	}
	quant := func(v []float32, s float32) []int8 {
		q := make([]int8, len(v))
		for i, f := range v {
			q[i] = int8(max(min(math.RoundToEven(float64(f/s)), 127), -127))
		}
		return q
	}
	var xmax float32
	for _, v := range x {
		xmax = max(xmax, float32(math.Abs(float64(v))))
	}
	sa, so, sw := xmax/127, amax/127, make([]float32, n)
	qw := make([]int8, n*k)
	for j := 0; j < n; j++ {
		var wmax float32
		for _, v := range w[j*k : j*k+k] {
			wmax = max(wmax, float32(math.Abs(float64(v))))
		}
		sw[j] = wmax / 127
		copy(qw[j*k:j*k+k], quant(w[j*k:j*k+k], sw[j]))
	}
	pb := PackS8(n, k, qw, k)
	qy := make([]int8, m*n)
	GemmS8PackedRequant(m, quant(x, sa), k, pb, RequantEpilogue(sa, sw, so, bias, true), qy, n)
	fy := make([]float32, m*n)
	GemmS8PackedDequant(m, quant(x, sa), k, pb, DequantEpilogue(sa, sw, bias, true), fy, n)
	for i := range want {
		if d := math.Abs(float64(float32(qy[i])*so - want[i])); d > 0.05*float64(amax) {
			t.Fatalf("requant y[%d] = %v, float layer %v", i, float32(qy[i])*so, want[i])
		}
		if d := math.Abs(float64(fy[i] - want[i])); d > 0.05*float64(amax) {
			t.Fatalf("dequant y[%d] = %v, float layer %v", i, fy[i], want[i])
		}
		if qy[i] < 0 || fy[i] < 0 {
			t.Fatalf("ReLU not applied at %d", i)
		}
	}
}
