//go:build amd64 && !purego

package cpu

import (
	"math"

	"github.com/qpipe/qpipe/ops"
)

//go:noescape
func directOut16(src *float32, lds int, dst, res *float32, rows, cols int, scale, shift, lo, hi float32, clamp uint8)

// directOut writes rows rows of cols outputs: dst = act(src·scale + shift
// + res) (res nil: none), src rows lds floats apart, dst and res packed.
func directOut(src []float32, lds int, dst, res []float32, rows, cols int, scale, shift float32, act outAct) {
	if !vec16 || rows == 0 || cols == 0 {
		directOutGo(src, lds, dst, res, rows, cols, scale, shift, act)
		return
	}
	_, _ = src[(rows-1)*lds+cols-1], dst[rows*cols-1]
	var r *float32
	if res != nil {
		_ = res[rows*cols-1]
		r = &res[0]
	}
	directOut16(&src[0], lds, &dst[0], r, rows, cols, scale, shift, act.lo, act.hi, act.bits())
}

//go:noescape
func fillRows16(src *float32, lds int, dst *float32, wp, rows, wr int, two bool)

// fillRows writes rows rows of wp floats into dst (packed): row r holds
// src[r·lds + v·s] for v·s < wr, then zeros.
func fillRows(src []float32, lds int, dst []float32, wp, rows, wr, s int) {
	if !vec16 || s > 2 || rows == 0 {
		fillRowsGo(src, lds, dst, wp, rows, wr, s)
		return
	}
	_ = dst[rows*wp-1]
	if wr > 0 {
		_ = src[(rows-1)*lds+wr-1]
	}
	fillRows16(&src[0], lds, &dst[0], wp, rows, wr, s == 2)
}

//go:noescape
func fillRowsPair16(src *float32, lds int, dst0, dst1 *float32, wp, rows, wr int)

// fillRowsPair is fillRows with s = 2 for both column phases of the same
// rows from one read: dst0 gets src[r·lds + 2v] for 2v < wr, dst1
// src[r·lds + 2v + 1] for 2v + 1 < wr, each then zeros up to wp.
func fillRowsPair(src []float32, lds int, dst0, dst1 []float32, wp, rows, wr int) {
	if !vec16 || rows == 0 || wr <= 0 {
		fillRowsPairGo(src, lds, dst0, dst1, wp, rows, wr)
		return
	}
	_, _, _ = dst0[rows*wp-1], dst1[rows*wp-1], src[(rows-1)*lds+wr-1]
	fillRowsPair16(&src[0], lds, &dst0[0], &dst1[0], wp, rows, wr)
}

//go:noescape
func fillTapsOne16(src *float32, lds, srcImg int, dst *float32, plane, wp, imgs, lead, rows, trail, wr, shift, kw int)

//go:noescape
func fillTapsThree16(src *float32, lds, srcImg int, dst *float32, plane, wp, imgs, lead, rows, trail, wr, ahead int)

//go:noescape
func fillTaps16(src *float32, lds, srcImg int, dst *float32, plane, wp, imgs, lead, rows, trail, wr, shift, kw int)

// fillTapPlanes writes the gapless layout's kw planes (plane floats apart
// in dst) of one channel and row phase for imgs images: image i's rows
// in each plane, from i·(lead+rows+trail)·wp, are lead zero rows, rows
// rows whose column v holds src[i·srcImg + r·lds + v·s + shift + j·dil]
// (plane j; zero outside 0..wr-1) and trail zero rows. ahead is how far
// past a row (floats: the next channel's rows) the 3×3 stride-2 fill
// prefetches.
func fillTapPlanes(src []float32, lds, srcImg int, dst []float32, plane, wp, imgs, lead, rows, trail, wr, shift, kw, s, dil, ahead int) {
	if !vec16 || (s != 1 && s != 2) || dil != 1 || imgs == 0 || wp == 0 || len(src) == 0 {
		fillTapPlanesGo(src, lds, srcImg, dst, plane, wp, imgs, lead, rows, trail, wr, shift, kw, s, dil)
		return
	}
	_ = dst[(kw-1)*plane+imgs*(lead+rows+trail)*wp-1]
	if rows > 0 && wr > 0 {
		_ = src[(imgs-1)*srcImg+(rows-1)*lds+wr-1]
	}
	if s == 1 {
		fillTapsOne16(&src[0], lds, srcImg, &dst[0], plane, wp, imgs, lead, rows, trail, wr, shift, kw)
		return
	}
	if kw == 3 && shift == -1 { // 3×3 stride 2, padding 1: the three planes from one read
		fillTapsThree16(&src[0], lds, srcImg, &dst[0], plane, wp, imgs, lead, rows, trail, wr, ahead)
		return
	}
	fillTaps16(&src[0], lds, srcImg, &dst[0], plane, wp, imgs, lead, rows, trail, wr, shift, kw)
}

//go:noescape
func poolOut16(src *float32, lds int, dst *float32, rows, cols int, bias float32)

// poolOut writes rows×cols outputs dst = relu(bias + 2×2 max of src),
// src rows lds floats apart.
func poolOut(src []float32, lds int, dst []float32, rows, cols int, bias float32) {
	if !vec16 || rows == 0 || cols == 0 {
		poolOutGo(src, lds, dst, rows, cols, bias)
		return
	}
	_, _ = src[(2*rows-1)*lds+2*cols-1], dst[rows*cols-1]
	poolOut16(&src[0], lds, &dst[0], rows, cols, bias)
}

// pool3s2Row16 pools input rows r0..r2 (w floats) into the output row out
// (ow floats), tmp a scratch of w+66 floats. It prefetches for writing
// the lines of next (the next output row of the same band; nil: none):
// at the start of a forward the pool's output buffer is most likely not
// in cache (it last held the previous forward's values, and 45 MB of
// weights have streamed since), so its stores miss, and a prefetch one
// row ahead overlaps those misses (resnet18's stem pool in the model,
// in-process: 220-248 → 170-203 µs on two threads, 246 → 182 on one).
//
//go:noescape
func pool3s2Row16(r0, r1, r2 *float32, w int, tmp, out *float32, ow int, next *float32)

// pool3s2 is the 3×3, stride-2, padding-1 max pool of one plane (resnets'
// stem pool) with vector kernels, reporting false where it does not apply.
func pool3s2(p ops.PoolParams, src, dst []float32, tmp []float32) bool {
	return pool3s2Rows(p, src, dst, tmp, 0, p.OutH, 0)
}

// pool3s2OK reports whether pool3s2 applies to p.
func pool3s2OK(p ops.PoolParams) bool {
	return vec16 && p.KH == 3 && p.KW == 3 && p.StrideH == 2 && p.StrideW == 2 && p.PadH == 1 && p.PadW == 1
}

// pool3s2Rows is pool3s2 for output rows oh0..oh1-1 of the plane, src
// holding the plane's input rows from row base on (base ≤ 2·oh0−1: the
// rows those outputs read; a row above the plane, −1, is padding and
// never read).
func pool3s2Rows(p ops.PoolParams, src, dst []float32, tmp []float32, oh0, oh1, base int) bool {
	if !pool3s2OK(p) {
		return false
	}
	inf := float32(math.Inf(-1))
	tmp = tmp[:p.W+66]
	tmp[0] = inf
	for oh := oh0; oh < oh1; oh++ {
		ih := 2*oh - 1
		r1 := src[(ih+1-base)*p.W:][:p.W] // always inside: oh < OutH
		r0, r2 := r1, r1                  // a row in the padding repeats r1
		if ih >= 0 {
			r0 = src[(ih-base)*p.W:][:p.W]
		}
		if ih+2 < p.H {
			r2 = src[(ih+2-base)*p.W:][:p.W]
		}
		tmp[p.W+1] = inf
		out := dst[oh*p.OutW:][:p.OutW]
		var next *float32 // the band's next output row, its lines fetched for writing
		if oh+1 < oh1 {
			next = &dst[(oh+1)*p.OutW]
		}
		pool3s2Row16(&r0[0], &r1[0], &r2[0], p.W, &tmp[0], &out[0], p.OutW, next)
	}
	return true
}
