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
