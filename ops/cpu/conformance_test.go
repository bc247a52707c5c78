package cpu

import (
	"fmt"
	"testing"

	"github.com/qpipe/qpipe/ops/cpu/gemm"
	"github.com/qpipe/qpipe/ops/opstest"
)

// conformanceThreads are the worker counts the suite runs at: one (no
// splitting), two (this machine's cores) and eight (more workers than
// cores, so chunks finish in varying order).
var conformanceThreads = []int{1, 2, 8}

// withThreads runs f with a backend of n workers, the GEMM kernels
// limited to n threads, and the workers' chunks delayed at random (jitter),
// so the order in which they finish changes from run to run.
func withThreads(n int, f func(b *Backend)) {
	defer gemm.SetThreads(gemm.Threads())
	gemm.SetThreads(n)
	jitter.Store(true)
	defer jitter.Store(false)
	f(New(Options{Threads: n}))
}

// TestConformance runs the shared suite at each worker count; within each,
// every case runs repeatedly, its chunks finishing in varying order, and
// must give the same bits.
func TestConformance(t *testing.T) {
	for _, n := range conformanceThreads {
		t.Run(fmt.Sprintf("threads=%d", n), func(t *testing.T) {
			withThreads(n, func(b *Backend) { opstest.Run(t, b) })
		})
	}
}

// TestSameBitsOnAnyThreadCount: every reduction sums in an order fixed by
// the shapes alone (sumRuns, per-element loops), so outputs and gradients
// of every conformance case have the same bits at 1, 2 and 8 workers.
func TestSameBitsOnAnyThreadCount(t *testing.T) {
	var first map[string]uint64
	for _, n := range conformanceThreads {
		var fp map[string]uint64
		withThreads(n, func(b *Backend) { fp = opstest.Fingerprints(t, b) })
		if first == nil {
			first = fp
			continue
		}
		for name, h := range fp {
			if h != first[name] {
				t.Errorf("%s: %d workers give other bits than %d", name, n, conformanceThreads[0])
			}
		}
	}
}
