//go:build linux && amd64 && cgo

// Package emu runs qpipe's CUDA kernels (ops/cuda/kernels) on the host:
// the same CUDA C sources, compiled by the host C++ compiler with shim.h
// standing in for the CUDA built-ins. A launch runs the grid's blocks one
// after another and a block's threads as coroutines that switch at
// __syncthreads, so shared-memory tiling and barrier phases run as the
// CUDA model defines them. Device memory is host memory from malloc.
//
// It implements cuda.Device, so the cuda backend's Go side (argument
// layout, grid sizes, buffer handling) and its kernels' indexing run the
// ops/opstest conformance suite on any machine. It does not model what
// only a GPU shows: warp scheduling and memory ordering without barriers,
// the device's float rounding (FMA contraction, erff/expf ulps), timing,
// memory limits, the driver and the PTX JIT.
package emu

/*
#cgo CXXFLAGS: -std=c++17 -O2 -I${SRCDIR}
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include "emu.h"

static uintptr_t qp_alloc(size_t n) {
	void* p = malloc(n);
	if (p) memset(p, 0x7f, n); // not zero: kernels must not rely on fresh memory
	return (uintptr_t)p;
}
static void qp_free(uintptr_t p) { free((void*)p); }
static void qp_copy_in(uintptr_t dst, const void* src, size_t n) { memcpy((void*)dst, src, n); }
static void qp_copy_out(void* dst, uintptr_t src, size_t n) { memcpy(dst, (const void*)src, n); }
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/qpipe/qpipe/ops/cuda"
	"github.com/qpipe/qpipe/ops/cuda/kernels"
)

// Device is the host emulator. Launches are serialized (the kernels'
// shared memory is static storage).
type Device struct {
	mu sync.Mutex
}

var _ cuda.Device = (*Device)(nil)

// New returns an emulated device.
func New() *Device { return &Device{} }

// Name says what it is.
func (d *Device) Name() string { return "host emulation of the CUDA kernels" }

// Alloc returns host memory standing for device memory.
func (d *Device) Alloc(bytes int) (cuda.Ptr, error) {
	p := C.qp_alloc(C.size_t(max(bytes, 1)))
	if p == 0 {
		return 0, fmt.Errorf("emu: out of memory allocating %d bytes", bytes)
	}
	return cuda.Ptr(p), nil
}

// Free releases p.
func (d *Device) Free(p cuda.Ptr) { C.qp_free(C.uintptr_t(p)) }

// CopyIn copies host memory to the device.
func (d *Device) CopyIn(dst cuda.Ptr, src unsafe.Pointer, bytes int) error {
	if bytes > 0 {
		C.qp_copy_in(C.uintptr_t(dst), src, C.size_t(bytes))
	}
	return nil
}

// CopyOut copies device memory to the host.
func (d *Device) CopyOut(dst unsafe.Pointer, src cuda.Ptr, bytes int) error {
	if bytes > 0 {
		C.qp_copy_out(dst, C.uintptr_t(src), C.size_t(bytes))
	}
	return nil
}

// Sync has nothing to wait for: launches run to completion.
func (d *Device) Sync() error { return nil }

// Launch runs the kernel over the grid.
func (d *Device) Launch(kernel string, grid, block cuda.Dim3, args ...any) error {
	buf, offs, err := cuda.Args(args)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	mem := C.malloc(C.size_t(len(buf) + 8*len(offs) + 8))
	defer C.free(mem)
	vals := unsafe.Slice((*byte)(mem), len(buf))
	copy(vals, buf)
	ptrs := unsafe.Slice((*unsafe.Pointer)(unsafe.Add(mem, (len(buf)+7)/8*8)), len(offs))
	for i, o := range offs {
		ptrs[i] = unsafe.Add(mem, o)
	}
	name := C.CString(kernel)
	defer C.free(unsafe.Pointer(name))
	var argv *unsafe.Pointer
	if len(ptrs) > 0 {
		argv = &ptrs[0]
	}
	switch C.qp_emu_launch(name, C.uint(grid[0]), C.uint(grid[1]), C.uint(grid[2]), C.uint(block[0]), C.uint(block[1]), C.uint(block[2]), argv) {
	case C.QP_EMU_UNKNOWN:
		return fmt.Errorf("emu: no kernel %s", kernel)
	case C.QP_EMU_BARRIER:
		return fmt.Errorf("emu: kernel %s calls __syncthreads but is registered as barrier-free in emu.cc (use KS)", kernel)
	}
	return nil
}

// Missing lists the kernels of the committed PTX that the emulator does
// not register.
func Missing() []string {
	var out []string
	for _, e := range kernels.Entries(kernels.PTX()) {
		n := C.CString(e)
		if C.qp_emu_has(n) == 0 {
			out = append(out, e)
		}
		C.free(unsafe.Pointer(n))
	}
	return out
}
