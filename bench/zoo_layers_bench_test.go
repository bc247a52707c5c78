package bench

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

// BenchmarkZooLayers times each step of the zoo resnet20's batch-1 FP32
// forward (3x32x32, random weights, frozen as infer-ort runs it) with
// ops.Options.NodeTime and logs one line per step (its first node, kind
// and median wall time, the first tenth left out as warm-up), then the
// sum of the medians against the median forward: the figures to set
// against ONNX Runtime's per-node profile of infer-ort's export
// (scripts/ort/profile.js) at the same thread count.
//
//	cd bench && go test -run XXX -bench ZooLayers -benchtime 2000x -cpu 1,2 -v
func BenchmarkZooLayers(b *testing.B) {
	s := zoo.Shape{C: 3, H: 32, W: 32}
	m, err := zoo.Build("resnet20", s, 10, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("resnet20/b1", func(b *testing.B) { b.Log(zooLayerTable(b, m, s)) })
}

// zooLayerTable runs b.N batch-1 forwards of m on shape s and formats
// each step's median time.
func zooLayerTable(b *testing.B, m *ops.Model, s zoo.Shape) string {
	x := ops.New(1, s.C, s.H, s.W)
	copy(x.Data, randomDataset(s, 1).X)
	times := map[*ops.Node][]time.Duration{}
	var order []*ops.Node
	c := ops.NewContext(cpu.New(cpu.Options{}), ops.Options{NodeTime: func(n *ops.Node, d time.Duration) {
		if _, ok := times[n]; !ok {
			order = append(order, n)
		}
		times[n] = append(times[n], d)
	}})
	f, err := ops.Freeze(m)
	if err != nil {
		b.Fatal(err)
	}
	var total []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := f.Forward(c, x); err != nil {
			b.Fatal(err)
		}
		total = append(total, time.Since(t0))
		c.Reset()
	}
	var out strings.Builder
	sum := 0.0
	for _, n := range order {
		d := steadyMedian(times[n])
		sum += d
		fmt.Fprintf(&out, "\n%-40s %-16v %9.1f µs", n.Name, n.Kind, d)
	}
	fmt.Fprintf(&out, "\nsum of the medians %.1f µs, median forward %.1f µs (%d forwards)", sum, steadyMedian(total), len(total))
	return out.String()
}
