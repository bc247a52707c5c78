//go:build cuda

package cuda

/*
#cgo LDFLAGS: -lcuda -ldl
#include <stdint.h>
#include <stdlib.h>
#include <cuda.h>

extern int qpipeCuInitResult;

static int qp_launch(uintptr_t fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, void** args) {
	return (int)cuLaunchKernel((CUfunction)fn, gx, gy, gz, bx, by, bz, 0, NULL, args, NULL);
}

static const char* qp_error_name(int r) {
	const char* s = NULL;
	if (cuGetErrorName((CUresult)r, &s) != CUDA_SUCCESS || s == NULL) return "unknown CUDA error";
	return s;
}

static const char* qp_error_string(int r) {
	const char* s = NULL;
	if (cuGetErrorString((CUresult)r, &s) != CUDA_SUCCESS || s == NULL) return "";
	return s;
}
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"unsafe"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cuda/kernels"
	"gorgonia.org/cu"
)

func init() {
	ops.RegisterBackend("cuda", func() (ops.Backend, error) {
		d, err := sharedDevice()
		if err != nil {
			return nil, err
		}
		return New(d), nil
	})
}

// cu.Function wraps the driver's CUfunction handle in an unexported
// field; the launch below needs the handle (cu's own Launch passes each
// parameter as 8 bytes, and the kernels take structs by value).
var _ [unsafe.Sizeof(cu.Function{}) - unsafe.Sizeof(uintptr(0))]struct{}

// driverError names a CUresult.
func driverError(call string, r int) error {
	return fmt.Errorf("%s: %s (%s)", call, C.GoString(C.qp_error_name(C.int(r))), C.GoString(C.qp_error_string(C.int(r))))
}

// Probe reports whether the driver initialized: nil, or an error that says
// why there is no usable GPU and what to do.
func Probe() error {
	switch r := int(C.qpipeCuInitResult); r {
	case 0:
		return nil
	case -1:
		return fmt.Errorf("cuda: the CUDA driver was not initialized (cuInit was never called)")
	case -2:
		return fmt.Errorf("cuda: libcuda has no cuInit: the NVIDIA driver library is broken; run with --device cpu")
	default:
		return fmt.Errorf("cuda: no usable GPU: %w; this binary was built with -tags cuda and needs an NVIDIA GPU and driver: run with --device cpu here, or use the default build (go build ./cmd/qpipe)",
			driverError("cuInit", r))
	}
}

var sharedDevice = sync.OnceValues(func() (*cuDevice, error) {
	if err := Probe(); err != nil {
		return nil, err
	}
	ord := 0
	if s := os.Getenv("QPIPE_CUDA_DEVICE"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("cuda: QPIPE_CUDA_DEVICE=%q is not a device number", s)
		}
		ord = v
	}
	return openDevice(ord)
})

// cuDevice runs every driver call on one goroutine locked to an OS
// thread, where its context is current.
type cuDevice struct {
	name string
	work chan func()
	mod  cu.Module
	fns  map[string]uintptr
}

var _ Device = (*cuDevice)(nil)

func openDevice(ord int) (*cuDevice, error) {
	d := &cuDevice{work: make(chan func()), fns: map[string]uintptr{}}
	errc := make(chan error)
	go func() {
		runtime.LockOSThread()
		err := d.setup(ord)
		errc <- err
		if err != nil {
			return
		}
		for f := range d.work {
			f()
		}
	}()
	if err := <-errc; err != nil {
		return nil, err
	}
	return d, nil
}

// setup makes a context on device ord and loads the PTX module (the
// driver JIT-compiles it for the GPU).
func (d *cuDevice) setup(ord int) error {
	n, err := cu.NumDevices()
	if err != nil {
		return fmt.Errorf("cuda: counting devices: %w", err)
	}
	if ord < 0 || ord >= n {
		return fmt.Errorf("cuda: device %d requested, this machine has %d (set QPIPE_CUDA_DEVICE)", ord, n)
	}
	dev, err := cu.GetDevice(ord)
	if err != nil {
		return fmt.Errorf("cuda: device %d: %w", ord, err)
	}
	name, _ := dev.Name()
	major, minor, err := dev.ComputeCapability()
	if err != nil {
		return fmt.Errorf("cuda: %s: compute capability: %w", name, err)
	}
	d.name = fmt.Sprintf("%s, sm_%d%d", name, major, minor)
	if major < 8 {
		return fmt.Errorf("cuda: %s: the kernels are PTX for compute_80 (Ampere) and newer; run with --device cpu", d.name)
	}
	if _, err := dev.MakeContext(cu.SchedAuto); err != nil {
		return fmt.Errorf("cuda: %s: creating a context: %w", d.name, err)
	}
	if d.mod, err = cu.LoadData(kernels.PTX()); err != nil {
		return fmt.Errorf("cuda: %s: loading the kernels' PTX (the driver JIT-compiles it; a driver older than CUDA 11.8 cannot): %w", d.name, err)
	}
	return nil
}

// do runs f on the device's thread.
func (d *cuDevice) do(f func() error) error {
	done := make(chan error, 1)
	d.work <- func() { done <- f() }
	return <-done
}

func (d *cuDevice) Name() string { return d.name }

func (d *cuDevice) Alloc(bytes int) (Ptr, error) {
	var p cu.DevicePtr
	err := d.do(func() (err error) {
		p, err = cu.MemAlloc(int64(max(bytes, 1)))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("cuMemAlloc(%d bytes): %w", bytes, err)
	}
	return Ptr(p), nil
}

func (d *cuDevice) Free(p Ptr) {
	d.do(func() error { return cu.MemFree(cu.DevicePtr(p)) })
}

func (d *cuDevice) CopyIn(dst Ptr, src unsafe.Pointer, bytes int) error {
	return d.do(func() error { return cu.MemcpyHtoD(cu.DevicePtr(dst), src, int64(bytes)) })
}

func (d *cuDevice) CopyOut(dst unsafe.Pointer, src Ptr, bytes int) error {
	return d.do(func() error { return cu.MemcpyDtoH(dst, cu.DevicePtr(src), int64(bytes)) })
}

func (d *cuDevice) Sync() error {
	return d.do(func() error {
		if err := cu.Synchronize(); err != nil {
			return fmt.Errorf("a kernel failed: %w", err)
		}
		return nil
	})
}

// function looks a kernel up once.
func (d *cuDevice) function(name string) (uintptr, error) {
	if f, ok := d.fns[name]; ok {
		return f, nil
	}
	fn, err := d.mod.Function(name)
	if err != nil {
		return 0, fmt.Errorf("the PTX has no kernel %s: %w", name, err)
	}
	h := *(*uintptr)(unsafe.Pointer(&fn))
	d.fns[name] = h
	return h, nil
}

func (d *cuDevice) Launch(kernel string, grid, block Dim3, args ...any) error {
	buf, offs, err := Args(args)
	if err != nil {
		return err
	}
	return d.do(func() error {
		fn, err := d.function(kernel)
		if err != nil {
			return err
		}
		mem := C.malloc(C.size_t(len(buf) + 8*len(offs) + 8))
		defer C.free(mem)
		copy(unsafe.Slice((*byte)(mem), len(buf)), buf)
		ptrs := unsafe.Slice((*unsafe.Pointer)(unsafe.Add(mem, (len(buf)+7)/8*8)), len(offs))
		for i, o := range offs {
			ptrs[i] = unsafe.Add(mem, o)
		}
		var argv *unsafe.Pointer
		if len(ptrs) > 0 {
			argv = &ptrs[0]
		}
		if r := C.qp_launch(C.uintptr_t(fn), C.uint(grid[0]), C.uint(grid[1]), C.uint(grid[2]), C.uint(block[0]), C.uint(block[1]), C.uint(block[2]), argv); r != 0 {
			return driverError("cuLaunchKernel", int(r))
		}
		return nil
	})
}
