// Package cpu is qpipe's default backend: every ops primitive in Go on the
// tensors' backing slices, parallel over a small fixed pool of worker
// goroutines, with matrix products (linear, matmul, im2col convolution)
// delegated to the assembly kernels of ops/cpu/gemm.
//
// The hot elementwise loops have AVX-512 forms (vecmath_amd64.s): exp for
// softmax rows, GELU and its derivative, softmax backward, ReLU, layer
// norm rows, 2×2 max pooling, the convolution's bias/ReLU epilogue. They
// compute the formulas of the scalar Go code (fastmath.go), which runs
// without AVX-512 or with the purego tag; vecmath_test.go checks one
// against the other at every tail length.
//
// Convolution runs over small image tiles, one thread per tile (conv.go).
// Beyond the Backend contract it implements ops.ConvActBackend (ReLU fused
// into the output pass and its gradient into the backward's copy of dy;
// the forward's columns kept for the weight gradient) and
// ops.ConvReLUPoolBackend (conv, ReLU and 2×2 max pooling in one pass for
// inference) and ops.QKVAttentionBackend (attention.go: one thread per
// batch entry and head, q, k, v read in place from the qkv projection,
// small-matrix products in registers).
//
// Work is split so that results have the same bits on any number of
// workers: each output element is computed by one worker in a fixed
// order, and sums over items (convolution weight gradients over tiles,
// layer norm's dgamma and dbeta over rows) are cut into a fixed number of
// runs (sumRuns), summed per run and added in run order
// (docs/determinism.md).
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

// New returns a CPU backend. Backends with the thread count of the first
// default one (GOMAXPROCS then) share one worker pool; a default backend
// made after GOMAXPROCS changed (a benchmark's -cpu 1,2) gets the new
// count, not the shared pool's.
func New(o Options) *Backend {
	n := o.Threads
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	if w := sharedWorkers(); w.n == n {
		return &Backend{w: w, tmp: &scratch{}}
	}
	return &Backend{w: newWorkers(n), tmp: &scratch{}}
}

// Name is "cpu".
func (b *Backend) Name() string { return "cpu" }

// Capabilities reports float32 training and the int8 inference kernels.
func (b *Backend) Capabilities() ops.Capabilities {
	return ops.Capabilities{Device: "cpu", Threads: b.w.n, Float32: true, Int8: true}
}
