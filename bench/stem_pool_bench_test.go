package bench

import (
	"testing"
	"time"

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
	f, x := frozenImage(b, m, zoo.Shape{C: 3, H: 224, W: 224})
	be := cpu.New(cpu.Options{})
	var stem, fwd [2][]float64 // µs; fused, apart
	var first *ops.Node
	which := 0
	opts := ops.Options{NodeTime: func(n *ops.Node, d time.Duration) {
		if first == nil {
			first = n
		}
		if n == first {
			stem[which] = append(stem[which], float64(d.Microseconds()))
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
		fwd[which] = append(fwd[which], float64(time.Since(t0).Microseconds()))
		ctx[which].Reset()
		i++
	}
	if len(fwd[1]) == 0 {
		b.Fatalf("%d forwards ran, all fused: the switch flips every 10 (run it with -benchtime 400x)", len(fwd[0]))
	}
	b.Logf("%s: stem step (conv1 with its ReLU and pool) median %.0f µs fused, %.0f µs conv then pool; median forward %.0f / %.0f µs (%d / %d forwards)",
		first.Name, median(stem[0]), median(stem[1]), median(fwd[0]), median(fwd[1]), len(fwd[0]), len(fwd[1]))
}
