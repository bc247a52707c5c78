package bench

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/stdlib/compress"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

// BenchmarkMobileNetV2Forward is the FP32 forward that `qpipe bench
// infer-ort` times for mobilenet_v2 (torchvision, 3x224x224, imported),
// for profiling with -cpuprofile. QPIPE_ORT_DIR keeps the export between
// runs; without Python and torchvision it is skipped.
func BenchmarkMobileNetV2Forward(b *testing.B) {
	benchTorchvision(b, "mobilenet_v2", false)
}

// BenchmarkResNet18Forward is the FP32 forward of infer-ort's resnet18
// row (torchvision, 3x224x224, imported), for profiling.
func BenchmarkResNet18Forward(b *testing.B) {
	benchTorchvision(b, "resnet18", false)
}

// BenchmarkMobileNetV2Int8Forward is the INT8 forward of the same row:
// the model quantized and deployed to the integer engine as infer-ort
// builds it (compress.QuantizeInt8 on 8 random images, compress.Deploy).
func BenchmarkMobileNetV2Int8Forward(b *testing.B) {
	benchTorchvision(b, "mobilenet_v2", true)
}

// torchvisionForBench imports torchvision model arch from the ONNX export
// in QPIPE_ORT_DIR (exported there first when missing; a temporary folder
// without it), skipping the benchmark when it cannot be had.
func torchvisionForBench(b *testing.B, arch string) *ops.Model {
	dir := os.Getenv("QPIPE_ORT_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	m, err := torchvisionModel(dir, arch)
	if err != nil {
		b.Skip(err)
	}
	return m
}

// benchTorchvision times the forward of torchvision model arch, frozen,
// at batch 1 and 64, FP32 or INT8.
func benchTorchvision(b *testing.B, arch string, int8 bool) {
	m := torchvisionForBench(b, arch)
	s := zoo.Shape{C: 3, H: 224, W: 224}
	be := cpu.New(cpu.Options{})
	if int8 {
		calib := randomDataset(s, 8)
		if _, err := compress.QuantizeInt8(context.Background(), m, compress.Int8Options{Data: calib, Batch: 4, Batches: 2, Backend: be}); err != nil {
			b.Fatal(err)
		}
		ir, err := compress.Deploy(m, source.Span{})
		if err != nil {
			b.Fatal(err)
		}
		m = ir.Model
	}
	f, err := ops.Freeze(m) // as infer-ort runs it
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 64} {
		b.Run(map[int]string{1: "b1", 64: "b64"}[n], func(b *testing.B) {
			x := ops.New(n, s.C, s.H, s.W)
			copy(x.Data, randomDataset(s, n).X)
			c := ops.NewContext(be, ops.Options{})
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := f.Forward(c, x); err != nil {
					b.Fatal(err)
				}
				c.Reset()
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1e3/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime is the process's user and system CPU time so far: on a shared
// machine, the CPU milliseconds per forward (cpu-ms/op) at one thread
// measure the work without the time spent waiting for a core (at two,
// they include the workers' spinning).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
