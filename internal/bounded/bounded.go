// Package bounded reads files that come from elsewhere — ONNX models and
// their external data, safetensors checkpoints, IDX, npy and CIFAR
// datasets, images, project files — without trusting the sizes they
// declare.
//
// Every loader goes through the same three checks before it allocates:
//
//  1. the product of declared dimensions is computed with overflow checks
//     (Numel), so 2^32 × 2^32 is an error, not a wrapped-around small count;
//  2. a declared size is compared with the bytes the file actually holds
//     (ReadFile, Section, ReadN), so a 100-byte file cannot ask for a
//     terabyte;
//  3. what is left is compared with the memory budget (Check), so a real
//     but too-large input gets an error that names it and says how to raise
//     the budget, instead of the runtime's fatal "out of memory".
//
// The budget defaults to half of the machine's physical memory; the
// QPIPE_MAX_MEMORY environment variable or `qpipe --max-memory SIZE` sets
// it (SetBudget). Sizes are written like 512MB, 8GiB or 1000000 (bytes).
package bounded

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"os"
	"sync/atomic"
)

// EnvVar names the environment variable that sets the memory budget.
const EnvVar = "QPIPE_MAX_MEMORY"

// ErrTooLarge is wrapped by every error that refuses an allocation over the
// budget or a size the file cannot hold; test for it with errors.Is.
var ErrTooLarge = errors.New("too large")

var budget atomic.Int64

func init() {
	budget.Store(defaultBudget())
	if s := os.Getenv(EnvVar); s != "" {
		if n, err := ParseSize(s); err == nil && n > 0 {
			budget.Store(n)
		}
	}
}

// defaultBudget is half of physical memory, or 8 GiB where that is unknown.
func defaultBudget() int64 {
	if m := physicalMemory(); m > 0 {
		return m / 2
	}
	return 8 << 30
}

// Budget returns the memory budget in bytes: the most one loaded object
// (a tensor, a dataset, a file) may take.
func Budget() int64 { return budget.Load() }

// SetBudget sets the memory budget in bytes and returns the previous one;
// n <= 0 restores the default.
func SetBudget(n int64) int64 {
	if n <= 0 {
		n = defaultBudget()
	}
	return budget.Swap(n)
}

// TooLargeError says what was refused, how many bytes it needed and the
// limit it exceeded.
type TooLargeError struct {
	What  string // e.g. `tensor "fc1.weight" [1048576 1048576] float32`
	Need  int64  // bytes needed; -1 when the size overflows int64
	Limit int64  // the budget, or the bytes the file holds
	File  bool   // Limit is what the file holds, not the budget
}

func (e *TooLargeError) Error() string {
	need := FormatSize(e.Need)
	if e.Need < 0 {
		need = "more than 8 EiB (the size overflows)"
	}
	if e.File {
		return fmt.Sprintf("%s needs %s but the file holds only %s (truncated or crafted file)", e.What, need, FormatSize(e.Limit))
	}
	return fmt.Sprintf("%s needs %s, more than the memory budget of %s (raise it with --max-memory SIZE or %s=SIZE if the machine has the memory)",
		e.What, need, FormatSize(e.Limit), EnvVar)
}

func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

// Check refuses need bytes for what when they exceed the budget.
func Check(what string, need int64) error {
	if lim := Budget(); need < 0 || need > lim {
		return &TooLargeError{What: what, Need: need, Limit: lim}
	}
	return nil
}

// Int is any integer type a file format declares dimensions in.
type Int interface {
	~int | ~int32 | ~int64 | ~uint32 | ~uint64
}

// Numel returns the product of dims, or an error when a dimension is
// negative or the product overflows int (and so could not be allocated).
func Numel[T Int](dims []T) (int, error) {
	var n uint64 = 1
	for i, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("dimension %d is negative (%d)", i, int64(d))
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt {
			return 0, fmt.Errorf("dimensions %v: %w: their product overflows", dims, ErrTooLarge)
		}
		n = lo
	}
	return int(n), nil
}

// Bytes returns n*elem, or -1 when it overflows int64.
func Bytes(n, elem int) int64 {
	hi, lo := bits.Mul64(uint64(n), uint64(elem))
	if n < 0 || elem < 0 || hi != 0 || lo > math.MaxInt64 {
		return -1
	}
	return int64(lo)
}

// Elems checks dims for an array of elem-byte values named what: product
// without overflow, bytes within the budget. It returns the element count.
func Elems[T Int](what string, dims []T, elem int) (int, error) {
	n, err := Numel(dims)
	if err != nil {
		return 0, &TooLargeError{What: fmt.Sprintf("%s %v", what, dims), Need: -1, Limit: Budget()}
	}
	// The name is formatted only for a refusal: ops.New calls this for
	// every tensor, in the training step's inner loop.
	if need := Bytes(n, elem); need < 0 || need > Budget() {
		return 0, Check(fmt.Sprintf("%s %v", what, dims), need)
	}
	return n, nil
}
