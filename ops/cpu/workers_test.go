package cpu

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestForRunsEveryItemOnce: on 1 to 4 threads, with pieces delayed at
// random, every item of [0, n) is passed to fn exactly once, in pieces of
// at least grain items (but the last), whatever n and grain.
func TestForRunsEveryItemOnce(t *testing.T) {
	jitter.Store(true)
	defer jitter.Store(false)
	for threads := 1; threads <= 4; threads++ {
		w := newWorkers(threads)
		for _, n := range []int{0, 1, 2, 3, 7, 64, 1000, 1 << 15} {
			for _, grain := range []int{0, 1, 3, 16, 1 << 14} {
				seen := make([]atomic.Int32, n)
				var small atomic.Int32
				w.For(n, grain, func(lo, hi int) {
					if hi-lo < max(grain, 1) && hi != n {
						small.Add(1)
					}
					for i := lo; i < hi; i++ {
						seen[i].Add(1)
					}
				})
				for i := range seen {
					if c := seen[i].Load(); c != 1 {
						t.Fatalf("threads %d, n %d, grain %d: item %d ran %d times", threads, n, grain, i, c)
					}
				}
				if s := small.Load(); s > 0 {
					t.Fatalf("threads %d, n %d, grain %d: %d pieces shorter than the grain", threads, n, grain, s)
				}
			}
		}
	}
}

// TestForTakesTheShareOfAStalledThread: while one piece is stalled (its
// thread descheduled, as by another process on the core), the other thread
// runs every other piece of the loop, and the stalled piece holds at most
// a quarter of the items (a split into one fixed share per thread would
// leave half the loop waiting on the stalled thread).
func TestForTakesTheShareOfAStalledThread(t *testing.T) {
	w := newWorkers(2)
	for range 20 {
		const n = 64
		var done, stalls, held atomic.Int32
		var timedOut atomic.Bool
		w.For(n, 1, func(lo, hi int) {
			if stalls.Add(1) == 1 { // the first piece to start stalls until the rest is done
				held.Store(int32(hi - lo))
				deadline := time.Now().Add(5 * time.Second)
				for done.Load() < int32(n-(hi-lo)) {
					if time.Now().After(deadline) {
						timedOut.Store(true)
						break
					}
					time.Sleep(50 * time.Microsecond)
				}
			}
			done.Add(int32(hi - lo))
		})
		if timedOut.Load() {
			t.Fatalf("the other thread did not run the stalled thread's share (%d of %d items done)", done.Load(), n)
		}
		if done.Load() != n {
			t.Fatalf("%d of %d items done", done.Load(), n)
		}
		if h := held.Load(); h > n/4 {
			t.Fatalf("the stalled piece held %d of %d items", h, n)
		}
	}
}

// TestForNestedAndConcurrent: loops started from inside pieces, and from
// more goroutines at once than there are workers, all finish with every
// item run once (a nested loop runs inline when no worker is free).
func TestForNestedAndConcurrent(t *testing.T) {
	jitter.Store(true)
	defer jitter.Store(false)
	w := newWorkers(3)
	var wg sync.WaitGroup
	fail := make(chan string, 8)
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			const outer, inner = 12, 40
			var seen [outer * inner]atomic.Int32
			w.For(outer, 1, func(lo, hi int) {
				for o := lo; o < hi; o++ {
					w.For(inner, 4, func(l, h int) {
						for i := l; i < h; i++ {
							seen[o*inner+i].Add(1)
						}
					})
				}
			})
			for i := range seen {
				if c := seen[i].Load(); c != 1 {
					fail <- fmt.Sprintf("goroutine %d: item %d ran %d times", g, i, c)
					return
				}
			}
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(time.Minute):
		t.Fatal("nested loops did not finish in a minute (deadlock)")
	}
	close(fail)
	for msg := range fail {
		t.Error(msg)
	}
}

// TestForReraisesAPanic: a panic in a piece (on whichever thread) comes
// back on the caller once every piece has finished.
func TestForReraisesAPanic(t *testing.T) {
	w := newWorkers(2)
	var ran, lost atomic.Int32
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), "item 37") {
			t.Fatalf("recovered %v, want the piece's panic", r)
		}
		if ran.Load()+lost.Load() != 100 {
			t.Fatalf("%d of the %d items outside the failing piece ran before the panic came back", ran.Load(), 100-lost.Load())
		}
	}()
	w.For(100, 1, func(lo, hi int) {
		if lo <= 37 && 37 < hi {
			lost.Store(int32(hi - lo))
			panic("item 37")
		}
		ran.Add(int32(hi - lo))
	})
}

// TestItemsOwnShareFirst: a thread takes the items of its own share in
// order, then what is left of the others' shares in rank order after its
// own, and never an item another thread took.
func TestItemsOwnShareFirst(t *testing.T) {
	shares := newShares(10, 3) // [0,3) [3,6) [6,10)
	view := func(rank int) *items { return &items{shares: shares, rank: rank} }
	take := func(it *items, k int) []int {
		var got []int
		for range k {
			i, ok := it.next()
			if !ok {
				break
			}
			got = append(got, i)
		}
		return got
	}
	r0, r1, r2 := view(0), view(1), view(2)
	for _, c := range []struct {
		it   *items
		k    int
		want []int
	}{
		{r2, 2, []int{6, 7}},
		{r0, 1, []int{0}},
		{r1, 20, []int{3, 4, 5, 8, 9, 1, 2}},
		{r0, 1, nil},
		{r2, 1, nil},
	} {
		if got := take(c.it, c.k); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Fatalf("rank %d took %v, want %v", c.it.rank, got, c.want)
		}
	}
}

// TestSpreadKeepsShares: on two threads with items slow enough that both
// threads start, the caller (rank 0) takes the first item of the first
// half and the worker the first of the second half: a loop of the same
// size is cut the same way on every call, whichever thread gets going
// first. Every item runs exactly once.
func TestSpreadKeepsShares(t *testing.T) {
	w := newWorkers(2)
	for round := range 5 {
		var ran [8]atomic.Int32
		var first [2]atomic.Int32
		first[0].Store(-1)
		first[1].Store(-1)
		w.spread(len(ran), 2, func(it *items, slot int) {
			for i, ok := it.next(); ok; i, ok = it.next() {
				first[it.rank].CompareAndSwap(-1, int32(i))
				ran[i].Add(1)
				time.Sleep(200 * time.Microsecond)
			}
		})
		for i := range ran {
			if n := ran[i].Load(); n != 1 {
				t.Fatalf("round %d: item %d ran %d times", round, i, n)
			}
		}
		if f := first[0].Load(); f != 0 {
			t.Fatalf("round %d: the caller's first item was %d, want 0", round, f)
		}
		if f := first[1].Load(); f >= 0 && f < 4 {
			t.Fatalf("round %d: the worker's first item was %d, want 4 (its own share) or a later one the caller left", round, f)
		}
	}
}

// TestContendedLearnsAndForgets: loops the pool workers did none of make
// contended true (after about six of them, not after one), loops they
// helped with bring it back, and once contendedFor has passed since the
// last unhelped loop it answers false and starts learning from zero. One
// worker is never contended.
func TestContendedLearnsAndForgets(t *testing.T) {
	now := time.Second
	defer func(f func() time.Duration) { sinceClock0 = f }(sinceClock0)
	sinceClock0 = func() time.Duration { return now }
	w := newWorkers(2)
	w.record(false)
	if w.contended() {
		t.Fatal("contended after one unhelped loop")
	}
	for range 8 {
		w.record(false)
	}
	if !w.contended() {
		t.Fatal("not contended after nine unhelped loops")
	}
	for range 8 {
		w.record(true)
	}
	if w.contended() {
		t.Fatal("still contended after eight helped loops")
	}
	for range 16 {
		w.record(false)
	}
	now += contendedFor + time.Millisecond
	if w.contended() {
		t.Fatalf("contended %v after the last unhelped loop", contendedFor)
	}
	if w.unhelp.Load() != 0 {
		t.Fatalf("average %d after forgetting, want 0", w.unhelp.Load())
	}
	one := newWorkers(1)
	for range 16 {
		one.record(false)
	}
	if one.contended() {
		t.Fatal("one worker: contended")
	}
}

// TestSpreadRecordsWhoHelped: a loop whose items a pool worker took
// counts as helped; one that found no idle worker (every one busy with
// another caller's loop) is not counted at all; one whose worker did not
// run before the caller had taken every item (one core: the worker never
// gets it, as on a machine whose other processes hold the second core)
// counts as unhelped.
func TestSpreadRecordsWhoHelped(t *testing.T) {
	w := newWorkers(2)
	for range 20 { // a quiet pool worker takes its share of a slow loop
		w.For(2, 1, func(lo, hi int) { time.Sleep(time.Millisecond) })
	}
	if w.contended() {
		t.Fatalf("contended after loops the worker helped with (average %d)", w.unhelp.Load())
	}
	var held atomic.Int32
	release := make(chan struct{})
	finished := make(chan struct{})
	all := newWorkers(64)
	// the pool's 63 workers exist and have started; then hold every one
	// of them (and the loop's caller) until release
	all.For(64, 1, func(lo, hi int) { time.Sleep(time.Millisecond) })
	go func() {
		defer close(finished)
		all.For(64, 1, func(lo, hi int) {
			held.Add(1)
			<-release
		})
	}()
	for last := int32(-1); ; time.Sleep(20 * time.Millisecond) { // until no more threads join
		if h := held.Load(); h == last && h >= 2 {
			break
		} else {
			last = h
		}
	}
	before := w.unhelp.Load()
	for range 16 {
		w.For(2, 1, func(lo, hi int) {})
	}
	close(release)
	<-finished
	if after := w.unhelp.Load(); after != before {
		t.Fatalf("loops that found no idle worker moved the average from %d to %d", before, after)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for range 16 {
		w.For(2, 1, func(lo, hi int) {})
	}
	if !w.contended() {
		t.Fatalf("not contended after loops the worker never got a core for (average %d)", w.unhelp.Load())
	}
}

// TestSpreadReusesItsState: spread's state comes from a pool, so a loop on
// one thread allocates nothing, and loops of other sizes and thread counts
// after it (the pooled shares cut again, longer or shorter) still run
// every item once.
func TestSpreadReusesItsState(t *testing.T) {
	w := newWorkers(3)
	var sum int
	body := func(it *items, slot int) {
		for i, ok := it.next(); ok; i, ok = it.next() {
			sum += i
		}
	}
	if a := testing.AllocsPerRun(100, func() { w.spread(16, 1, body) }); a != 0 {
		t.Fatalf("a one-thread loop allocated %v objects, want 0", a)
	}
	for _, c := range []struct{ n, threads int }{{7, 3}, {5, 1}, {40, 2}, {3, 3}, {9, 1}} {
		ran := make([]atomic.Int32, c.n)
		w.spread(c.n, c.threads, func(it *items, slot int) {
			for i, ok := it.next(); ok; i, ok = it.next() {
				ran[i].Add(1)
			}
		})
		for i := range ran {
			if got := ran[i].Load(); got != 1 {
				t.Fatalf("%d items on %d threads: item %d ran %d times", c.n, c.threads, i, got)
			}
		}
	}
}
