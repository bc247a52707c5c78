package bench

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
	"github.com/qpipe/qpipe/ops/optim"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

func init() {
	Register("train", "training images/s of built-in models (batch 128, 1x28x28, SGD momentum), with step memory", benchTrain)
}

// modelBenchModels are the models the train and infer benchmarks run, on
// MNIST-shaped input with 10 classes (the same as scripts/torch_models.py).
var modelBenchModels = []string{"mlp", "cnn", "vit-tiny", "swin-micro"}

var mnistShape = zoo.Shape{C: 1, H: 28, W: 28}

// modelBench is one model set up for timing on a backend.
type modelBench struct {
	name  string
	model *ops.Model
	be    ops.Backend
	x     *ops.Tensor
	y     []int
}

// newModelBench builds name with a random input batch of size batch.
func newModelBench(name string, batch int, opts Options) (*modelBench, error) {
	m, err := zoo.Build(name, mnistShape, 10, 1)
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(5, 6))
	x := ops.New(batch, mnistShape.C, mnistShape.H, mnistShape.W)
	for i := range x.Data {
		x.Data[i] = r.Float32()
	}
	y := make([]int, batch)
	for i := range y {
		y[i] = r.IntN(10)
	}
	be, err := backendFor(opts)
	if err != nil {
		return nil, err
	}
	return &modelBench{name: name, model: m, be: be, x: x, y: y}, nil
}

// backendFor is the CPU backend with opts.Threads workers, or the backend
// named by opts.Device.
func backendFor(opts Options) (ops.Backend, error) {
	if opts.Device == "" || opts.Device == "cpu" {
		return cpu.New(cpu.Options{Threads: opts.Threads}), nil
	}
	return ops.NewBackend(opts.Device)
}

// batchSize is the first --size, or def.
func batchSize(opts Options, def int) int {
	if len(opts.Sizes) > 0 && opts.Sizes[0] > 0 {
		return opts.Sizes[0]
	}
	return def
}

func withThreads(opts Options) func() {
	prev := gemm.Threads()
	if opts.Threads > 0 {
		gemm.SetThreads(opts.Threads)
	}
	return func() { gemm.SetThreads(prev) }
}

func benchTrain(opts Options, emit func(Result)) error {
	defer withThreads(opts)()
	if opts.Seconds <= 0 {
		opts.Seconds = 3
	}
	batch := batchSize(opts, 128)
	for _, name := range modelBenchModels {
		mb, err := newModelBench(name, batch, opts)
		if err != nil {
			return err
		}
		r, err := mb.train(opts)
		if err != nil {
			return fmt.Errorf("train %s: %w", name, err)
		}
		emit(r)
	}
	return nil
}

// train times SGD steps and measures the memory a step holds: the heap in
// use after warm-up steps (arena buffers, gradients, momentum) minus the
// heap before the first, both after a GC.
func (mb *modelBench) train(opts Options) (Result, error) {
	heap0 := heapInUse()
	c := ops.NewContext(mb.be, ops.Options{Train: true, Grad: true, Seed: 1})
	opt, err := optim.NewSGD(mb.model.Trainable(), optim.SGDOptions{LR: 0.01, Momentum: 0.9})
	if err != nil {
		return Result{}, err
	}
	var stepErr error
	step := func() {
		if stepErr == nil {
			stepErr = trainStep(c, mb, opt)
		}
	}
	step()
	step()
	heap := heapInUse() - heap0
	best, med := measure(opts, float64(mb.x.Shape[0]), step)
	if stepErr != nil {
		return Result{}, stepErr
	}
	return Result{Case: mb.name, Value: round1(med), Unit: "img/s", Extra: map[string]any{
		"batch": mb.x.Shape[0], "device": mb.be.Capabilities().Device, "threads": mb.be.Capabilities().Threads, "best": round1(best),
		"step_heap_mb": round1(float64(heap) / (1 << 20)), "peak_rss_mb": round1(float64(peakRSS()) / (1 << 20)),
		"params": mb.model.ParamCount()}}, nil
}

func trainStep(c *ops.Context, mb *modelBench, opt optim.Optimizer) error {
	defer c.Reset()
	logits, err := mb.model.Forward1(c, mb.x)
	if err != nil {
		return err
	}
	if err := c.Backward(c.CrossEntropy(logits, mb.y)); err != nil {
		return err
	}
	opt.Step()
	opt.ZeroGrad()
	return nil
}

func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// peakRSS is the process's peak resident set (VmHWM) in bytes, 0 where
// /proc is unavailable.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
