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

// BenchmarkTorchvisionLayers times each step of the batch-1 FP32 forward
// of infer-ort's torchvision models (resnet18, mobilenet_v2; 3x224x224,
// imported from QPIPE_ORT_DIR's export as BenchmarkResNet18Forward does)
// with ops.Options.NodeTime, and logs one line per step: its first node,
// kind and median wall time over the run's forwards (the first tenth
// left out as warm-up), then the sum of the medians against the median
// forward. Fused steps (a conv with its ReLU or residual add, an inverted
// residual block) are one line. Compare with ONNX Runtime's per-node
// profile of the same export (docs/performance.md).
//
//	cd bench && QPIPE_ORT_DIR=DIR go test -run XXX -bench TorchvisionLayers/resnet18 -benchtime 200x -cpu 2 -v
func BenchmarkTorchvisionLayers(b *testing.B) {
	for _, arch := range []string{"resnet18", "mobilenet_v2"} {
		b.Run(arch, func(b *testing.B) {
			b.Log(layerTable(b, torchvisionForBench(b, arch), zoo.Shape{C: 3, H: 224, W: 224}, 1))
		})
	}
}

// layerTable runs b.N forwards of m on a batch of n inputs of shape s and
// formats each step's median time.
func layerTable(b *testing.B, m *ops.Model, s zoo.Shape, n int) string {
	x := ops.New(n, s.C, s.H, s.W)
	copy(x.Data, randomDataset(s, n).X)
	times := map[*ops.Node][]time.Duration{}
	var order []*ops.Node
	c := ops.NewContext(cpu.New(cpu.Options{}), ops.Options{NodeTime: func(n *ops.Node, d time.Duration) {
		if _, ok := times[n]; !ok {
			order = append(order, n)
		}
		times[n] = append(times[n], d)
	}})
	f, err := ops.Freeze(m) // as infer-ort runs it; NodeTime sees the same copy of each node every forward
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

// steadyMedian is the median of d in microseconds without its first
// tenth (warm-up).
func steadyMedian(d []time.Duration) float64 {
	us := make([]float64, 0, len(d))
	for _, v := range d[len(d)/10:] {
		us = append(us, float64(v.Nanoseconds())/1e3)
	}
	if len(us) == 0 {
		return 0
	}
	return median(us)
}
