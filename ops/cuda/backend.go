package cuda

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"unsafe"

	"github.com/qpipe/qpipe/ops"
)

// Backend implements ops.Backend and ops.Int8Backend with the kernels of
// ops/cuda/kernels on a Device.
type Backend struct {
	dev  Device
	mu   sync.Mutex // one op at a time: the device runs one stream
	pool map[int][]Ptr
}

var (
	_ ops.Backend     = (*Backend)(nil)
	_ ops.Int8Backend = (*Backend)(nil)
)

// New returns a backend on dev.
func New(dev Device) *Backend { return &Backend{dev: dev, pool: map[int][]Ptr{}} }

// Name is "cuda".
func (b *Backend) Name() string { return "cuda" }

// Device returns the device the backend runs on.
func (b *Backend) Device() Device { return b.dev }

// Capabilities reports float32 training and the int8 kernels.
func (b *Backend) Capabilities() ops.Capabilities {
	return ops.Capabilities{Device: "cuda", Threads: 1, Float32: true, Int8: true}
}

// maxElems bounds a tensor's elements: the kernels index with int.
const maxElems = math.MaxInt32

// alloc takes a buffer of n bytes from the pool or the device; on an
// allocation failure it empties the pool and tries once more.
func (b *Backend) alloc(n int) (Ptr, error) {
	n = (max(n, 1) + 255) &^ 255
	if l := b.pool[n]; len(l) > 0 {
		p := l[len(l)-1]
		b.pool[n] = l[:len(l)-1]
		return p, nil
	}
	p, err := b.dev.Alloc(n)
	if err != nil {
		b.trim()
		p, err = b.dev.Alloc(n)
	}
	return p, err
}

func (b *Backend) release(p Ptr, n int) {
	n = (max(n, 1) + 255) &^ 255
	b.pool[n] = append(b.pool[n], p)
}

// trim frees the pooled buffers.
func (b *Backend) trim() {
	for n, l := range b.pool {
		for _, p := range l {
			b.dev.Free(p)
		}
		delete(b.pool, n)
	}
}

// buffer is one device copy of a host slice within an op.
type buffer struct {
	p     Ptr
	bytes int
	host  unsafe.Pointer
	back  bool // copy to the host when the op ends
}

// op is one backend call: the device buffers it uses, copied back and
// released by done. The first error sticks; later steps are skipped.
type op struct {
	b    *Backend
	name string
	bufs []buffer
	err  error
}

func (b *Backend) begin(name string) *op {
	b.mu.Lock()
	return &op{b: b, name: name}
}

func (o *op) fail(err error) {
	if o.err == nil && err != nil {
		o.err = err
	}
}

// buf makes a device buffer for n elements of size bytes at host; in
// copies the host data in, back copies the result out at the end.
func (o *op) buf(what string, host unsafe.Pointer, n, size int, in, back bool) Ptr {
	if o.err != nil {
		return 0
	}
	if n > maxElems {
		o.fail(fmt.Errorf("%s: %d elements exceed the kernels' int indexing (%d): %w", what, n, maxElems, ops.ErrNotImplemented))
		return 0
	}
	bytes := n * size
	p, err := o.b.alloc(bytes)
	if err != nil {
		o.fail(fmt.Errorf("allocating %.1f MiB on the GPU for %s: %w", float64(bytes)/(1<<20), what, err))
		return 0
	}
	o.bufs = append(o.bufs, buffer{p: p, bytes: bytes, host: host, back: back})
	if in && bytes > 0 {
		o.fail(o.b.dev.CopyIn(p, host, bytes))
	}
	return p
}

func f32p(s []float32) unsafe.Pointer {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Pointer(&s[0])
}

// in uploads t (nil: a null pointer).
func (o *op) in(what string, t *ops.Tensor) Ptr {
	if t == nil {
		return 0
	}
	return o.buf(what, f32p(t.Data), len(t.Data), 4, true, false)
}

// out allocates t's buffer, copied back at the end (every element must be
// written by the kernels).
func (o *op) out(what string, t *ops.Tensor) Ptr {
	if t == nil {
		return 0
	}
	return o.buf(what, f32p(t.Data), len(t.Data), 4, false, true)
}

// inout uploads t and copies it back at the end (accumulated gradients).
func (o *op) inout(what string, t *ops.Tensor) Ptr {
	if t == nil {
		return 0
	}
	return o.buf(what, f32p(t.Data), len(t.Data), 4, true, true)
}

// scratch is device memory of n float32 that stays on the device.
func (o *op) scratch(what string, n int) Ptr { return o.buf(what, nil, n, 4, false, false) }

func (o *op) i32(what string, s []int32, back bool) Ptr {
	var p unsafe.Pointer
	if len(s) > 0 {
		p = unsafe.Pointer(&s[0])
	}
	return o.buf(what, p, len(s), 4, !back, back)
}

func (o *op) s8(what string, s []int8, in, back bool) Ptr {
	var p unsafe.Pointer
	if len(s) > 0 {
		p = unsafe.Pointer(&s[0])
	}
	return o.buf(what, p, len(s), 1, in, back)
}

func blocks(n int) int { return (n + threads - 1) / threads }

// threads matches QP_THREADS in kernels/common.cuh.
const threads = 256

// launch1 runs a kernel with one thread per element of n.
func (o *op) launch1(kernel string, n int, args ...any) {
	if o.err != nil || n == 0 {
		return
	}
	o.launch(kernel, Dim3{blocks(n), 1, 1}, Dim3{threads, 1, 1}, args...)
}

func (o *op) launch(kernel string, grid, block Dim3, args ...any) {
	if o.err != nil {
		return
	}
	if err := o.b.dev.Launch(kernel, grid, block, args...); err != nil {
		o.fail(fmt.Errorf("kernel %s: %w", kernel, err))
	}
}

// done waits for the device, copies results back and returns the buffers
// to the pool.
func (o *op) done() error {
	defer o.b.mu.Unlock()
	if o.err == nil {
		o.fail(o.b.dev.Sync())
	}
	for _, bf := range o.bufs {
		if o.err == nil && bf.back && bf.bytes > 0 {
			o.fail(o.b.dev.CopyOut(bf.host, bf.p, bf.bytes))
		}
		o.b.release(bf.p, bf.bytes)
	}
	if o.err != nil {
		return fmt.Errorf("cuda %s: %w", o.name, o.err)
	}
	return nil
}

func i32(v int) int32 { return int32(v) }

func b32(v bool) int32 {
	if v {
		return 1
	}
	return 0
}

// errDims reports a shape of more axes than the kernels' parameter
// structs hold.
func errDims(what string, n int) error {
	return fmt.Errorf("%s with %d axes (the kernels take at most %d): %w", what, n, maxDims, ops.ErrNotImplemented)
}

// maxDims matches QP_MAXDIMS in kernels/common.cuh.
const maxDims = 8

// IsNotImplemented reports whether err says the backend lacks something.
func IsNotImplemented(err error) bool { return errors.Is(err, ops.ErrNotImplemented) }

func s8p(s []int8) unsafe.Pointer {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Pointer(&s[0])
}
