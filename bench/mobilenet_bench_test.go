package bench

import (
	"os"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

// BenchmarkMobileNetV2Forward is the FP32 forward that `qpipe bench
// infer-ort` times for mobilenet_v2 (torchvision, 3x224x224, imported),
// for profiling with -cpuprofile. QPIPE_ORT_DIR keeps the export between
// runs; without Python and torchvision it is skipped.
func BenchmarkMobileNetV2Forward(b *testing.B) {
	dir := os.Getenv("QPIPE_ORT_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	m, err := torchvisionModel(dir, "mobilenet_v2")
	if err != nil {
		b.Skip(err)
	}
	s := zoo.Shape{C: 3, H: 224, W: 224}
	for _, n := range []int{1, 64} {
		b.Run(map[int]string{1: "b1", 64: "b64"}[n], func(b *testing.B) {
			x := ops.New(n, s.C, s.H, s.W)
			copy(x.Data, randomDataset(s, n).X)
			c := ops.NewContext(cpu.New(cpu.Options{}), ops.Options{})
			for b.Loop() {
				if _, err := m.Forward(c, x); err != nil {
					b.Fatal(err)
				}
				c.Reset()
			}
		})
	}
}
