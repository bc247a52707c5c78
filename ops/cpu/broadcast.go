package cpu

import (
	"github.com/qpipe/qpipe/ops"
)

// bdim is one axis of a broadcast loop: its size and the strides of the
// two operands (0 where an operand is broadcast along it).
type bdim struct{ n, sa, sb int }

// alignedStrides returns shape's contiguous strides aligned to the last
// len(out) axes of out, with 0 on broadcast axes.
func alignedStrides(shape, out []int) []int {
	st := make([]int, len(out))
	s := 1
	for i := len(out) - 1; i >= 0; i-- {
		j := i - (len(out) - len(shape))
		if j < 0 {
			continue
		}
		if shape[j] != 1 || out[i] == 1 {
			st[i] = s
		}
		s *= shape[j]
	}
	return st
}

// broadcastDims drops unit axes and merges axes that both operands walk
// contiguously (or both broadcast), so most loops have one or two axes.
func broadcastDims(a, b, y []int) []bdim {
	sa, sb := alignedStrides(a, y), alignedStrides(b, y)
	var dims []bdim
	for i, n := range y {
		if n == 1 {
			continue
		}
		d := bdim{n, sa[i], sb[i]}
		if k := len(dims) - 1; k >= 0 && dims[k].sa == d.sa*d.n && dims[k].sb == d.sb*d.n {
			dims[k] = bdim{dims[k].n * d.n, d.sa, d.sb}
			continue
		}
		dims = append(dims, d)
	}
	if len(dims) == 0 {
		dims = []bdim{{1, 0, 0}}
	}
	return dims
}

// offsets returns the operands' offsets of outer row r (all axes but the
// last).
func offsets(dims []bdim, r int) (oa, ob int) {
	for i := len(dims) - 2; i >= 0; i-- {
		q := r % dims[i].n
		r /= dims[i].n
		oa += q * dims[i].sa
		ob += q * dims[i].sb
	}
	return oa, ob
}

// Binary computes y = a op b with broadcasting; y may alias a.
func (b *Backend) Binary(op ops.BinaryOp, x, z, y *ops.Tensor) error {
	dims := broadcastDims(x.Shape, z.Shape, y.Shape)
	in := dims[len(dims)-1]
	rows := len(y.Data) / in.n
	if rows == 1 {
		b.w.For(in.n, grain, func(lo, hi int) {
			binRow(op, y.Data[lo:hi], x.Data[lo*in.sa:], in.sa, z.Data[lo*in.sb:], in.sb)
		})
		return nil
	}
	b.w.For(rows, max(grain/in.n, 1), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			oa, ob := offsets(dims, r)
			binRow(op, y.Data[r*in.n:(r+1)*in.n], x.Data[oa:], in.sa, z.Data[ob:], in.sb)
		}
	})
	return nil
}

// binRow computes one contiguous output row; sa and sb are 0 or 1 after
// merging (a broadcast scalar or a contiguous run).
func binRow(op ops.BinaryOp, y, a []float32, sa int, b []float32, sb int) {
	switch {
	case sa == 1 && sb == 1:
		a, b = a[:len(y)], b[:len(y)]
		switch op {
		case ops.BinaryAdd:
			if vec16 && len(y) > 0 {
				addRow16(&a[0], &b[0], &y[0], len(y))
				return
			}
			for i := range y {
				y[i] = a[i] + b[i]
			}
		case ops.BinarySub:
			for i := range y {
				y[i] = a[i] - b[i]
			}
		case ops.BinaryMul:
			for i := range y {
				y[i] = a[i] * b[i]
			}
		case ops.BinaryDiv:
			for i := range y {
				y[i] = a[i] / b[i]
			}
		}
	case sa == 1 && sb == 0:
		a, v := a[:len(y)], b[0]
		switch op {
		case ops.BinaryAdd:
			for i := range y {
				y[i] = a[i] + v
			}
		case ops.BinarySub:
			for i := range y {
				y[i] = a[i] - v
			}
		case ops.BinaryMul:
			for i := range y {
				y[i] = a[i] * v
			}
		case ops.BinaryDiv:
			for i := range y {
				y[i] = a[i] / v
			}
		}
	default:
		for i := range y {
			y[i] = apply(op, a[i*sa], b[i*sb])
		}
	}
}

func apply(op ops.BinaryOp, a, b float32) float32 {
	switch op {
	case ops.BinaryAdd:
		return a + b
	case ops.BinarySub:
		return a - b
	case ops.BinaryMul:
		return a * b
	default:
		return a / b
	}
}

// rdim is one merged axis of a reduction: size and whether it is summed.
type rdim struct {
	n   int
	red bool
}

// reductionDims classifies x's axes against y (aligned to the right),
// dropping unit axes and merging neighbours of the same class.
func reductionDims(x, y []int) []rdim {
	var dims []rdim
	for i, n := range x {
		if n == 1 {
			continue
		}
		j := i - (len(x) - len(y))
		red := j < 0 || y[j] == 1
		if k := len(dims) - 1; k >= 0 && dims[k].red == red {
			dims[k].n *= n
			continue
		}
		dims = append(dims, rdim{n, red})
	}
	return dims
}

// SumTo computes y = beta·y + alpha·(x summed over the axes y lacks).
func (b *Backend) SumTo(x, y *ops.Tensor, alpha, beta float32) error {
	dims := reductionDims(x.Shape, y.Shape)
	reduced := false
	for _, d := range dims {
		reduced = reduced || d.red
	}
	if !reduced {
		b.axpby(x.Data, y.Data, alpha, beta)
		return nil
	}
	if beta != 1 {
		b.axpby(nil, y.Data, 0, beta)
	}
	plan := newReducePlan(dims)
	if dims[len(dims)-1].red {
		b.sumInnerReduced(plan, x.Data, y.Data, alpha)
	} else {
		b.sumInnerKept(plan, x.Data, y.Data, alpha)
	}
	return nil
}

// axpby computes y = alpha·x + beta·y (x nil: y = beta·y).
func (b *Backend) axpby(x, y []float32, alpha, beta float32) {
	b.w.For(len(y), grain, func(lo, hi int) {
		ys := y[lo:hi]
		switch {
		case x == nil && beta == 0:
			clear(ys)
		case x == nil:
			for i := range ys {
				ys[i] *= beta
			}
		case beta == 0:
			for i, v := range x[lo:hi] {
				ys[i] = alpha * v
			}
		case beta == 1:
			for i, v := range x[lo:hi] {
				ys[i] += alpha * v
			}
		default:
			for i, v := range x[lo:hi] {
				ys[i] = alpha*v + beta*ys[i]
			}
		}
	})
}

// reducePlan precomputes x offsets: kept axes (with x strides) locate a
// run for each y position, and redOff lists the offsets of every
// combination of the summed axes, the innermost axis excluded.
type reducePlan struct {
	kept   []bdim // n and x stride (sa) of kept axes, outer to inner
	redOff []int
	inner  int // length of the innermost axis
}

func newReducePlan(dims []rdim) reducePlan {
	strides := make([]int, len(dims))
	s := 1
	for i := len(dims) - 1; i >= 0; i-- {
		strides[i] = s
		s *= dims[i].n
	}
	p := reducePlan{redOff: []int{0}, inner: dims[len(dims)-1].n}
	for i, d := range dims[:len(dims)-1] {
		if !d.red {
			p.kept = append(p.kept, bdim{n: d.n, sa: strides[i]})
			continue
		}
		var next []int
		for _, o := range p.redOff {
			for q := range d.n {
				next = append(next, o+q*strides[i])
			}
		}
		p.redOff = next
	}
	return p
}

func (p reducePlan) base(r int) int {
	off := 0
	for i := len(p.kept) - 1; i >= 0; i-- {
		off += (r % p.kept[i].n) * p.kept[i].sa
		r /= p.kept[i].n
	}
	return off
}

// sumInnerReduced: every y element sums contiguous runs of x.
func (b *Backend) sumInnerReduced(p reducePlan, x, y []float32, alpha float32) {
	b.w.For(len(y), max(grain/(p.inner*len(p.redOff)), 1), func(lo, hi int) {
		for o := lo; o < hi; o++ {
			base := p.base(o)
			var s float64
			for _, r := range p.redOff {
				s += sum32(x[base+r : base+r+p.inner])
			}
			y[o] += alpha * float32(s)
		}
	})
}

// sumInnerKept: every y row adds runs of x; rows and column chunks are
// split over the workers.
func (b *Backend) sumInnerKept(p reducePlan, x, y []float32, alpha float32) {
	rows := len(y) / p.inner
	cols := max(1, min(b.w.n, p.inner/256))
	b.w.For(rows*cols, 1, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			r, c := t/cols, t%cols
			c0, c1 := p.inner*c/cols, p.inner*(c+1)/cols
			base := p.base(r)
			dst := y[r*p.inner+c0 : r*p.inner+c1]
			for _, off := range p.redOff {
				src := x[base+off+c0 : base+off+c1]
				for i, v := range src {
					dst[i] += alpha * v
				}
			}
		}
	})
}

// sum32 adds a run with a float64 accumulator in blocks of float32 partial
// sums, keeping long reductions accurate without a float64 op per element.
func sum32(s []float32) float64 {
	var total float64
	for len(s) > 0 {
		n := min(len(s), 256)
		var a0, a1, a2, a3 float32
		blk := s[:n]
		i := 0
		for ; i+4 <= n; i += 4 {
			a0 += blk[i]
			a1 += blk[i+1]
			a2 += blk[i+2]
			a3 += blk[i+3]
		}
		for ; i < n; i++ {
			a0 += blk[i]
		}
		total += float64(a0 + a1 + a2 + a3)
		s = s[n:]
	}
	return total
}
