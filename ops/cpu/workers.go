package cpu

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// jitter, set by tests only, delays every chunk of a parallel loop by a
// random few microseconds, so chunks finish in a different order from run
// to run: a sum that depends on the order workers finish then changes its
// bits between runs instead of repeating the order it happens to get on
// an idle machine.
var jitter atomic.Bool

// workers is a fixed pool of long-lived goroutines that split loops into
// contiguous chunks. A loop started from inside a chunk (nested) runs its
// chunks inline when no worker is idle, so nesting never deadlocks.
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
// items, and waits. A panic in a chunk is re-raised on the caller.
func (w *workers) For(n, grain int, fn func(lo, hi int)) {
	chunks := min(w.n, (n+max(grain, 1)-1)/max(grain, 1))
	if chunks <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var fault any
	run := func(lo, hi int) {
		defer func() {
			if r := recover(); r != nil {
				mu.Lock()
				fault = r
				mu.Unlock()
			}
			wg.Done()
		}()
		if jitter.Load() {
			time.Sleep(time.Duration(rand.IntN(64)) * time.Microsecond)
		}
		fn(lo, hi)
	}
	wg.Add(chunks)
	var inline [][2]int
	for i := 1; i < chunks; i++ {
		lo, hi := n*i/chunks, n*(i+1)/chunks
		select {
		case w.jobs <- func() { run(lo, hi) }:
		default:
			inline = append(inline, [2]int{lo, hi})
		}
	}
	run(0, n/chunks)
	for _, r := range inline {
		run(r[0], r[1])
	}
	wg.Wait()
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
