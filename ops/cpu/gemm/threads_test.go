package gemm

import (
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
