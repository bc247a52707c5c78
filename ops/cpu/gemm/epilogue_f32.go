package gemm

import (
	"fmt"
	"math"
	"sync/atomic"
)

// RowEpilogue is an output pass that SgemmIndirectEpilogue applies to each
// tile of C while it is still in registers, instead of a second pass over
// C: for row i (an output channel of a convolution) and column j,
//
//	o = fma(acc, Scale[i], Shift[i]); o += Res[i·ldc + j]; o = max(o, Lo); o = min(o, Hi)
//
// (the add where Res is set, the bounds where Floor and Ceil are), with
// the bound replacing a NaN as VMAXPS/VMINPS do. A batch norm folded into
// a convolution is its Scale and Shift, a residual add its Res, ReLU its
// floor 0 and ReLU6 the clamp to [0, 6].
type RowEpilogue struct {
	Scale, Shift []float32 // per row of C; Scale nil means 1, Shift must be set
	Res          []float32 // m×n at ldc, like C; nil: none
	Lo, Hi       float32
	Floor, Ceil  bool
}

// apply is the epilogue on one value (the reference the kernel follows).
func (ep *RowEpilogue) apply(v, scale, shift, res float32) float32 {
	o := float32(math.FMA(float64(v), float64(scale), float64(shift)))
	if ep.Res != nil {
		o += res
	}
	if ep.Floor && !(o > ep.Lo) {
		o = ep.Lo
	}
	if ep.Ceil && !(o < ep.Hi) {
		o = ep.Hi
	}
	return o
}

// applyGo is the epilogue as a pass over C (m×n at ldc), for the kernels
// without a fused one.
func (ep *RowEpilogue) applyGo(m, n int, c []float32, ldc int) {
	for i := range m {
		scale := float32(1)
		if ep.Scale != nil {
			scale = ep.Scale[i]
		}
		row := c[i*ldc:][:n]
		for j, v := range row {
			var r float32
			if ep.Res != nil {
				r = ep.Res[i*ldc+j]
			}
			row[j] = ep.apply(v, scale, ep.Shift[i], r)
		}
	}
}

// flags is the epilogue as sgemmArgs.epi.
func (ep *RowEpilogue) flags() int {
	f := epiOn
	if ep.Res != nil {
		f |= epiRes
	}
	if ep.Floor {
		f |= epiFloor
	}
	if ep.Ceil {
		f |= epiCeil
	}
	return f
}

// Flags of sgemmArgs.epi (internal/gen's epilogue512 tests the same bits).
const (
	epiOn, epiRes, epiFloor, epiCeil = 1, 2, 4, 8
)

// check panics where the epilogue's slices are too short for m×n at ldc.
func (ep *RowEpilogue) check(m, n, ldc int) {
	if len(ep.Shift) < m || (ep.Scale != nil && len(ep.Scale) < m) {
		panic(fmt.Sprintf("gemm.SgemmIndirectEpilogue: %d shifts, %d scales for %d rows", len(ep.Shift), len(ep.Scale), m))
	}
	if ep.Res != nil && m > 0 && n > 0 && len(ep.Res) < (m-1)*ldc+n {
		panic(fmt.Sprintf("gemm.SgemmIndirectEpilogue: residual of %d floats for %d×%d at %d", len(ep.Res), m, n, ldc))
	}
}

// withScale returns ep with Scale set (ones where it was nil), so that the
// kernel always multiplies: fma(v, 1, s) rounds as v + s. A value, so
// that the epilogue of a call stays off the heap.
func (ep RowEpilogue) withScale(m int) RowEpilogue {
	if ep.Scale == nil {
		ep.Scale = onesOf(m)
	}
	return ep
}

// ones holds the longest run of ones onesOf has made; never written once
// stored, so callers share it.
var ones atomic.Pointer[[]float32]

// onesOf returns m ones (read-only, shared).
func onesOf(m int) []float32 {
	if o := ones.Load(); o != nil && len(*o) >= m {
		return (*o)[:m]
	}
	o := make([]float32, max(m, 64))
	for i := range o {
		o[i] = 1
	}
	ones.Store(&o)
	return o[:m]
}

// SgemmIndirectEpilogue is SgemmIndirect followed by ep on every element
// of C, the epilogue applied by the AVX-512 kernel as it stores each tile
// (so C is written once, in its final form): a 1×1 convolution of one
// image writes its NCHW output straight from the GEMM. C must not overlap
// ep.Res.
func SgemmIndirectEpilogue(m, n, k int, a []float32, lda int, b []float32, off []int, c []float32, ldc int, ep RowEpilogue) {
	ep.check(m, n, ldc)
	ep = ep.withScale(m)
	sgemmIndirect(m, n, k, a, lda, b, off, c, ldc, &ep, nil)
}
