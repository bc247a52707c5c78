package cpu

import (
	"slices"
	"sync"

	"github.com/qpipe/qpipe/ops"
)

// The 3×3 undilated depthwise convolutions at stride 1 and 2 (all of
// MobileNetV2's) read their input plane in place: no padded copy. Each
// kernel call (dw3s1x4, dw3s2x4) writes a whole output plane four rows at
// a time, every loaded input row feeding the output rows that use it, with
// the bias and the clamp applied as each output vector is stored. Input
// rows above and below the plane come from a row of zeros; columns left
// and right of it are zeroed by per-column-block lane masks (a masked-off
// lane is not read at all, so a load never touches memory outside the
// plane's rows). Each output is the same multiply and fused multiply-adds
// in the same order as on the zero-padded plane (dwPlan), bit for bit.

// dw3MaxW is the widest input row the unpadded kernels take: the zero row
// (dw3Zeros) stands for any row outside the plane.
const dw3MaxW = 2048

// dw3Zeros is the row of zeros read for input rows outside the plane.
var dw3Zeros [dw3MaxW]float32

// dw3Plan is an unpadded depthwise convolution's per-column-block masks.
type dw3Plan struct {
	p      ops.ConvParams
	nblk   int      // 16-output column blocks per output row
	masks  []uint16 // per block: the three loads' lane masks, then the stores'
	colOff int      // bytes from an input row's first float to its first load
	flat   *dw3Flat // a small stride-1 plane computed as one run of floats (nil: none)
	shift  *dw3Shift
}

// A stride-1 plane with one row and column of padding and a width in
// dw3ShiftWidths (MobileNetV2's 14×14 and 7×7 planes) is also one run of H·W
// floats, 16 outputs per vector, but each input vector is loaded once:
// tap (i, j) of output 16v+k, input 16v+k+(i−1)·W+j−1, is a lane shift
// (VALIGND, W < 16) of input vectors v−1 and v or v and v+1, the vectors
// before and after the plane zero (so the rows above and below it are),
// the j = 0 taps zeroed in the lanes of output column 0 and the j = 2
// taps in those of column W−1. One load and four mask loads per vector
// instead of nine and ten (dw3Flat16); the same products and fused
// multiply-adds in the same order, so the same bits. In L1 at one thread
// (BenchmarkDepthwisePlane): 14×14 55-62 → 38-39 ns, 7×7 25 → 16.4 ns.

// dw3ShiftWidths are the plane widths with a dw3Shift kernel (a TEXT per
// width in conv_dw3_amd64.s: the shifts are immediates).
var dw3ShiftWidths = []int{14, 7}

// dw3Shift is a shift plane's lane masks.
type dw3Shift struct {
	w int
	// a leading entry, input vector 0's load mask and three zeros, then
	// per vector v of 16 outputs: the j = 0 taps' mask, the j = 2 taps',
	// input vector v+1's load mask and the store's
	masks []uint16
}

// newDW3Shift returns the shift plan of p, or nil where p is not a
// stride-1 plane with one row and column of padding and a width in
// dw3ShiftWidths.
func newDW3Shift(p ops.ConvParams) *dw3Shift {
	h, w := p.H, p.W
	if p.StrideH != 1 || p.StrideW != 1 || p.PadH != 1 || p.PadW != 1 || p.OutH != h || p.OutW != w ||
		!slices.Contains(dw3ShiftWidths, w) {
		return nil
	}
	n := h * w
	lanes := func(v int, in func(i int) bool) uint16 {
		var m uint16
		for k := range 16 {
			if i := 16*v + k; i < n && in(i) {
				m |= 1 << k
			}
		}
		return m
	}
	all := func(int) bool { return true }
	f := &dw3Shift{w: w, masks: []uint16{lanes(0, all), 0, 0, 0}}
	for v := range (n + 15) / 16 {
		f.masks = append(f.masks,
			lanes(v, func(i int) bool { return i%w != 0 }),
			lanes(v, func(i int) bool { return i%w != w-1 }),
			lanes(v+1, all),
			lanes(v, all))
	}
	return f
}

// A small plane at stride 1 with one row and column of padding (output
// H×W, as the input) is computed as one run of H·W floats, 16 outputs per
// vector whatever the row width (dw3Flat16): output i = r·W+c reads tap
// (i, j)'s input at i + (i−1)·W + j−1, each load's lanes whose input
// falls outside the plane (above, below, left or right of it) masked to
// zero. A 7×7 plane is 4 vectors instead of 7 rows of 16 lanes each
// holding 7 outputs (MobileNetV2's 7×7 blocks: 960 planes each). The
// products and fused multiply-adds per output are the row kernels', in
// the same order, so the bits are the same. The widths in dw3ShiftWidths
// (7 among them) take the shift kernels instead.

// dw3FlatMax is the most outputs a plane has for dw3Flat16.
const dw3FlatMax = 64

// dw3Flat is a flat plane's tap offsets and lane masks.
type dw3Flat struct {
	offs  [9]int   // bytes from output i's float to tap t's input float
	masks []uint16 // per vector of 16 outputs: the nine taps' masks, then the store's
}

// newDW3Flat returns the flat plan of p, or nil where p is not a stride-1
// plane with one row and column of padding and at most dw3FlatMax outputs.
func newDW3Flat(p ops.ConvParams) *dw3Flat {
	h, w := p.H, p.W
	if p.StrideH != 1 || p.StrideW != 1 || p.PadH != 1 || p.PadW != 1 || p.OutH != h || p.OutW != w || h*w > dw3FlatMax {
		return nil
	}
	f := &dw3Flat{}
	for t := range 9 {
		f.offs[t] = 4 * ((t/3-1)*w + t%3 - 1)
	}
	for v := range (h*w + 15) / 16 {
		var m [10]uint16
		for k := range 16 {
			i := 16*v + k
			if i >= h*w {
				break
			}
			m[9] |= 1 << k
			for t := range 9 {
				r, c := i/w+t/3-1, i%w+t%3-1
				if r >= 0 && r < h && c >= 0 && c < w {
					m[t] |= 1 << k
				}
			}
		}
		f.masks = append(f.masks, m[:]...)
	}
	return f
}

// newDW3Plan returns the unpadded plan of a 3×3 undilated depthwise
// convolution at stride 1 or 2 (any padding) with at least four output
// rows, or nil where the kernels do not apply (no AVX-512 either).
func newDW3Plan(p ops.ConvParams) *dw3Plan {
	s := p.StrideW
	if !vec16 || p.KH != 3 || p.KW != 3 || p.DilH != 1 || p.DilW != 1 || p.StrideH != s ||
		(s != 1 && s != 2) || p.OutH < 4 || p.OutW < 1 || p.W > dw3MaxW {
		return nil
	}
	d := &dw3Plan{p: p, nblk: (p.OutW + 15) / 16}
	inside := func(col int) bool { return col >= 0 && col < p.W }
	for b := range d.nblk {
		n := min(16, p.OutW-16*b) // outputs in the block
		var m [4]uint16
		for k := range 16 {
			bit := uint16(1) << k
			if k < n {
				m[3] |= bit
			}
			if s == 1 { // tap j of output 16b+k: input column 16b+k+j-PadW
				for j := range 3 {
					if k < n && inside(16*b+k+j-p.PadW) {
						m[j] |= bit
					}
				}
				continue
			}
			// stride 2: lane k of A and B is input column 32b+k(+16)+1-PadW,
			// needed up to the block's last output's tap 2 (lane 2n-1);
			// P's lane 15 is the column before A
			if k < 2*n && inside(32*b+k+1-p.PadW) {
				m[0] |= bit
			}
			if 16+k < 2*n && inside(32*b+16+k+1-p.PadW) {
				m[1] |= bit
			}
			if k == 15 && inside(32*b-p.PadW) {
				m[2] |= bit
			}
		}
		d.masks = append(d.masks, m[:]...)
	}
	d.colOff = -4 * p.PadW
	if s == 2 {
		d.colOff = 4 * (1 - p.PadW)
	}
	if d.shift = newDW3Shift(p); d.shift == nil {
		d.flat = newDW3Flat(p)
	}
	return d
}

// dw3Plans caches the plans cachedDW3Plan made, by shape: a plan is
// read-only once made (at most dw3PlansMax of them).
var dw3Plans struct {
	sync.Mutex
	m map[ops.ConvParams]*dw3Plan
}

// dw3PlansMax is the most plans dw3Plans keeps.
const dw3PlansMax = 256

// cachedDW3Plan is newDW3Plan(p), made once per shape (the blocks make a
// plan per call; its masks were allocations on every forward).
func cachedDW3Plan(p ops.ConvParams) *dw3Plan {
	dw3Plans.Lock()
	defer dw3Plans.Unlock()
	if d, ok := dw3Plans.m[p]; ok {
		return d
	}
	d := newDW3Plan(p)
	if dw3Plans.m == nil {
		dw3Plans.m = make(map[ops.ConvParams]*dw3Plan)
	}
	if len(dw3Plans.m) < dw3PlansMax {
		dw3Plans.m[p] = d
	}
	return d
}
