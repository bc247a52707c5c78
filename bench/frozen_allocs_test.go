package bench

import (
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

// TestFrozenForwardAllocations: a frozen batch-1 forward of the zoo cnn
// and resnet20 on one and two workers, after a first one, allocates at
// most a bound a little above what it does now (one worker: cnn 24,
// resnet20 31; two workers, which vary with whether a task reached the
// pool worker: 40), so the per-layer closures, tile states, output
// passes, tensor headers and the executor's per-forward tables cannot
// come back unnoticed. History: 51 and 218 one-worker, 227 two-worker
// before the convolutions' per-call state was pooled and tensor headers
// took their shapes in (s18-ovh in docs/performance.md); 38, 59 and 68
// before the executor reused its value table, storage counts, input
// slices and released headers (s20-exec).
func TestFrozenForwardAllocations(t *testing.T) {
	for _, c := range []struct {
		model   string
		shape   zoo.Shape
		threads int
		bound   float64
	}{
		{"cnn", mnistShape, 1, 28},
		{"resnet20", zoo.Shape{C: 3, H: 32, W: 32}, 1, 36},
		{"resnet20", zoo.Shape{C: 3, H: 32, W: 32}, 2, 52},
	} {
		m, err := zoo.Build(c.model, c.shape, 10, 1)
		if err != nil {
			t.Fatal(err)
		}
		f, x := frozenImage(t, m, c.shape)
		ctx := ops.NewContext(cpu.New(cpu.Options{Threads: c.threads}), ops.Options{})
		forward := func() {
			if _, err := f.Forward(ctx, x); err != nil {
				t.Fatal(err)
			}
			ctx.Reset()
		}
		forward()
		got := testing.AllocsPerRun(50, forward)
		t.Logf("%s on %d workers: %v allocations per forward", c.model, c.threads, got)
		if got > c.bound {
			t.Errorf("%s on %d workers: %v allocations per forward, want at most %v", c.model, c.threads, got, c.bound)
		}
	}
}
