package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

var threads atomic.Int64

// SetThreads sets how many goroutines a call may use (n < 1 restores the
// default, runtime.GOMAXPROCS(0)).
func SetThreads(n int) {
	if n < 1 {
		n = 0
	}
	threads.Store(int64(n))
}

// Threads reports how many goroutines a call may use.
func Threads() int {
	if n := int(threads.Load()); n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// minOpsPerThread is the multiply-add count below which another thread
// costs more (waking a parked worker takes microseconds) than it saves.
const minOpsPerThread = 1 << 20

// threadsFor returns how many threads a problem of ops multiply-adds gets.
func threadsFor(ops int) int {
	t := Threads()
	if byWork := ops / minOpsPerThread; byWork < t {
		t = max(byWork, 1)
	}
	return t
}

// The workers are long-lived goroutines, so a call starts none. After a
// task a worker spins (yielding to other goroutines) for spinFor before it
// parks (or at once when it finds it lost its core for a while: lostCore):
// a parked worker's OS thread sleeps, and waking a sleeping CPU costs tens
// of microseconds on a virtual machine, as long as a mid-sized GEMM
// itself. Back-to-back calls, as in a network's layers, find the workers
// awake. The caller likewise spins while it waits, for spinFor at most,
// then parks until the last task wakes it (join).
const spinFor = 200 * time.Microsecond

// Worker states.
const (
	workerSpinning int32 = iota // idle, polling its slot
	workerParked                // idle, blocked on wake
	workerClaimed               // a dispatcher owns it; a task is in or on its way to slot
)

type worker struct {
	slot0 int // the worker's slot number (1, 2, ...; 0 is every caller's)
	state atomic.Int32
	slot  atomic.Pointer[task]
	wake  chan struct{}
}

type task struct {
	f    func(t, slot int)
	t    int
	join *join
}

// join is how a caller waits for its tasks: it spins on done for spinFor,
// then parks on a channel it publishes in wake, which the worker that
// brings done to zero signals. Short waits (the usual imbalance between
// chunks) cost no wake-up; long ones (a worker descheduled by another
// process, a long convolution chunk) cost no CPU.
type join struct {
	done atomic.Int32
	wake atomic.Pointer[chan struct{}]
}

// finish marks one task done and wakes a parked caller after the last.
func (j *join) finish() {
	if j.done.Add(-1) == 0 {
		if ch := j.wake.Load(); ch != nil {
			*ch <- struct{}{} // buffered: never blocks
		}
	}
}

// spinCheck is how many polls of a spin loop go between two yields to
// the Go scheduler (runtime.Gosched, a few hundred nanoseconds), and
// spinClock how many yields between two looks at the clock: time.Since on
// a start time reads only the monotonic clock, where time.Now reads two.
const (
	spinCheck = 64
	spinClock = 4
)

// lostCore is the gap between two looks at a spin loop's clock (normally
// a few microseconds apart) that means the thread lost its core to
// another thread for a while: the machine has more runnable threads than
// cores, and a spinning thread there takes time slices from the threads
// doing the work, its own caller's included, so it stops spinning.
const lostCore = 50 * time.Microsecond

// spinner paces one spin loop: it yields every spinCheck polls and ends
// the spin after spinFor, or as soon as the thread was descheduled
// (lostCore).
type spinner struct {
	start time.Time
	last  time.Duration // clock at the last look
	polls int
	since func(time.Time) time.Duration // time.Since; tests fake it
}

func newSpinner() spinner { return spinner{start: time.Now(), since: time.Since} }

// spin is called once per poll and reports whether to go on polling.
func (s *spinner) spin() bool {
	s.polls++
	if s.polls%spinCheck != 0 {
		return true
	}
	runtime.Gosched()
	if s.polls%(spinCheck*spinClock) != 0 {
		return true
	}
	now := s.since(s.start)
	if now-s.last > lostCore {
		return false
	}
	s.last = now
	return now < spinFor
}

// wait returns once every task is done.
func (j *join) wait() {
	sp := newSpinner()
	for j.done.Load() > 0 {
		if !sp.spin() {
			ch := make(chan struct{}, 1)
			j.wake.Store(&ch)
			if j.done.Load() > 0 {
				<-ch
			}
			return
		}
	}
}

var pool struct {
	mu      sync.Mutex
	workers atomic.Pointer[[]*worker]
}

// ensureWorkers grows the pool to at least n workers.
func ensureWorkers(n int) []*worker {
	if ws := pool.workers.Load(); ws != nil && len(*ws) >= n {
		return *ws
	}
	pool.mu.Lock()
	defer pool.mu.Unlock()
	var ws []*worker
	if p := pool.workers.Load(); p != nil {
		ws = *p
	}
	for len(ws) < n {
		w := &worker{slot0: len(ws) + 1, wake: make(chan struct{}, 1)}
		w.state.Store(workerClaimed) // not claimable until its loop starts
		go w.loop()
		ws = append(ws[:len(ws):len(ws)], w)
	}
	pool.workers.Store(&ws)
	return ws
}

func (w *worker) loop() {
	w.state.Store(workerSpinning)
	for {
		sp := newSpinner()
		for {
			if tk := w.slot.Load(); tk != nil {
				if !w.slot.CompareAndSwap(tk, nil) {
					continue // its caller took it back (revoke)
				}
				tk.f(tk.t, w.slot0)
				tk.join.finish()
				w.state.Store(workerSpinning)
				sp = newSpinner()
				continue
			}
			if !sp.spin() && w.state.CompareAndSwap(workerSpinning, workerParked) {
				<-w.wake // the dispatcher stored a task and moved us to claimed
				break
			}
		}
	}
}

// claim returns an idle worker, now owned by the caller, or nil.
func claim(ws []*worker) *worker {
	for _, w := range ws {
		if w.state.CompareAndSwap(workerSpinning, workerClaimed) {
			return w
		}
	}
	for _, w := range ws {
		if w.state.CompareAndSwap(workerParked, workerClaimed) {
			w.wake <- struct{}{}
			return w
		}
	}
	return nil
}

// parallel runs f(0..n-1) and waits: f(0) on the calling goroutine, the
// others on idle workers, or on the caller too when none is idle (other
// calls running at the same time hold them). It returns how many tasks it
// handed to workers (sent), whether or not they got to run them. With shared, the tasks take
// their work from a source they share until none is left, so once f(0)
// has returned a task that no worker has started yet has nothing left to
// do: the caller takes it back (revoke) instead of waiting for a worker
// that is descheduled or still waking up.
func parallel(n int, shared bool, f func(t, slot int)) int {
	if n <= 1 {
		f(0, CallerSlot)
		return 0
	}
	ws := ensureWorkers(n - 1)
	var j join
	var inline []int
	var sent [8]sentTask
	given := sent[:0]
	for t := 1; t < n; t++ {
		w := claim(ws)
		if w == nil {
			inline = append(inline, t)
			continue
		}
		j.done.Add(1)
		tk := &task{f: f, t: t, join: &j}
		w.slot.Store(tk)
		given = append(given, sentTask{w, tk})
	}
	f(0, CallerSlot)
	if shared {
		for _, g := range given {
			g.revoke(&j)
		}
	}
	for _, t := range inline {
		f(t, CallerSlot)
	}
	j.wait()
	return len(given)
}

// sentTask is a task in a worker's slot.
type sentTask struct {
	w  *worker
	tk *task
}

// revoke takes the task back if its worker has not started it: the worker
// is idle again (its state spinning: if it was parked, the wake-up already
// sent makes it look at its empty slot and park again) and the task
// counts as done.
func (g sentTask) revoke(j *join) {
	if g.w.slot.CompareAndSwap(g.tk, nil) {
		g.w.state.Store(workerSpinning)
		j.done.Add(-1)
	}
}

// Parallel runs f(0..n-1) and waits, on the calling goroutine and the
// GEMM's own pool of workers (the same as a threaded Sgemm uses).
// f must not panic (wrap it: a panic on a worker ends the process).
func Parallel(n int, f func(t int)) { parallel(n, false, func(t, _ int) { f(t) }) }

// ParallelShared is Parallel for tasks that take pieces of work from a
// source they share (a counter) until none is left: f(0) runs on the
// caller and, once it returns, tasks that no worker has started yet are
// dropped instead of waited for (with the shared work done they would do
// nothing), so a worker descheduled by another process, or still waking
// up, never holds up the call. Every parallel loop of ops/cpu
// (convolution tiles, elementwise kernels, reductions) uses it, so that a
// network's next layer finds the workers still spinning from the last one
// instead of waking a parked goroutine, which costs as much as a small
// layer itself. f must not panic.
func ParallelShared(n int, f func(t int)) { parallel(n, true, func(t, _ int) { f(t) }) }

// CallerSlot is the slot of the goroutine that calls ParallelSlots (and of
// tasks it runs itself); each pool worker has its own slot, 1, 2, ....
const CallerSlot = 0

// ParallelSlots is ParallelShared that also tells each task which slot
// runs it: CallerSlot for the calling goroutine, the worker's own number
// on a pool worker. A worker runs one task at a time and keeps its number
// for life, so per-slot state (a scratch buffer) used by a task on slot
// s ≥ 1 is only ever touched from that worker goroutine, which tends to
// stay on the same core between calls: its cache lines stay there instead
// of moving to whichever thread asks next. Every goroutine that is not a
// pool worker (and a worker that starts a nested call, for its own part)
// runs as CallerSlot, so state of slot 0 may be used by several
// goroutines at once and needs a lock.
//
// It returns how many tasks went to pool workers (the others ran on the
// caller because no worker was idle): a task sent but run by no worker
// (taken back) tells the caller that the worker did not get to it in time.
func ParallelSlots(n int, f func(t, slot int)) (sent int) { return parallel(n, true, f) }

// gridCost weighs a thread's block of rows×cols outputs: the products
// themselves, plus per-row and per-column costs (packing or reading an
// operand) in units of one output's multiply-adds over k.
type gridCost struct{ perRow, perCol int }

// grid splits an m×n output over t threads as tm×tn blocks, rows in units of
// mr and columns in units of nr, minimising the costliest block.
func grid(m, n, mr, nr, t int, w gridCost) (tm, tn int) {
	ru, cu := ceilDiv(m, mr), ceilDiv(n, nr)
	best := -1
	tm, tn = 1, 1
	for a := 1; a <= t; a++ {
		if t%a != 0 || a > ru || t/a > cu {
			continue
		}
		rows, cols := ceilDiv(ru, a)*mr, ceilDiv(cu, t/a)*nr
		cost := rows*cols + w.perRow*rows + w.perCol*cols
		if best < 0 || cost < best {
			best, tm, tn = cost, a, t/a
		}
	}
	return tm, tn
}

// splitWork picks the thread grid for an m×n×k product.
func splitWork(m, n, k, mr, nr int, w gridCost) (tm, tn int) {
	for t := threadsFor(m * n * k); t > 1; t-- {
		if tm, tn = grid(m, n, mr, nr, t, w); tm*tn == t {
			return tm, tn
		}
	}
	return 1, 1
}

// chunksPerThread is how many pieces each thread's share is cut into. The
// threads take pieces from a shared counter, so one that is descheduled
// (another process on its core) does less of the work instead of holding
// up the call.
const chunksPerThread = 4

// minOpsPerChunk keeps pieces large enough that their packing and start-up
// stay small next to their products.
const minOpsPerChunk = 1 << 21

// runChunks computes an m×n×k product with block(i0, i1, j0, j1) over
// disjoint output blocks, on threads chosen by splitWork. Each thread's
// block is cut further along the axis it was split on.
func runChunks(m, n, k, mr, nr int, w gridCost, block func(i0, i1, j0, j1 int)) {
	tm, tn := splitWork(m, n, k, mr, nr, w)
	nt := tm * tn
	cm, cn := tm, tn
	if c := min(chunksPerThread, m*n*k/(nt*minOpsPerChunk)); nt > 1 && c > 1 {
		if tn > 1 {
			cn = min(tn*c, ceilDiv(n, nr))
		} else {
			cm = min(tm*c, ceilDiv(m, mr))
		}
	}
	var next atomic.Int32
	parallel(nt, true, func(int, int) {
		for {
			c := int(next.Add(1)) - 1
			if c >= cm*cn {
				return
			}
			i0, i1 := span(m, mr, cm, c/cn)
			j0, j1 := span(n, nr, cn, c%cn)
			if i0 < i1 && j0 < j1 {
				block(i0, i1, j0, j1)
			}
		}
	})
}

// span returns part i of splitting units of size u covering total into p
// parts: [lo, hi) in elements.
func span(total, u, p, i int) (lo, hi int) {
	units := ceilDiv(total, u)
	lo = min(units*i/p*u, total)
	hi = min(units*(i+1)/p*u, total)
	return lo, hi
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
