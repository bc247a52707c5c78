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

// workers splits loops into contiguous chunks and runs them on two kinds
// of long-lived goroutines:
//
//   - loops over elements (grain > 1: activations, gradients, rows) run on
//     the GEMM's pool (gemm.Parallel). Between the products of a training
//     step those workers are still spinning, so handing them a chunk costs
//     well under a microsecond, where waking a parked goroutine costs tens,
//     as long as an elementwise loop over a small model's activations.
//   - loops over heavy items, one per thread (grain 1: convolution tiles,
//     attention heads), run on the pool's own goroutines, which park when
//     idle instead of spinning after their long chunk.
//
// A loop started from inside a chunk (nested) runs its chunks inline when
// no worker is idle, so nesting never deadlocks.
type workers struct {
	n    int
	jobs chan func()
}

func newWorkers(n int) *workers {
	w := &workers{n: max(n, 1), jobs: make(chan func())}
	for range w.n - 1 {
		go func() {
			for job := range w.jobs {
				job()
			}
		}()
	}
	return w
}

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
	run := func(i int) {
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
	}
	if grain > 1 {
		gemm.Parallel(chunks, run)
	} else {
		w.handOff(chunks, run)
	}
	if fault != nil {
		panic(fmt.Sprintf("cpu kernel: %v", fault))
	}
}

// handOff runs run(0..chunks-1) on the pool's parked goroutines (inline
// where none is free) and waits.
func (w *workers) handOff(chunks int, run func(i int)) {
	var wg sync.WaitGroup
	wg.Add(chunks - 1)
	var inline []int
	for i := 1; i < chunks; i++ {
		select {
		case w.jobs <- func() { defer wg.Done(); run(i) }:
		default:
			inline = append(inline, i)
		}
	}
	run(0)
	for _, i := range inline {
		run(i)
		wg.Done()
	}
	wg.Wait()
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
