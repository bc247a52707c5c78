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

// workers splits loops into pieces and runs them on the GEMM's pool of
// long-lived goroutines (gemm.ParallelShared), the same that a threaded
// product uses: after a task those workers spin for a while before they
// park, so the next loop or convolution, a few microseconds later in a
// network's layers, finds them awake (handing a piece to a spinning worker
// costs well under a microsecond, waking a parked one tens to a hundred on
// a virtual machine). Up to w.n threads take the pieces from a shared
// counter, so a worker that starts late or is descheduled by another
// process does fewer pieces instead of holding up the loop, and one that
// has not started when the caller has run out of pieces is not waited for.
//
// A loop started from inside a piece (nested) runs inline when no worker
// is idle, so nesting never deadlocks.
type workers struct {
	n int
}

func newWorkers(n int) *workers { return &workers{n: max(n, 1)} }

// piecesPerThread is how many pieces For cuts a loop into per thread: with
// one piece per thread a worker that starts a few tens of microseconds late
// (or loses its core for a while) leaves the other threads idle at the end;
// with more, they take its share.
const piecesPerThread = 4

// For runs fn over [0, n) cut into pieces of at least grain items (at
// most piecesPerThread per thread; one piece, inline, when n < 2·grain),
// on up to w.n threads, and waits. A panic in a piece is re-raised on the
// caller. Which thread runs a piece depends on timing, so fn must compute
// each item on its own (no sum across a piece's items that depends on the
// piece's bounds): reductions use fixed runs (sumRuns) instead.
func (w *workers) For(n, grain int, fn func(lo, hi int)) {
	w.ForSlots(n, grain, func(lo, hi, _ int) { fn(lo, hi) })
}

// callerSlot is the slot of a goroutine outside the pool (the one that
// calls a kernel): buffers a kernel uses outside its parallel pieces come
// from its scratch.
const callerSlot = gemm.CallerSlot

// ForSlots is For that also passes each piece the slot of the thread that
// runs it (gemm.ParallelSlots): a piece on slot s ≥ 1 runs on pool worker
// s, so buffers it takes from the scratch of slot s (scratch.get) were
// last written on that worker's core.
func (w *workers) ForSlots(n, grain int, fn func(lo, hi, slot int)) {
	pieces := min(n/max(grain, 1), w.n*piecesPerThread)
	threads := min(w.n, pieces)
	if threads <= 1 {
		if n > 0 {
			fn(0, n, callerSlot)
		}
		return
	}
	var mu sync.Mutex
	var fault any
	run := func(i, slot int) {
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
		fn(n*i/pieces, n*(i+1)/pieces, slot)
	}
	var next atomic.Int64
	gemm.ParallelSlots(threads, func(_, slot int) {
		for i := int(next.Add(1)) - 1; i < pieces; i = int(next.Add(1)) - 1 {
			run(i, slot)
		}
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
