package cuda

import (
	"fmt"

	"github.com/qpipe/qpipe/ops"
)

// shapeArg is kernels/common.cuh's Shape.
type shapeArg struct {
	ND     int32
	Dim    [maxDims]int32
	SA, SB [maxDims]int32
}

// reduceArg is kernels/elementwise.cu's Reduce.
type reduceArg struct {
	NKeep          int32
	KDim, KStride  [maxDims]int32
	NRed           int32
	RDim, RStrides [maxDims]int32
}

// Gemm runs gemm_f32, the batch in grid.z (chunks of 65535).
func (b *Backend) Gemm(p ops.GemmParams, a, bm, c *ops.Tensor) error {
	o := b.begin("gemm")
	pa, pb, pc := o.in("A", a), o.in("B", bm), o.inout("C", c)
	o.gemm(p, pa, pb, pc)
	return o.done()
}

// gemm launches gemm_f32 on device buffers.
func (o *op) gemm(p ops.GemmParams, a, bm, c Ptr) {
	const tile, maxZ = 64, 65535
	for b0 := 0; b0 < p.Batch; b0 += maxZ {
		nb := min(maxZ, p.Batch-b0)
		o.launch("gemm_f32", Dim3{(p.N + tile - 1) / tile, (p.M + tile - 1) / tile, nb}, Dim3{threads, 1, 1},
			a.Add(4*b0*p.StrideA), bm.Add(4*b0*p.StrideB), c.Add(4*b0*p.StrideC), i32(p.M), i32(p.N), i32(p.K),
			b32(p.TransA), b32(p.TransB), int64(p.StrideA), int64(p.StrideB), int64(p.StrideC), p.Alpha, p.Beta)
	}
}

// Unary runs unary_f32.
func (b *Backend) Unary(op ops.UnaryOp, x, y *ops.Tensor) error {
	if op < 0 || op > ops.UnaryRecip {
		return fmt.Errorf("unary %v: %w", op, ops.ErrNotImplemented)
	}
	o := b.begin("unary " + op.String())
	px, py := o.in("x", x), o.out("y", y)
	o.launch1("unary_f32", len(y.Data), i32(int(op)), px, py, i32(len(y.Data)))
	return o.done()
}

// UnaryBackward runs unary_bwd_f32.
func (b *Backend) UnaryBackward(op ops.UnaryOp, x, y, dy, dx *ops.Tensor) error {
	if op < 0 || op > ops.UnaryRecip {
		return fmt.Errorf("unary %v backward: %w", op, ops.ErrNotImplemented)
	}
	o := b.begin("unary " + op.String() + " backward")
	px, pdy, pdx := o.in("x", x), o.in("dy", dy), o.inout("dx", dx)
	py := px
	if y != nil {
		py = o.in("y", y)
	}
	o.launch1("unary_bwd_f32", len(dx.Data), i32(int(op)), px, py, pdy, pdx, i32(len(dx.Data)))
	return o.done()
}

// broadcastStrides returns the element strides of shape aligned to out's
// trailing axes, 0 along broadcast axes.
func broadcastStrides(shape, out []int) []int32 {
	st := make([]int32, len(out))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		j := len(out) - len(shape) + i
		if shape[i] != 1 {
			st[j] = int32(s)
		}
		s *= shape[i]
	}
	return st
}

// Binary runs binary_f32 over y's shape.
func (b *Backend) Binary(op ops.BinaryOp, a, bt, y *ops.Tensor) error {
	if len(y.Shape) > maxDims {
		return errDims("binary "+op.String(), len(y.Shape))
	}
	s := shapeArg{ND: int32(len(y.Shape))}
	sa, sb := broadcastStrides(a.Shape, y.Shape), broadcastStrides(bt.Shape, y.Shape)
	for i, d := range y.Shape {
		s.Dim[i], s.SA[i], s.SB[i] = int32(d), sa[i], sb[i]
	}
	o := b.begin("binary " + op.String())
	pa, pb, py := o.in("a", a), o.in("b", bt), o.out("y", y)
	o.launch1("binary_f32", len(y.Data), i32(int(op)), pa, pb, py, s, i32(len(y.Data)))
	return o.done()
}

// Affine runs affine_f32.
func (b *Backend) Affine(x, y *ops.Tensor, mul, add float32) error {
	o := b.begin("affine")
	px, py := o.in("x", x), o.out("y", y)
	o.launch1("affine_f32", len(y.Data), px, py, i32(len(y.Data)), mul, add)
	return o.done()
}

// SumTo runs axpby_f32 for equal shapes and sumto_f32 (one block per
// output) otherwise.
func (b *Backend) SumTo(x, y *ops.Tensor, alpha, beta float32) error {
	o := b.begin("sum")
	px := o.in("x", x)
	var py Ptr
	if beta != 0 {
		py = o.inout("y", y)
	} else {
		py = o.out("y", y)
	}
	o.sumTo(x.Shape, y.Shape, px, py, alpha, beta)
	return o.done()
}

// sumTo reduces a device x of shape xs onto y of shape ys.
func (o *op) sumTo(xs, ys []int, px, py Ptr, alpha, beta float32) {
	n := ops.Numel(ys)
	if ops.Numel(xs) == n {
		o.launch1("axpby_f32", n, px, py, i32(n), alpha, beta)
		return
	}
	if len(xs) > maxDims {
		o.fail(errDims("sum", len(xs)))
		return
	}
	var r reduceArg
	total, stride := 1, 1
	for i := len(xs) - 1; i >= 0; i-- {
		j := i - (len(xs) - len(ys))
		keep := j >= 0 && ys[j] == xs[i]
		if keep {
			r.KDim[r.NKeep], r.KStride[r.NKeep] = int32(xs[i]), int32(stride)
			r.NKeep++
		} else {
			r.RDim[r.NRed], r.RStrides[r.NRed] = int32(xs[i]), int32(stride)
			r.NRed++
			total *= xs[i]
		}
		stride *= xs[i]
	}
	reverse(r.KDim[:r.NKeep], r.KStride[:r.NKeep])
	reverse(r.RDim[:r.NRed], r.RStrides[:r.NRed])
	if n == 0 {
		return
	}
	o.launch("sumto_f32", Dim3{n, 1, 1}, Dim3{threads, 1, 1}, px, py, r, i32(total), alpha, beta)
}

func reverse(a, b []int32) {
	for i, j := 0, len(a)-1; i < j; i, j = i+1, j-1 {
		a[i], a[j] = a[j], a[i]
		b[i], b[j] = b[j], b[i]
	}
}

// Softmax runs softmax_f32, one thread per line.
func (b *Backend) Softmax(p ops.SoftmaxParams, x, y *ops.Tensor) error {
	o := b.begin("softmax")
	px, py := o.in("x", x), o.out("y", y)
	o.launch1("softmax_f32", p.Outer*p.Inner, px, py, i32(p.Outer), i32(p.Dim), i32(p.Inner), b32(p.Log))
	return o.done()
}

// SoftmaxBackward runs softmax_bwd_f32.
func (b *Backend) SoftmaxBackward(p ops.SoftmaxParams, y, dy, dx *ops.Tensor) error {
	o := b.begin("softmax backward")
	py, pdy, pdx := o.in("y", y), o.in("dy", dy), o.inout("dx", dx)
	o.launch1("softmax_bwd_f32", p.Outer*p.Inner, py, pdy, pdx, i32(p.Outer), i32(p.Dim), i32(p.Inner), b32(p.Log))
	return o.done()
}

// labels32 checks and converts class labels.
func labels32(labels []int, classes int) ([]int32, error) {
	out := make([]int32, len(labels))
	for i, l := range labels {
		if l < 0 || l >= classes {
			return nil, fmt.Errorf("label %d of row %d is outside [0, %d)", l, i, classes)
		}
		out[i] = int32(l)
	}
	return out, nil
}

// CrossEntropy runs crossentropy_f32, one thread per row.
func (b *Backend) CrossEntropy(logits *ops.Tensor, labels []int, probs, loss *ops.Tensor) error {
	rows, k := logits.Shape[0], logits.Shape[1]
	l32, err := labels32(labels, k)
	if err != nil {
		return fmt.Errorf("cuda cross entropy: %w", err)
	}
	o := b.begin("cross entropy")
	px, pl, pp, ploss := o.in("logits", logits), o.i32("labels", l32, false), o.out("probs", probs), o.out("loss", loss)
	o.launch1("crossentropy_f32", rows, px, pl, pp, ploss, i32(rows), i32(k))
	return o.done()
}

// CrossEntropyBackward runs crossentropy_bwd_f32.
func (b *Backend) CrossEntropyBackward(probs *ops.Tensor, labels []int, dloss, dlogits *ops.Tensor) error {
	rows, k := probs.Shape[0], probs.Shape[1]
	l32, err := labels32(labels, k)
	if err != nil {
		return fmt.Errorf("cuda cross entropy backward: %w", err)
	}
	o := b.begin("cross entropy backward")
	pp, pl, pd, pdx := o.in("probs", probs), o.i32("labels", l32, false), o.in("dloss", dloss), o.inout("dlogits", dlogits)
	o.launch1("crossentropy_bwd_f32", rows*k, pp, pl, pd, pdx, i32(rows), i32(k))
	return o.done()
}
