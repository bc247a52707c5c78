package onnx

import (
	"fmt"
	"math"

	"github.com/qpipe/qpipe/ops"
)

// konst is a tensor whose value is known at import time: an initializer,
// a Constant node, or the folded result of ops whose inputs are all
// known (the Shape/Gather/Unsqueeze/Concat chains PyTorch emits in front
// of Reshape). Values are held as float64, which represents every float32
// and every integer a shape computation produces exactly; isInt marks
// integer and boolean tensors, whose Div truncates.
type konst struct {
	shape []int
	data  []float64
	isInt bool
	// perBatch marks a constant that Expand broadcast along a leading
	// dimension equal to the probe batch (a class token expanded to the
	// batch): it becomes expand_batch where it meets computed tensors.
	perBatch bool
}

func scalarKonst(v float64, isInt bool) *konst {
	return &konst{shape: []int{}, data: []float64{v}, isInt: isInt}
}

func (k *konst) numel() int { return len(k.data) }

// ints returns the values as ints, clamping the huge sentinels (INT64_MAX)
// that Slice uses for "to the end".
func (k *konst) ints() []int {
	out := make([]int, len(k.data))
	for i, v := range k.data {
		switch {
		case v > math.MaxInt32:
			out[i] = math.MaxInt32
		case v < math.MinInt32:
			out[i] = math.MinInt32
		default:
			out[i] = int(v)
		}
	}
	return out
}

// tensor returns the value as a float32 qpipe tensor.
func (k *konst) tensor() *ops.Tensor {
	t := ops.New(k.shape...)
	for i, v := range k.data {
		t.Data[i] = float32(v)
	}
	return t
}

func konstFromTensor(t *ops.Tensor) *konst {
	k := &konst{shape: append([]int{}, t.Shape...), data: make([]float64, len(t.Data))}
	for i, v := range t.Data {
		k.data[i] = float64(v)
	}
	return k
}

// normAxis maps a possibly negative axis into [0, rank).
func normAxis(axis, rank int) (int, error) {
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return axis, nil
}

// broadcastK applies f elementwise with numpy broadcasting.
func broadcastK(a, b *konst, f func(x, y float64) float64) (*konst, error) {
	shape, ok := ops.BroadcastShape(a.shape, b.shape)
	if !ok {
		return nil, fmt.Errorf("shapes %v and %v do not broadcast", a.shape, b.shape)
	}
	out := &konst{shape: shape, data: make([]float64, ops.Numel(shape)), isInt: a.isInt && b.isInt}
	os := ops.Strides(shape)
	sa, sb := ops.Strides(a.shape), ops.Strides(b.shape)
	idx := func(k *konst, flat int) int {
		ks := sb
		if k == a {
			ks = sa
		}
		off := len(shape) - len(k.shape)
		j := 0
		for d := range k.shape {
			c := (flat / os[d+off]) % shape[d+off]
			if k.shape[d] != 1 {
				j += c * ks[d]
			}
		}
		return j
	}
	for i := range out.data {
		out.data[i] = f(a.data[idx(a, i)], b.data[idx(b, i)])
	}
	return out, nil
}

// gatherK takes indices along axis (numpy.take).
func gatherK(x, ind *konst, axis int) (*konst, error) {
	axis, err := normAxis(axis, len(x.shape))
	if err != nil {
		return nil, err
	}
	outer := ops.Numel(x.shape[:axis])
	dim := x.shape[axis]
	inner := ops.Numel(x.shape[axis+1:])
	shape := append(append(append([]int{}, x.shape[:axis]...), ind.shape...), x.shape[axis+1:]...)
	out := &konst{shape: shape, isInt: x.isInt}
	for o := range outer {
		for _, iv := range ind.data {
			i := int(iv)
			if i < 0 {
				i += dim
			}
			if i < 0 || i >= dim {
				return nil, fmt.Errorf("index %d out of range for axis of size %d", int(iv), dim)
			}
			base := (o*dim + i) * inner
			out.data = append(out.data, x.data[base:base+inner]...)
		}
	}
	return out, nil
}

// concatK joins along axis.
func concatK(xs []*konst, axis int) (*konst, error) {
	rank := len(xs[0].shape)
	axis, err := normAxis(axis, rank)
	if err != nil {
		return nil, err
	}
	shape := append([]int{}, xs[0].shape...)
	shape[axis] = 0
	for _, x := range xs {
		if len(x.shape) != rank {
			return nil, fmt.Errorf("concat of ranks %d and %d", rank, len(x.shape))
		}
		shape[axis] += x.shape[axis]
	}
	out := &konst{shape: shape, isInt: xs[0].isInt}
	outer := ops.Numel(shape[:axis])
	for o := range outer {
		for _, x := range xs {
			n := ops.Numel(x.shape[axis:])
			out.data = append(out.data, x.data[o*n:(o+1)*n]...)
		}
	}
	return out, nil
}

// sliceK slices one axis with start, end, step (already clamped, step > 0
// or < 0 as in ONNX).
func sliceK(x *konst, axis, start, end, step int) *konst {
	shape := append([]int{}, x.shape...)
	var idx []int
	for i := start; (step > 0 && i < end) || (step < 0 && i > end); i += step {
		idx = append(idx, i)
	}
	shape[axis] = len(idx)
	outer := ops.Numel(x.shape[:axis])
	inner := ops.Numel(x.shape[axis+1:])
	out := &konst{shape: shape, isInt: x.isInt}
	for o := range outer {
		for _, i := range idx {
			base := (o*x.shape[axis] + i) * inner
			out.data = append(out.data, x.data[base:base+inner]...)
		}
	}
	return out
}

// transposeK permutes axes.
func transposeK(x *konst, perm []int) *konst {
	if len(perm) == 2 && perm[0] == 1 && perm[1] == 0 {
		r, c := x.shape[0], x.shape[1]
		out := &konst{shape: []int{c, r}, data: make([]float64, len(x.data)), isInt: x.isInt}
		for i := range r {
			for j, v := range x.data[i*c : (i+1)*c] {
				out.data[j*r+i] = v
			}
		}
		return out
	}
	shape := make([]int, len(perm))
	for i, p := range perm {
		shape[i] = x.shape[p]
	}
	out := &konst{shape: shape, data: make([]float64, len(x.data)), isInt: x.isInt}
	xs, os := ops.Strides(x.shape), ops.Strides(shape)
	for i := range out.data {
		src := 0
		for d, p := range perm {
			src += ((i / os[d]) % shape[d]) * xs[p]
		}
		out.data[i] = x.data[src]
	}
	return out
}

// expandK broadcasts x to shape (ONNX Expand: the result is the
// broadcast of both).
func expandK(x *konst, shape []int) (*konst, error) {
	zero := &konst{shape: shape, data: make([]float64, ops.Numel(shape)), isInt: x.isInt}
	return broadcastK(x, zero, func(a, _ float64) float64 { return a })
}

// sliceBounds clamps ONNX Slice start/end for a dimension of size dim as
// the operator's reference does.
func sliceBounds(start, end, step, dim int) (int, int) {
	if start < 0 {
		start += dim
	}
	if end < 0 {
		end += dim
	}
	if step > 0 {
		start = min(max(start, 0), dim)
		end = min(max(end, 0), dim)
	} else {
		start = min(max(start, 0), dim-1)
		end = min(max(end, -1), dim-1)
	}
	return start, end
}

// matmulK multiplies constants as numpy.matmul does for ranks ≥ 2 with
// equal leading (batch) dimensions or one side 2-D.
func matmulK(a, b *konst) (*konst, error) {
	ra, rb := len(a.shape), len(b.shape)
	if ra < 2 || rb < 2 || a.shape[ra-1] != b.shape[rb-2] {
		return nil, fmt.Errorf("MatMul of constants %v and %v is not supported", a.shape, b.shape)
	}
	m, k, n := a.shape[ra-2], a.shape[ra-1], b.shape[rb-1]
	ba, bb := ops.Numel(a.shape[:ra-2]), ops.Numel(b.shape[:rb-2])
	lead := a.shape[:ra-2]
	if bb > ba {
		lead = b.shape[:rb-2]
	}
	if ba != bb && ba != 1 && bb != 1 {
		return nil, fmt.Errorf("MatMul of constants %v and %v: batch dimensions differ", a.shape, b.shape)
	}
	batch := max(ba, bb)
	out := &konst{shape: append(append([]int{}, lead...), m, n), data: make([]float64, batch*m*n)}
	for z := range batch {
		ao, bo := (z%ba)*m*k, (z%bb)*k*n
		for i := range m {
			for p := range k {
				av := a.data[ao+i*k+p]
				row := b.data[bo+p*n : bo+(p+1)*n]
				dst := out.data[(z*m+i)*n : (z*m+i+1)*n]
				for j, bv := range row {
					dst[j] += av * bv
				}
			}
		}
	}
	return out, nil
}

// linearK computes x·wᵀ + b on constants (w given as (out, in)).
func linearK(x, w, b *konst) (*value, error) {
	k, err := matmulK(x, transposeK(w, []int{1, 0}))
	if err != nil {
		return nil, err
	}
	if b != nil {
		if k, err = broadcastK(k, &konst{shape: []int{b.numel()}, data: b.data}, func(p, q float64) float64 { return p + q }); err != nil {
			return nil, err
		}
	}
	return &value{k: k}, nil
}
