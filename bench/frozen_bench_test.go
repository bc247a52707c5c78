package bench

import (
	"runtime"
	"testing"
	"time"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

// BenchmarkFrozenForward alternates a model's ordinary forward
// (Model.Forward, which checks its weights on every call) and its frozen
// forward (ops.Freeze, as evaluate, infer.Model and the benchmarks run
// it) at batch 1, per forwards of each in turn, so that both see the same
// load, and reports for each the median wall ms and CPU ms per forward
// over the rounds, the median of the rounds' ratios frozen/model (below
// 1: frozen faster) and the heap allocations per forward. Models: the zoo
// cnn and resnet20 (random weights) and torchvision resnet18 and
// mobilenet_v2 (imported from QPIPE_ORT_DIR's export as
// BenchmarkResNet18Forward does; skipped where they cannot be had).
//
//	cd bench && QPIPE_ORT_DIR=DIR go test -run XXX -bench FrozenForward -benchtime 2000x -cpu 1
func BenchmarkFrozenForward(b *testing.B) {
	zooModel := func(name string, s zoo.Shape) func(*testing.B) (*ops.Model, zoo.Shape) {
		return func(b *testing.B) (*ops.Model, zoo.Shape) {
			m, err := zoo.Build(name, s, 10, 1)
			if err != nil {
				b.Fatal(err)
			}
			return m, s
		}
	}
	tv := func(arch string) func(*testing.B) (*ops.Model, zoo.Shape) {
		return func(b *testing.B) (*ops.Model, zoo.Shape) {
			return torchvisionForBench(b, arch), zoo.Shape{C: 3, H: 224, W: 224}
		}
	}
	for _, mc := range []struct {
		name  string
		per   int
		build func(*testing.B) (*ops.Model, zoo.Shape)
	}{
		{"cnn", 20, zooModel("cnn", mnistShape)},
		{"resnet20", 20, zooModel("resnet20", zoo.Shape{C: 3, H: 32, W: 32})},
		{"resnet18", 2, tv("resnet18")},
		{"mobilenet_v2", 2, tv("mobilenet_v2")},
	} {
		b.Run(mc.name+"/b1", func(b *testing.B) {
			m, s := mc.build(b)
			alternateFrozen(b, m, s, mc.per)
		})
	}
}

// frozenImage freezes m and makes one random image of shape s for it.
func frozenImage(b testing.TB, m *ops.Model, s zoo.Shape) (*ops.Frozen, *ops.Tensor) {
	f, err := ops.Freeze(m)
	if err != nil {
		b.Fatal(err)
	}
	x := ops.New(1, s.C, s.H, s.W)
	copy(x.Data, randomDataset(s, 1).X)
	return f, x
}

// alternateFrozen runs BenchmarkFrozenForward's loop for m on one random
// image of shape s.
func alternateFrozen(b *testing.B, m *ops.Model, s zoo.Shape, per int) {
	f, x := frozenImage(b, m, s)
	be := cpu.New(cpu.Options{})
	fwd := [2]func(*ops.Context, ...*ops.Tensor) ([]*ops.Tensor, error){m.Forward, f.Forward}
	ctx := [2]*ops.Context{ops.NewContext(be, ops.Options{}), ops.NewContext(be, ops.Options{})}
	call := func(i int) {
		if _, err := fwd[i](ctx[i], x); err != nil {
			b.Fatal(err)
		}
		ctx[i].Reset()
	}
	round := func(i int) (wall, cpuMS float64) {
		t0, c0 := time.Now(), cpuTime()
		for range per {
			call(i)
		}
		return float64(time.Since(t0).Microseconds()) / 1e3 / float64(per), float64((cpuTime() - c0).Microseconds()) / 1e3 / float64(per)
	}
	round(0)
	round(1)
	var wall, cpuMS [2][]float64
	var ratio []float64
	b.ResetTimer()
	for n := 0; n < b.N; n += 2 * per {
		for i := range 2 {
			w, c := round(i)
			wall[i], cpuMS[i] = append(wall[i], w), append(cpuMS[i], c)
		}
		ratio = append(ratio, wall[1][len(wall[1])-1]/wall[0][len(wall[0])-1])
	}
	b.StopTimer()
	for i, name := range []string{"model", "frozen"} {
		b.ReportMetric(median(wall[i]), name+"-ms")
		b.ReportMetric(median(cpuMS[i]), name+"-cpu-ms")
		b.ReportMetric(allocsPerCall(per, func() { call(i) }), name+"-allocs")
	}
	b.ReportMetric(median(ratio), "frozen/model")
}

// allocsPerCall is the heap allocations per call of f over n calls.
func allocsPerCall(n int, f func()) float64 {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range n {
		f()
	}
	runtime.ReadMemStats(&m1)
	return float64(m1.Mallocs-m0.Mallocs) / float64(n)
}
