package bench

import (
	"slices"
	"time"

	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

// stemApart is the CPU backend without the fused stem step: the chain
// runs its convolution, then the pool (ops.ConvPoolBackend declines).
type stemApart struct{ *cpu.Backend }

func (stemApart) ConvPoolFuses(ops.ConvParams, ops.PoolParams, ops.ConvFusion) bool { return false }

// BenchmarkResNet18StemPool times torchvision resnet18's batch-1 forward
// (frozen, as infer-ort runs it) with its stem (conv 7×7 s2 → ReLU → max
// pool 3×3 s2) as one step computed band by band, and with the conv then
// the pool, the two switched every 10 forwards in one process (the same
// weights and buffers, the same minutes of a shared machine), and prints
// each one's median stem step and forward.
//
//	cd bench && QPIPE_ORT_DIR=DIR go test -run XXX -bench ResNet18StemPool -benchtime 400x -cpu 1,2
func BenchmarkResNet18StemPool(b *testing.B) {
	m := torchvisionForBench(b, "resnet18")
	s := zoo.Shape{C: 3, H: 224, W: 224}
	f, err := ops.Freeze(m)
	if err != nil {
		b.Fatal(err)
	}
	x := ops.New(1, s.C, s.H, s.W)
	copy(x.Data, randomDataset(s, 1).X)
	be := cpu.New(cpu.Options{})
	var stem [2][]time.Duration // fused, apart
	var fwd [2][]time.Duration
	var first *ops.Node
	which := 0
	opts := ops.Options{NodeTime: func(n *ops.Node, d time.Duration) {
		if first == nil {
			first = n
		}
		if n == first {
			stem[which] = append(stem[which], d)
		}
	}}
	ctx := [2]*ops.Context{ops.NewContext(be, opts), ops.NewContext(stemApart{be}, opts)}
	i := 0
	for b.Loop() {
		which = i / 10 % 2
		t0 := time.Now()
		if _, err := f.Forward(ctx[which], x); err != nil {
			b.Fatal(err)
		}
		fwd[which] = append(fwd[which], time.Since(t0))
		ctx[which].Reset()
		i++
	}
	med := func(d []time.Duration) float64 {
		if len(d) == 0 {
			return 0
		}
		d = slices.Clone(d)
		slices.Sort(d)
		return float64(d[len(d)/2].Microseconds())
	}
	b.Logf("%s: stem step (conv1 with its ReLU and pool) median %.0f µs fused, %.0f µs conv then pool; median forward %.0f / %.0f µs (%d / %d forwards)",
		first.Name, med(stem[0]), med(stem[1]), med(fwd[0]), med(fwd[1]), len(fwd[0]), len(fwd[1]))
}
