// Package cpu is qpipe's default backend: every ops primitive in pure Go on
// the tensors' backing slices, parallel over a small fixed pool of worker
// goroutines, with matrix products (linear, matmul, im2col convolution)
// delegated to the assembly kernels of ops/cpu/gemm.
//
// Importing the package registers it as "cpu".
package cpu

import (
	"runtime"
	"sync"

	"github.com/qpipe/qpipe/ops"
)

func init() {
	ops.RegisterBackend("cpu", func() (ops.Backend, error) { return New(Options{}), nil })
}

// Options configure a backend instance.
type Options struct {
	// Threads is the number of workers; 0 means GOMAXPROCS.
	Threads int
}

// Backend implements ops.Backend on the CPU.
type Backend struct {
	w   *workers
	tmp *scratch
}

var (
	_ ops.Backend = (*Backend)(nil)

	sharedWorkers = sync.OnceValue(func() *workers { return newWorkers(runtime.GOMAXPROCS(0)) })
)

// New returns a CPU backend. Backends with the default thread count share
// one worker pool.
func New(o Options) *Backend {
	if o.Threads <= 0 || o.Threads == runtime.GOMAXPROCS(0) {
		return &Backend{w: sharedWorkers(), tmp: &scratch{}}
	}
	return &Backend{w: newWorkers(o.Threads), tmp: &scratch{}}
}

// Name is "cpu".
func (b *Backend) Name() string { return "cpu" }

// Capabilities reports float32 training and the int8 inference kernels.
func (b *Backend) Capabilities() ops.Capabilities {
	return ops.Capabilities{Device: "cpu", Threads: b.w.n, Float32: true, Int8: true}
}
