package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"
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

// pool is a set of long-lived workers, so that a call starts no goroutines.
var pool struct {
	mu      sync.Mutex
	workers int
	tasks   chan func()
}

// parallel runs f(0..n-1), f(0) on the calling goroutine, and waits.
func parallel(n int, f func(t int)) {
	if n <= 1 {
		f(0)
		return
	}
	pool.mu.Lock()
	if pool.tasks == nil {
		pool.tasks = make(chan func(), 64)
	}
	for pool.workers < n-1 {
		pool.workers++
		go func(tasks <-chan func()) {
			for task := range tasks {
				task()
			}
		}(pool.tasks)
	}
	pool.mu.Unlock()
	var wg sync.WaitGroup
	wg.Add(n - 1)
	for t := 1; t < n; t++ {
		pool.tasks <- func() { f(t); wg.Done() }
	}
	f(0)
	wg.Wait()
}

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

// span returns part i of splitting units of size u covering total into p
// parts: [lo, hi) in elements.
func span(total, u, p, i int) (lo, hi int) {
	units := ceilDiv(total, u)
	lo = min(units*i/p*u, total)
	hi = min(units*(i+1)/p*u, total)
	return lo, hi
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
