package cpu

import "github.com/qpipe/qpipe/ops"

// Permute writes y = x with axes reordered (y axis i = x axis perm[i]).
// Axes that stay adjacent in both layouts are merged; each output row is
// then a contiguous copy or a strided gather, split over the workers.
func (b *Backend) Permute(x, y *ops.Tensor, perm []int) error {
	xs := make([]int, len(x.Shape))
	s := 1
	for i := len(x.Shape) - 1; i >= 0; i-- {
		xs[i] = s
		s *= x.Shape[i]
	}
	var dims []bdim // n and x stride (sa)
	for _, a := range perm {
		n, st := x.Shape[a], xs[a]
		if n == 1 {
			continue
		}
		if k := len(dims) - 1; k >= 0 && dims[k].sa == st*n {
			dims[k] = bdim{n: dims[k].n * n, sa: st}
			continue
		}
		dims = append(dims, bdim{n: n, sa: st})
	}
	if len(dims) == 0 {
		copy(y.Data, x.Data)
		return nil
	}
	in := dims[len(dims)-1]
	rows := len(y.Data) / in.n
	b.w.For(rows, max(1, grain/in.n), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			off, _ := offsets(dims, r)
			dst := y.Data[r*in.n : (r+1)*in.n]
			if in.sa == 1 {
				copy(dst, x.Data[off:off+in.n])
				continue
			}
			for i := range dst {
				dst[i] = x.Data[off+i*in.sa]
			}
		}
	})
	return nil
}

// Slice copies the selected entries of the middle axis.
func (b *Backend) Slice(p ops.SliceParams, x, y *ops.Tensor) error {
	b.w.For(p.Outer*p.Len, max(1, grain/max(p.Inner, 1)), func(lo, hi int) {
		for q := lo; q < hi; q++ {
			o, i := q/p.Len, q%p.Len
			src := x.Data[(o*p.Dim+p.Start+i*p.Step)*p.Inner:][:p.Inner]
			copy(y.Data[q*p.Inner:(q+1)*p.Inner], src)
		}
	})
	return nil
}

// SliceBackward accumulates dy into the selected entries of dx.
func (b *Backend) SliceBackward(p ops.SliceParams, dy, dx *ops.Tensor) error {
	b.w.For(p.Outer*p.Len, max(1, grain/max(p.Inner, 1)), func(lo, hi int) {
		for q := lo; q < hi; q++ {
			o, i := q/p.Len, q%p.Len
			dst := dx.Data[(o*p.Dim+p.Start+i*p.Step)*p.Inner:][:p.Inner]
			for j, v := range dy.Data[q*p.Inner : (q+1)*p.Inner] {
				dst[j] += v
			}
		}
	})
	return nil
}

// Roll writes y[(i+shift) mod Dim] = x[i] along the middle axis.
func (b *Backend) Roll(p ops.RollParams, x, y *ops.Tensor) error {
	shift := ((p.Shift % p.Dim) + p.Dim) % max(p.Dim, 1)
	b.w.For(p.Outer*p.Dim, max(1, grain/max(p.Inner, 1)), func(lo, hi int) {
		for q := lo; q < hi; q++ {
			o, i := q/p.Dim, q%p.Dim
			j := (i + shift) % p.Dim
			copy(y.Data[(o*p.Dim+j)*p.Inner:][:p.Inner], x.Data[q*p.Inner:][:p.Inner])
		}
	})
	return nil
}

// Gather copies table rows by index.
func (b *Backend) Gather(table *ops.Tensor, index []int32, y *ops.Tensor) error {
	d := table.Shape[1]
	for i, r := range index {
		copy(y.Data[i*d:(i+1)*d], table.Data[int(r)*d:(int(r)+1)*d])
	}
	return nil
}

// ScatterAdd accumulates rows of dy into the indexed table rows (serially:
// indices repeat).
func (b *Backend) ScatterAdd(dy *ops.Tensor, index []int32, dtable *ops.Tensor) error {
	d := dtable.Shape[1]
	for i, r := range index {
		dst := dtable.Data[int(r)*d : (int(r)+1)*d]
		for j, v := range dy.Data[i*d : (i+1)*d] {
			dst[j] += v
		}
	}
	return nil
}
