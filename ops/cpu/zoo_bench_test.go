package cpu_test

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/ops/optim"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

// The zoo models as `qpipe bench train` and `qpipe bench infer` run them
// (batch 128 training with SGD momentum, batch 256 no-grad inference), for
// profiling with -cpuprofile.

func zooBatch(b *testing.B, name string, batch int) (*ops.Model, *ops.Tensor, []int) {
	m, err := zoo.Build(name, zoo.Shape{C: 1, H: 28, W: 28}, 10, 1)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	x := ops.New(batch, 1, 28, 28)
	for i := range x.Data {
		x.Data[i] = r.Float32()
	}
	y := make([]int, batch)
	for i := range y {
		y[i] = r.IntN(10)
	}
	return m, x, y
}

func rusage() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func BenchmarkZooTrain(b *testing.B) {
	for _, name := range []string{"mlp", "cnn", "vit-tiny"} {
		b.Run(name, func(b *testing.B) {
			m, x, y := zooBatch(b, name, 128)
			opt, err := optim.NewSGD(m.Trainable(), optim.SGDOptions{LR: 0.01, Momentum: 0.9})
			if err != nil {
				b.Fatal(err)
			}
			c := ops.NewContext(cpu.New(cpu.Options{}), ops.Options{Train: true, Grad: true, Seed: 1})
			step := func() {
				out, err := m.Forward1(c, x)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.Backward(c.CrossEntropy(out, y)); err != nil {
					b.Fatal(err)
				}
				opt.Step()
				opt.ZeroGrad()
				c.Reset()
			}
			step()
			cpu0 := rusage()
			b.ResetTimer()
			for range b.N {
				step()
			}
			b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "images/s")
			b.ReportMetric((rusage()-cpu0)*1000/float64(b.N), "cpu-ms/step")
		})
	}
}

func BenchmarkZooInfer(b *testing.B) {
	for _, name := range []string{"mlp", "cnn", "vit-tiny"} {
		b.Run(name, func(b *testing.B) {
			m, x, _ := zooBatch(b, name, 256)
			cpuMS := benchForward(b, m, x)
			b.ReportMetric(float64(256*b.N)/b.Elapsed().Seconds(), "images/s")
			b.ReportMetric(cpuMS, "cpu-ms/batch")
		})
	}
}

// benchForward times b.N no-grad forwards of m, frozen as `qpipe bench
// infer` and evaluate run it, on x (after one warm-up) and returns the
// CPU milliseconds per forward.
func benchForward(b *testing.B, m *ops.Model, x *ops.Tensor) float64 {
	f, err := ops.Freeze(m)
	if err != nil {
		b.Fatal(err)
	}
	c := ops.NewContext(cpu.New(cpu.Options{}), ops.Options{})
	run := func() {
		if _, err := f.Forward(c, x); err != nil {
			b.Fatal(err)
		}
		c.Reset()
	}
	run()
	cpu0 := rusage()
	b.ResetTimer()
	for range b.N {
		run()
	}
	return (rusage() - cpu0) * 1000 / float64(b.N)
}

// BenchmarkConvNetInfer is the FP32 side of `qpipe bench infer-ort` for the
// zoo CNNs (no-grad forward of the frozen model at batch 1 and 64), for profiling the
// convolution path: wall ms and CPU ms per batch.
func BenchmarkConvNetInfer(b *testing.B) {
	for _, mc := range []struct {
		name string
		s    zoo.Shape
	}{{"cnn", zoo.Shape{C: 1, H: 28, W: 28}}, {"resnet20", zoo.Shape{C: 3, H: 32, W: 32}}} {
		for _, batch := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/b%d", mc.name, batch), func(b *testing.B) {
				m, err := zoo.Build(mc.name, mc.s, 10, 1)
				if err != nil {
					b.Fatal(err)
				}
				x := ops.New(batch, mc.s.C, mc.s.H, mc.s.W)
				r := rand.New(rand.NewPCG(5, 6))
				for i := range x.Data {
					x.Data[i] = r.Float32()
				}
				cpuMS := benchForward(b, m, x)
				b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/batch")
				b.ReportMetric(cpuMS, "cpu-ms/batch")
			})
		}
	}
}

// BenchmarkConvNetInferThreads times the zoo CNNs' batch-1 and batch-64
// forwards on one and on two workers in the same loop, alternating every
// 20 forwards (2 at batch 64), so both see the same load from other
// processes: it reports each one's median ms per forward over the
// alternations and t2/t1, the median of the per-alternation ratios
// (below 1: the second thread helps). On a
// shared machine single runs of ConvNetInfer swing by 2x with the load;
// this ratio moves far less.
func BenchmarkConvNetInferThreads(b *testing.B) {
	for _, mc := range []struct {
		name string
		s    zoo.Shape
	}{{"cnn", zoo.Shape{C: 1, H: 28, W: 28}}, {"resnet20", zoo.Shape{C: 3, H: 32, W: 32}}} {
		for _, bt := range []struct{ n, per int }{{1, 20}, {64, 2}} {
			b.Run(fmt.Sprintf("%s/b%d", mc.name, bt.n), func(b *testing.B) {
				m, err := zoo.Build(mc.name, mc.s, 10, 1)
				if err != nil {
					b.Fatal(err)
				}
				x := ops.New(bt.n, mc.s.C, mc.s.H, mc.s.W)
				r := rand.New(rand.NewPCG(5, 6))
				for i := range x.Data {
					x.Data[i] = r.Float32()
				}
				f, err := ops.Freeze(m) // as infer-ort runs it
				if err != nil {
					b.Fatal(err)
				}
				var ctx [2]*ops.Context
				for i := range ctx {
					ctx[i] = ops.NewContext(cpu.New(cpu.Options{Threads: i + 1}), ops.Options{})
				}
				t1, t2, ratio := cpu.AlternateThreads(b, bt.per, func(i int) {
					if _, err := f.Forward(ctx[i], x); err != nil {
						b.Fatal(err)
					}
					ctx[i].Reset()
				})
				for i := range t1 {
					t1[i], t2[i] = t1[i]/1e3, t2[i]/1e3
				}
				b.ReportMetric(cpu.MedianOf(t1), "t1-ms")
				b.ReportMetric(cpu.MedianOf(t2), "t2-ms")
				b.ReportMetric(cpu.MedianOf(ratio), "t2/t1")
			})
		}
	}
}
