package cpu

import (
	"runtime"
	"testing"
)

// TestNewFollowsGOMAXPROCS: a default backend has GOMAXPROCS workers at
// the time it is made, also after GOMAXPROCS changed since the shared pool
// was made (a benchmark run with -cpu 1,2 in one process timed its second
// setting on the first one's count); an explicit count is kept.
func TestNewFollowsGOMAXPROCS(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, p := range []int{1, 2, 3, 1} {
		runtime.GOMAXPROCS(p)
		if n := New(Options{}).w.n; n != p {
			t.Errorf("GOMAXPROCS %d: New(Options{}) has %d workers", p, n)
		}
		if n := New(Options{Threads: 4}).w.n; n != 4 {
			t.Errorf("GOMAXPROCS %d: New(Options{Threads: 4}) has %d workers", p, n)
		}
	}
}
