package bench

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

func init() {
	Register("gemm", "fp32 Sgemm C = A*B on square sizes (default 256,512,1024), GFLOP/s", benchSgemm)
	Register("gemm-int8", "int8 GEMM with int32 output, pre-packed B, square sizes, GOP/s", benchGemmS8)
}

var defaultGemmSizes = []int{256, 512, 1024}

// measure calls f until opts.Seconds (default 1s) have passed, in windows of
// about 1/10 of that, and returns the best and median rate of ops per
// second over the windows. The best window is the figure least disturbed
// by other load on the machine.
func measure(opts Options, ops float64, f func()) (best, median float64) {
	total := opts.Seconds
	if total <= 0 {
		total = 1
	}
	f() // warm up: page in buffers, start the workers
	window := time.Duration(total / 10 * float64(time.Second))
	var rates []float64
	for start := time.Now(); time.Since(start).Seconds() < total || len(rates) < 3; {
		n, t0 := 0, time.Now()
		for n == 0 || time.Since(t0) < window {
			f()
			n++
		}
		rates = append(rates, ops*float64(n)/time.Since(t0).Seconds())
	}
	sort.Float64s(rates)
	return rates[len(rates)-1], rates[len(rates)/2]
}

func gemmSetup(opts Options) (sizes []int, restore func()) {
	sizes = opts.Sizes
	if len(sizes) == 0 {
		sizes = defaultGemmSizes
	}
	prev := gemm.Threads()
	if opts.Threads > 0 {
		gemm.SetThreads(opts.Threads)
	}
	return sizes, func() { gemm.SetThreads(prev) }
}

func benchSgemm(opts Options, emit func(Result)) error {
	sizes, restore := gemmSetup(opts)
	defer restore()
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range sizes {
		if n < 1 {
			return fmt.Errorf("gemm: size %d must be positive", n)
		}
		a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
		for i := range a {
			a[i], b[i] = r.Float32()*2-1, r.Float32()*2-1
		}
		best, med := measure(opts, 2*float64(n)*float64(n)*float64(n), func() {
			gemm.Sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
		})
		emit(Result{Case: fmt.Sprint(n), Value: best / 1e9, Unit: "GFLOP/s", Extra: map[string]any{
			"kernel": gemm.Kernel(), "threads": gemm.Threads(), "median": round1(med / 1e9), "m": n, "n": n, "k": n}})
	}
	return nil
}

func benchGemmS8(opts Options, emit func(Result)) error {
	sizes, restore := gemmSetup(opts)
	defer restore()
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range sizes {
		if n < 1 {
			return fmt.Errorf("gemm-int8: size %d must be positive", n)
		}
		a, b, c := make([]int8, n*n), make([]int8, n*n), make([]int32, n*n)
		for i := range a {
			a[i], b[i] = int8(r.IntN(256)-128), int8(r.IntN(256)-128)
		}
		pb := gemm.PackS8(n, n, b, n)
		best, med := measure(opts, 2*float64(n)*float64(n)*float64(n), func() {
			gemm.GemmS8Packed(n, a, n, pb, c, n)
		})
		emit(Result{Case: fmt.Sprint(n), Value: best / 1e9, Unit: "GOP/s", Extra: map[string]any{
			"kernel": gemm.Kernel(), "threads": gemm.Threads(), "median": round1(med / 1e9), "m": n, "n": n, "k": n}})
	}
	return nil
}

func round1(x float64) float64 { return float64(int64(x*10+0.5)) / 10 }
