package ops

import (
	"fmt"
	"math"
	"strings"

	"github.com/qpipe/qpipe/internal/bounded"
)

// Tensor is a dense, row-major float32 array: the value every primitive
// reads and writes. Shape and Data are exported so kernels and loaders can
// work on the backing slice directly; len(Data) always equals the product of
// Shape (a scalar has an empty Shape and one element).
//
// A Tensor also carries the autodiff bookkeeping of a define-by-run tape: a
// gradient buffer and whether gradients flow into it. Tensors made by a
// Context live in that Context's arena and are recycled by Context.Reset;
// Clone what must outlive a step.
type Tensor struct {
	Shape []int
	Data  []float32

	grad         *Tensor
	requiresGrad bool
	leaf         bool // not produced by a recorded op: grads persist (params, inputs)

	q      []int8  // int8 activation (Data nil), see Int8
	qscale float32 // its scale
	qnhwc  bool    // q is channel-last (N, H, W, C) for an NCHW Shape
	qflat  int     // with qnhwc and a (N, C·H·W) Shape: C (a flatten of channel-last codes)
	fnhwc  bool    // Data is channel-last (N, H, W, C) for an NCHW Shape (a qconv2d output only int8 adds read)

	frozen bool // a frozen model's private parameter (see Freeze and Frozen)
}

// New returns a zero tensor of the given shape. A shape whose size
// overflows or exceeds the memory budget (package internal/bounded) panics
// with a *bounded.TooLargeError, which Guard turns into that error.
func New(shape ...int) *Tensor {
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, mustElems(shape)), leaf: true}
}

// mustElems is the element count of shape, checked against overflow and
// the memory budget; it panics with the error (see Guard) when refused.
func mustElems(shape []int) int {
	n, err := bounded.Elems("tensor", shape, 4)
	if err != nil {
		panic(err)
	}
	return n
}

// Scalar returns a 0-d tensor holding v.
func Scalar(v float32) *Tensor { return &Tensor{Shape: []int{}, Data: []float32{v}, leaf: true} }

// FromData wraps data (not copied) with the given shape.
func FromData(data []float32, shape ...int) (*Tensor, error) {
	if n := Numel(shape); n != len(data) || !validShape(shape) {
		return nil, fmt.Errorf("ops: %d values cannot have shape %v (%d elements)", len(data), shape, n)
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data, leaf: true}, nil
}

// MustFromData is FromData for literals in tests and model code; it panics
// on a size mismatch.
func MustFromData(data []float32, shape ...int) *Tensor {
	t, err := FromData(data, shape...)
	if err != nil {
		panic(err)
	}
	return t
}

// Numel is the number of elements of a shape (1 for a scalar).
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func validShape(shape []int) bool {
	for _, d := range shape {
		if d < 0 {
			return false
		}
	}
	return true
}

// Numel is the number of elements.
func (t *Tensor) Numel() int {
	if t.q != nil {
		return len(t.q)
	}
	return len(t.Data)
}

// Dims is the rank.
func (t *Tensor) Dims() int { return len(t.Shape) }

// Dim returns the size of axis i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.Shape)
	}
	return t.Shape[i]
}

// Item returns the single value of a one-element tensor.
func (t *Tensor) Item() float32 {
	if len(t.Data) != 1 {
		panic(fmt.Sprintf("ops: Item on tensor of shape %v", t.Shape))
	}
	return t.Data[0]
}

// Grad returns the accumulated gradient, or nil when none flowed here.
func (t *Tensor) Grad() *Tensor { return t.grad }

// ZeroGrad clears the gradient buffer, keeping its storage.
func (t *Tensor) ZeroGrad() {
	if t.grad != nil {
		clear(t.grad.Data)
	}
}

// RequiresGrad reports whether backward passes accumulate into t.
func (t *Tensor) RequiresGrad() bool { return t.requiresGrad }

// SetRequiresGrad marks a leaf tensor (an input, a parameter) as one whose
// gradient Backward computes, e.g. the images of an adversarial attack.
func (t *Tensor) SetRequiresGrad(on bool) *Tensor {
	t.requiresGrad = on
	return t
}

// Clone returns a detached deep copy that owns its storage.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...), leaf: true, fnhwc: t.fnhwc}
	if t.q != nil {
		c.q, c.qscale, c.qnhwc, c.qflat = append([]int8(nil), t.q...), t.qscale, t.qnhwc, t.qflat
	}
	return c
}

// Frozen reports whether t is a parameter of a frozen model (Freeze): a
// tensor nothing outside the frozen model can reach, whose values never
// change while it lives. A backend may keep layouts derived from it (a
// Winograd transform) without comparing its values on each use. Only
// Freeze sets it; copies (Clone) and views do not carry it.
func (t *Tensor) Frozen() bool { return t.frozen }

// Detach returns a tensor sharing t's data that no gradient flows through.
func (t *Tensor) Detach() *Tensor {
	return &Tensor{Shape: t.Shape, Data: t.Data, leaf: true}
}

// CopyFrom copies src's values into t; shapes must have equal sizes.
func (t *Tensor) CopyFrom(src *Tensor) error {
	if len(src.Data) != len(t.Data) {
		return fmt.Errorf("ops: copy %v into %v: sizes differ", src.Shape, t.Shape)
	}
	copy(t.Data, src.Data)
	return nil
}

// SameShape reports whether a and b have identical shapes.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// String prints the shape and the first few values.
func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor%v[", t.Shape)
	for i, v := range t.Data {
		if i == 8 {
			b.WriteString(" ...")
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.4g", v)
	}
	b.WriteByte(']')
	return b.String()
}

// HasNaN reports whether any value is NaN or infinite.
func (t *Tensor) HasNaN() bool {
	for _, v := range t.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return true
		}
	}
	return false
}

// Argmax returns, for each row of a (rows, classes) tensor, the index of its
// largest value: predicted classes from logits.
func Argmax(t *Tensor) []int {
	if len(t.Shape) == 0 {
		return []int{0}
	}
	k := t.Shape[len(t.Shape)-1]
	rows := len(t.Data) / max(k, 1)
	out := make([]int, rows)
	for r := range rows {
		row := t.Data[r*k : (r+1)*k]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		out[r] = best
	}
	return out
}
