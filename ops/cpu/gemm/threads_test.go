package gemm

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestParallelWaitsPastTheSpin runs tasks that outlast the caller's spin
// (so it parks on the join) and tasks that do not, and checks that every
// task ran exactly once and had finished when Parallel returned.
func TestParallelWaitsPastTheSpin(t *testing.T) {
	for _, d := range []time.Duration{0, 3 * spinFor} {
		for range 20 {
			var ran [4]atomic.Int32
			Parallel(len(ran), func(i int) {
				if i > 0 {
					time.Sleep(d)
				}
				ran[i].Add(1)
			})
			for i := range ran {
				if n := ran[i].Load(); n != 1 {
					t.Fatalf("sleep %v: task %d ran %d times by the time Parallel returned", d, i, n)
				}
			}
		}
	}
}

// TestWorkersParkWhenIdle: after a call the workers spin for spinFor, then
// park (a worker spinning on while another process needs the core would
// slow the whole machine), and a parked worker takes the next task.
func TestWorkersParkWhenIdle(t *testing.T) {
	for round := range 3 {
		var ran atomic.Int32
		Parallel(3, func(int) { ran.Add(1) })
		if ran.Load() != 3 {
			t.Fatalf("round %d: %d of 3 tasks ran", round, ran.Load())
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			spinning := 0
			for _, w := range *pool.workers.Load() {
				if w.state.Load() != workerParked {
					spinning++
				}
			}
			if spinning == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: %d workers still not parked 5 s after the call (spinFor %v)", round, spinning, spinFor)
			}
			time.Sleep(spinFor)
		}
	}
}

// TestParallelSharedDropsUnstartedTasks: with one P, the workers cannot
// start while the caller's f(0) does the shared work without yielding, so
// every worker task is still unstarted when f(0) returns: ParallelShared
// takes them back instead of waiting for the workers (Parallel's wait
// would yield and let them run), and none of them runs later.
func TestParallelSharedDropsUnstartedTasks(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var late, workerCalls atomic.Int32
	for range 20 {
		var next atomic.Int32
		var returned atomic.Bool
		ParallelShared(3, func(t int) {
			if returned.Load() {
				late.Add(1)
			}
			if t > 0 {
				workerCalls.Add(1)
			}
			for next.Add(1) <= 1000 { // the shared work
			}
		})
		returned.Store(true)
		if n := next.Load(); n < 1000 {
			t.Fatalf("the shared work stopped at %d of 1000", n)
		}
	}
	time.Sleep(4 * spinFor) // a task still in a slot would run now
	if n := workerCalls.Load(); n > 0 {
		t.Errorf("%d worker tasks ran although f(0) had done all the work before they could start", n)
	}
	if n := late.Load(); n > 0 {
		t.Errorf("%d tasks ran after their call returned", n)
	}
}

// TestParallelSharedShares: on the usual Ps the workers do take part, every
// piece of the shared work is done exactly once, and no task is still
// running when the call returns.
func TestParallelSharedShares(t *testing.T) {
	var byWorkers atomic.Int32
	for range 50 {
		const pieces = 64
		var seen [pieces]atomic.Int32
		var next, running atomic.Int32
		ParallelShared(3, func(t int) {
			running.Add(1)
			defer running.Add(-1)
			for i := int(next.Add(1)) - 1; i < pieces; i = int(next.Add(1)) - 1 {
				if t > 0 {
					byWorkers.Add(1)
				}
				time.Sleep(time.Microsecond)
				seen[i].Add(1)
			}
		})
		if r := running.Load(); r != 0 {
			t.Fatalf("%d tasks still running after ParallelShared returned", r)
		}
		for i := range seen {
			if c := seen[i].Load(); c != 1 {
				t.Fatalf("piece %d done %d times", i, c)
			}
		}
	}
	if byWorkers.Load() == 0 && runtime.GOMAXPROCS(0) > 1 {
		t.Errorf("the workers did no piece in 50 calls")
	}
}

// TestSpinnerStopsWhenItLosesItsCore: a spin ends after spinFor on a
// clock that moves a microsecond per look, and at the first look after a
// gap longer than lostCore (the thread was descheduled: the machine has
// more runnable threads than cores) however early in the spin.
func TestSpinnerStopsWhenItLosesItsCore(t *testing.T) {
	run := func(gapAt int) (polls int, at time.Duration) {
		var clock time.Duration
		looks := 0
		s := spinner{since: func(time.Time) time.Duration {
			looks++
			clock += time.Microsecond
			if looks == gapAt {
				clock += 2 * lostCore
			}
			return clock
		}}
		for s.spin() {
			if s.polls > 1e7 {
				t.Fatal("the spin never ended")
			}
		}
		return s.polls, clock
	}
	if _, at := run(-1); at < spinFor || at > spinFor+2*time.Microsecond {
		t.Errorf("an undisturbed spin ended at %v, want spinFor (%v)", at, spinFor)
	}
	polls, at := run(3)
	if want := 3 * spinCheck * spinClock; polls != want {
		t.Errorf("after a gap at the third look the spin went on to poll %d, want %d (clock %v)", polls, want, at)
	}
}

// TestParallelSlotsNeverShared runs ParallelSlots from several goroutines
// at once and checks that the caller's own task runs as CallerSlot and
// that no worker slot (≥ 1) is ever in use by two tasks at the same time,
// in one call or across calls: per-slot state needs no lock beyond slot 0.
func TestParallelSlotsNeverShared(t *testing.T) {
	var inUse [64]atomic.Int32
	var bad atomic.Int32
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 200 {
				ParallelSlots(3, func(task, slot int) {
					if task == 0 && slot != CallerSlot || slot < 0 || slot >= len(inUse) {
						bad.Add(1)
						return
					}
					if slot == CallerSlot {
						return
					}
					if inUse[slot].Add(1) != 1 {
						bad.Add(1)
					}
					time.Sleep(time.Microsecond)
					inUse[slot].Add(-1)
				})
			}
		}()
	}
	for range 4 {
		<-done
	}
	if n := bad.Load(); n > 0 {
		t.Fatalf("%d tasks ran on a slot that was in use (or the caller's task not on CallerSlot)", n)
	}
}
