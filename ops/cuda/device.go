package cuda

import (
	"fmt"
	"reflect"
	"unsafe"
)

// Ptr is a device address.
type Ptr uintptr

// Add offsets p by n bytes.
func (p Ptr) Add(n int) Ptr { return p + Ptr(n) }

// Dim3 is a launch geometry (x, y, z).
type Dim3 [3]int

// Device is what the backend needs of a GPU: memory, copies, kernel
// launches on one stream, in order. The real one runs on gorgonia.org/cu
// (driver_cu.go, under the cuda build tag); ops/cuda/emu runs the same
// kernels on the host for tests.
type Device interface {
	// Name describes the device ("NVIDIA H100 80GB HBM3, sm_90").
	Name() string
	Alloc(bytes int) (Ptr, error)
	Free(p Ptr)
	CopyIn(dst Ptr, src unsafe.Pointer, bytes int) error
	CopyOut(dst unsafe.Pointer, src Ptr, bytes int) error
	// Launch runs the named kernel of ops/cuda/kernels; each argument is
	// the value of one kernel parameter (Args lays them out).
	Launch(kernel string, grid, block Dim3, args ...any) error
	// Sync waits for the launches and copies issued so far.
	Sync() error
}

// Args lays out kernel parameter values as the driver's launch call takes
// them: each value's bytes at an 8-byte aligned offset of one buffer.
// Values are int32, int64, float32, Ptr or a struct of such fields and
// arrays (the kernels' parameter structs); anything holding a Go pointer
// is refused.
func Args(args []any) (buf []byte, offsets []int, err error) {
	for i, a := range args {
		v := reflect.ValueOf(a)
		if !plain(v.Type()) {
			return nil, nil, fmt.Errorf("cuda: kernel argument %d has type %s, which a kernel cannot take", i, v.Type())
		}
		p := reflect.New(v.Type())
		p.Elem().Set(v)
		b := unsafe.Slice((*byte)(p.UnsafePointer()), v.Type().Size())
		for len(buf)%8 != 0 {
			buf = append(buf, 0)
		}
		offsets = append(offsets, len(buf))
		buf = append(buf, b...)
	}
	return buf, offsets, nil
}

func plain(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int32, reflect.Int64, reflect.Float32, reflect.Uintptr:
		return true
	case reflect.Array:
		return plain(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !plain(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}
