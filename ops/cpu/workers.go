package cpu

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// jitter, set by tests only, delays every chunk of a parallel loop by a
// random few microseconds, so chunks finish in a different order from run
// to run: a sum that depends on the order workers finish then changes its
// bits between runs instead of repeating the order it happens to get on
// an idle machine.
var jitter atomic.Bool

// workers splits loops into contiguous chunks and runs them on the GEMM's
// pool of long-lived goroutines (gemm.Parallel): between the products of a
// training step those workers are still spinning, so handing them a chunk
// costs well under a microsecond, where waking a parked goroutine costs
// tens (as long as an elementwise loop over a small model's activations).
// A loop started from inside a chunk (nested) runs its chunks inline when
// no worker is idle, so nesting never deadlocks.
type workers struct {
	n int
}

func newWorkers(n int) *workers { return &workers{n: max(n, 1)} }

// For runs fn over [0, n) split into at most w.n chunks of at least grain
// items, and waits. A panic in a chunk is re-raised on the caller. The
// chunk boundaries depend on n, grain and w.n only, never on which worker
// runs a chunk or when.
func (w *workers) For(n, grain int, fn func(lo, hi int)) {
	chunks := min(w.n, (n+max(grain, 1)-1)/max(grain, 1))
	if chunks <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var mu sync.Mutex
	var fault any
	gemm.Parallel(chunks, func(i int) {
		defer func() {
			if r := recover(); r != nil {
				mu.Lock()
				fault = r
				mu.Unlock()
			}
		}()
		if jitter.Load() {
			time.Sleep(time.Duration(rand.IntN(64)) * time.Microsecond)
		}
		fn(n*i/chunks, n*(i+1)/chunks)
	})
	if fault != nil {
		panic(fmt.Sprintf("cpu kernel: %v", fault))
	}
}

// sumRuns is how many contiguous runs a reduction over items (image tiles,
// rows) is cut into: each run sums its items in order into its own
// partial, and the partials are added in run order once every run has
// finished. It is a constant, not the thread count, so the run boundaries,
// and with them every float addition, are the same on any number of
// workers and whichever worker finishes first.
const sumRuns = 16

// runSpan returns run r of cutting [0, n) into runs contiguous runs.
func runSpan(n, runs, r int) (lo, hi int) { return n * r / runs, n * (r + 1) / runs }
