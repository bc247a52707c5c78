package cuda

import (
	"math/rand/v2"
	"time"

	"github.com/qpipe/qpipe/ops"
)

// TimeGemm times the fp32 GEMM kernel alone: an n×n by n×n product on
// operands that stay on the device, once to warm up and then reps times,
// each waited for. It returns the time of each timed run.
func (b *Backend) TimeGemm(n, reps int) ([]time.Duration, error) {
	host := make([]float32, n*n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range host {
		host[i] = r.Float32() - 0.5
	}
	o := b.begin("gemm timing")
	a, bm, c := o.scratch("A", n*n), o.scratch("B", n*n), o.scratch("C", n*n)
	for _, p := range []Ptr{a, bm} {
		if o.err == nil {
			o.fail(b.dev.CopyIn(p, f32p(host), 4*n*n))
		}
	}
	p := ops.GemmParams{M: n, N: n, K: n, Batch: 1, Alpha: 1}
	o.gemm(p, a, bm, c)
	if o.err == nil {
		o.fail(b.dev.Sync())
	}
	var times []time.Duration
	for range reps {
		if o.err != nil {
			break
		}
		t0 := time.Now()
		o.gemm(p, a, bm, c)
		o.fail(b.dev.Sync())
		times = append(times, time.Since(t0))
	}
	return times, o.done()
}
