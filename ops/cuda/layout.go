package cuda

import (
	"fmt"

	"github.com/qpipe/qpipe/ops"
)

// Permute runs permute_f32 over y's shape.
func (b *Backend) Permute(x, y *ops.Tensor, perm []int) error {
	if len(perm) > maxDims {
		return errDims("permute", len(perm))
	}
	if len(perm) != len(x.Shape) {
		return fmt.Errorf("cuda permute: %d axes for a %d-axis tensor", len(perm), len(x.Shape))
	}
	xs := ops.Strides(x.Shape)
	s := shapeArg{ND: int32(len(perm))}
	for i, a := range perm {
		s.Dim[i], s.SA[i] = int32(x.Shape[a]), int32(xs[a])
	}
	o := b.begin("permute")
	px, py := o.in("x", x), o.out("y", y)
	o.launch1("permute_f32", len(y.Data), px, py, s, i32(len(y.Data)))
	return o.done()
}

// Slice runs slice_f32.
func (b *Backend) Slice(p ops.SliceParams, x, y *ops.Tensor) error {
	o := b.begin("slice")
	px, py := o.in("x", x), o.out("y", y)
	o.launch1("slice_f32", len(y.Data), px, py, i32(p.Outer), i32(p.Dim), i32(p.Inner), i32(p.Start), i32(p.Step), i32(p.Len))
	return o.done()
}

// SliceBackward runs slice_bwd_f32.
func (b *Backend) SliceBackward(p ops.SliceParams, dy, dx *ops.Tensor) error {
	if p.Step == 0 && p.Len > 1 {
		return fmt.Errorf("slice backward with step 0: %w", ops.ErrNotImplemented)
	}
	o := b.begin("slice backward")
	pdy, pdx := o.in("dy", dy), o.inout("dx", dx)
	o.launch1("slice_bwd_f32", len(dy.Data), pdy, pdx, i32(p.Outer), i32(p.Dim), i32(p.Inner), i32(p.Start), i32(p.Step), i32(p.Len))
	return o.done()
}

// Roll runs roll_f32.
func (b *Backend) Roll(p ops.RollParams, x, y *ops.Tensor) error {
	o := b.begin("roll")
	px, py := o.in("x", x), o.out("y", y)
	shift := 0
	if p.Dim > 0 {
		shift = ((p.Shift % p.Dim) + p.Dim) % p.Dim
	}
	o.launch1("roll_f32", len(y.Data), px, py, i32(p.Outer), i32(p.Dim), i32(p.Inner), i32(shift))
	return o.done()
}

// checkIndex refuses rows outside the table.
func checkIndex(index []int32, rows int) error {
	for i, r := range index {
		if r < 0 || int(r) >= rows {
			return fmt.Errorf("index %d at %d is outside the table's %d rows", r, i, rows)
		}
	}
	return nil
}

// Gather runs gather_f32.
func (b *Backend) Gather(table *ops.Tensor, index []int32, y *ops.Tensor) error {
	rows, d := table.Shape[0], table.Numel()/max(table.Shape[0], 1)
	if err := checkIndex(index, rows); err != nil {
		return fmt.Errorf("cuda gather: %w", err)
	}
	o := b.begin("gather")
	pt, pi, py := o.in("table", table), o.i32("index", index, false), o.out("y", y)
	o.launch1("gather_f32", len(index)*d, pt, pi, py, i32(len(index)), i32(d))
	return o.done()
}

// ScatterAdd runs scatter_add_f32 (one thread per column, rows in order).
func (b *Backend) ScatterAdd(dy *ops.Tensor, index []int32, dtable *ops.Tensor) error {
	rows, d := dtable.Shape[0], dtable.Numel()/max(dtable.Shape[0], 1)
	if err := checkIndex(index, rows); err != nil {
		return fmt.Errorf("cuda scatter add: %w", err)
	}
	o := b.begin("scatter add")
	pdy, pi, pt := o.in("dy", dy), o.i32("index", index, false), o.inout("dtable", dtable)
	o.launch1("scatter_add_f32", d, pdy, pi, pt, i32(len(index)), i32(d))
	return o.done()
}
