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
// a virtual machine). Up to w.n threads take the pieces, each first from
// its own share and then from the others' (spread), so a worker that
// starts late or is descheduled by another process does fewer pieces
// instead of holding up the loop, and one that has not started when the
// caller has run out of pieces is not waited for.
//
// A loop started from inside a piece (nested) runs inline when no worker
// is idle, so nesting never deadlocks.
type workers struct {
	n      int
	unhelp atomic.Int32 // running average of split loops the pool workers did none of (contended)
	last   atomic.Int64 // when the last such loop ended (nanoseconds since clock0)
}

func newWorkers(n int) *workers { return &workers{n: max(n, 1)} }

// unhelpFull is the running average of contended at which every recent
// split loop ran without any help from the pool workers; each loop moves
// the average an eighth of the way to unhelpFull (no help) or to 0 (a
// pool worker took an item).
const unhelpFull = 1 << 12

// contendedFor is how long contended keeps answering true after the last
// split loop that the workers did not help with. Small layers then run
// whole, so the workers get no items and park (no spinning thread takes
// time slices from the caller), and nothing new is learnt: once it has
// passed, the average starts again from zero and the next loops are
// split, on a quiet machine for good, on a busy one until enough of them
// go unhelped again (about six).
const contendedFor = 10 * time.Millisecond

// clock0 is the origin of workers.last.
var clock0 = time.Now()

// sinceClock0 is the clock of workers.last and contended (a variable so
// that tests can stop it: a test descheduled for contendedFor between
// two calls would otherwise see the average forgotten).
var sinceClock0 = func() time.Duration { return time.Since(clock0) }

// record adds one split loop's outcome to the running average: whether a
// pool worker it handed a task to took any of its items. Concurrent loops may lose each
// other's update; the average is a hint, never part of a result.
func (w *workers) record(helped bool) {
	s := w.unhelp.Load()
	s -= s / 8
	if !helped {
		s += unhelpFull / 8
		w.last.Store(int64(sinceClock0()))
	}
	w.unhelp.Store(s)
}

// contended reports whether most recent split loops ran without any help
// from the pool workers, the last of them less than contendedFor ago: the
// caller took every item because the workers had not started (other
// processes hold the cores, so the loop's tasks were taken back;
// gemm.ParallelShared). A layer split in parts then costs more than
// whole on the caller alone (each part copies or transforms input the
// other shares, and reads rows the other core wrote), so a lone image's
// small convolution stays whole while it reports true (splitsImage).
// Which cut runs never changes an output bit.
func (w *workers) contended() bool {
	if w.n < 2 || w.unhelp.Load() < unhelpFull/2 {
		return false
	}
	if sinceClock0()-time.Duration(w.last.Load()) < contendedFor {
		return true
	}
	w.unhelp.Store(0) // start learning again
	return false
}

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
	w.spread(pieces, threads, func(it *items, slot int) {
		for i, ok := it.next(); ok; i, ok = it.next() {
			it.guard(fn, n*i/pieces, n*(i+1)/pieces, slot)
		}
	})
}

// spread runs body once on each of threads threads (rank 0 the calling
// goroutine, ranks 1... pool workers: gemm.ParallelSlots), each with the
// slot it runs as and its view of items [0, n) to take from. Items are
// handed out by rank: rank r first takes, in order, the items of its own
// share [n·r/threads, n·(r+1)/threads), then what is left of the other
// shares. So on an undisturbed machine a loop of the same size is cut the
// same way on every call: at batch 1 the caller computes the top band of
// every layer and the worker the bottom one, each reading mostly rows it
// wrote itself in the layer before instead of rows the other core has in
// its cache (with one shared counter, which thread took which band changed
// from layer to layer). A worker that starts late or loses its core still
// holds nothing up: the others take its items, and a worker that has not
// started once the caller ran out of items is not waited for. A panic in
// body (or in a piece run by items.guard) is re-raised on the caller once
// every thread has finished.
func (w *workers) spread(n, threads int, body func(it *items, slot int)) {
	l := spreadLoops.Get().(*spreadLoop)
	l.start(n, threads, body)
	sent := gemm.ParallelSlots(threads, l.run)
	helped, v := l.helped.Load(), l.f.v
	l.body, l.f.v = nil, nil // ParallelSlots returns once no thread runs l.run: l is free again
	spreadLoops.Put(l)
	if sent > 0 { // a loop with no idle worker (nested, or beside another) says nothing about the cores
		w.record(helped)
	}
	if v != nil {
		panic(fmt.Sprintf("cpu kernel: %v", v))
	}
}

// spreadLoop is one spread call's state: the shares, each thread's view
// of them, the recovered panic and whether a pool worker helped. It is
// pooled (spreadLoops), with run bound once, so that a loop allocates
// nothing: a batch-1 forward runs a few dozen of them.
type spreadLoop struct {
	shares []share
	its    []rankItems
	f      fault
	helped atomic.Bool
	body   func(it *items, slot int)
	run    func(rank, slot int) // l.rank
}

var spreadLoops = sync.Pool{New: func() any {
	l := &spreadLoop{}
	l.run = l.rank
	return l
}}

// rankItems is one rank's items, 64 bytes from the next rank's: each
// thread counts what it took (items.took), and two counters on one cache
// line would pass it between the cores on every item.
type rankItems struct {
	items
	_ [64]byte
}

// start readies l for n items on threads threads.
func (l *spreadLoop) start(n, threads int, body func(it *items, slot int)) {
	if cap(l.shares) < threads {
		l.shares, l.its = make([]share, threads), make([]rankItems, threads)
	}
	l.shares, l.its = l.shares[:threads], l.its[:threads]
	cutShares(l.shares, n)
	for r := range l.its {
		l.its[r].items = items{shares: l.shares, rank: r, fault: &l.f}
	}
	l.helped.Store(false)
	l.body = body
}

// rank runs the body as thread rank.
func (l *spreadLoop) rank(rank, slot int) {
	it := &l.its[rank].items
	defer it.catch()
	l.body(it, slot)
	if slot != callerSlot && it.took > 0 {
		l.helped.Store(true)
	}
}

// fault is the panic a loop's threads recovered (the last one).
type fault struct {
	mu sync.Mutex
	v  any
}

// share is one rank's run of items: the next to take and the end. Each
// sits on its own cache line, so two threads taking from their own shares
// do not pass a line back and forth.
type share struct {
	next atomic.Int64
	end  int64
	_    [48]byte
}

// newShares cuts items [0, n) into threads contiguous shares.
func newShares(n, threads int) []share {
	shares := make([]share, threads)
	cutShares(shares, n)
	return shares
}

// cutShares cuts items [0, n) into len(shares) contiguous shares.
func cutShares(shares []share, n int) {
	for r := range shares {
		shares[r].next.Store(int64(n * r / len(shares)))
		shares[r].end = int64(n * (r + 1) / len(shares))
	}
}

// items is one thread's view of spread's shares.
type items struct {
	shares []share
	rank   int
	fault  *fault
	took   int // items this thread took
}

// guard runs fn(lo, hi, slot), recording a panic instead of ending the
// thread's loop, so the other pieces still run.
func (it *items) guard(fn func(lo, hi, slot int), lo, hi, slot int) {
	defer it.catch()
	fn(lo, hi, slot)
}

// catch records a panic of the deferring function for spread to re-raise.
func (it *items) catch() {
	if r := recover(); r != nil {
		it.fault.mu.Lock()
		it.fault.v = r
		it.fault.mu.Unlock()
	}
}

// next returns the thread's next item: from its own share first, then
// from the others' in rank order; false once every item is taken.
func (it *items) next() (int, bool) {
	if jitter.Load() {
		time.Sleep(time.Duration(rand.IntN(64)) * time.Microsecond)
	}
	for k := range it.shares {
		sh := &it.shares[(it.rank+k)%len(it.shares)]
		if sh.next.Load() >= sh.end {
			continue
		}
		if i := sh.next.Add(1) - 1; i < sh.end {
			it.took++
			return int(i), true
		}
	}
	return 0, false
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
