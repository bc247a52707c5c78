package cpu

import "github.com/qpipe/qpipe/ops"

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
	return d
}
