//go:build amd64 && !purego

package cpu

//go:noescape
func axpy16(x, y *float32, n int, a float32)

//go:noescape
func biasClip16(x, y *float32, n int, b, lo, hi float32)

//go:noescape
func dw9Rows16(src, dst *float32, offs *[9]int, w *float32, rows, n, step int, bias, lo, hi float32)

//go:noescape
func dw9x4Rows16(src, dst *float32, rs int, w *float32, groups, n int, bias, lo, hi float32)

//go:noescape
func copyRows16(src, dst *float32, rows, n, sstep, dstep int)

//go:noescape
func gather2Rows16(src, dst *float32, rows, n, sstep, dstep int)

// padRows writes rows rows of n floats, dst[r·dstep+k] = src[r·sstep+k·s]
// (a phase of a padded plane's rows), with vector kernels for s = 1 and 2.
func padRows(s int, src, dst []float32, rows, n, sstep, dstep int) {
	if !vec16 || s > 2 || rows == 0 || n == 0 {
		padRowsGo(s, src, dst, rows, n, sstep, dstep)
		return
	}
	_ = src[(rows-1)*sstep+(n-1)*s] // the last float read
	_ = dst[(rows-1)*dstep+n-1]
	if s == 1 {
		copyRows16(&src[0], &dst[0], rows, n, 4*sstep, 4*dstep)
	} else {
		gather2Rows16(&src[0], &dst[0], rows, n, 4*sstep, 4*dstep)
	}
}

// axpy adds a·x to y (one fused multiply-add per element).
func axpy(a float32, x, y []float32) {
	if vec16 && len(y) > 0 {
		_ = x[len(y)-1]
		axpy16(&x[0], &y[0], len(y), a)
		return
	}
	axpyGo(a, x, y)
}

// biasClipRow writes y = min(max(x + b, lo), hi).
func biasClipRow(x, y []float32, b, lo, hi float32) {
	y = y[:len(x)]
	if vec16 && len(x) > 0 {
		biasClip16(&x[0], &y[0], len(x), b, lo, hi)
		return
	}
	biasClipRowGo(x, y, b, lo, hi)
}

// dwRowsFast runs a 3x3 (nine-tap) plane with the AVX-512 kernel: each
// output vector is the nine taps' multiply-adds in order, the bias and the
// clamp, from the padded rows in one pass. It reports false where it does
// not apply.
func dwRowsFast(pl *dwPlan, buf, w, dst []float32, bias, lo, hi float32) bool {
	p := pl.p
	if !vec16 || pl.taps != 9 {
		return false
	}
	var offs [9]int
	for t, o := range pl.offs {
		offs[t] = 4 * o
	}
	// the last output row's last tap ends inside buf, the last output inside dst
	_ = buf[(p.OutH-1)*pl.step+pl.offs[8]+p.OutW-1]
	_ = dst[p.OutH*p.OutW-1]
	_ = w[8]
	r0 := 0 // rows done four at a time
	if pl.unitTaps() {
		r0 = p.OutH / 4 * 4
		dw9x4Rows16(&buf[0], &dst[0], 4*pl.rs, &w[0], r0/4, p.OutW, bias, lo, hi)
	}
	if r0 < p.OutH {
		dw9Rows16(&buf[r0*pl.step], &dst[r0*p.OutW], &offs, &w[0], p.OutH-r0, p.OutW, 4*pl.step, bias, lo, hi)
	}
	return true
}

// unitTaps reports whether the plan is a stride-1 undilated 3×3 one: tap
// (i, j) at offset i·rs + j and consecutive output rows one padded row
// apart, the layout dw9x4Rows16 assumes.
func (pl *dwPlan) unitTaps() bool {
	if pl.taps != 9 || pl.step != pl.rs {
		return false
	}
	for k, o := range pl.offs {
		if o != k/3*pl.rs+k%3 {
			return false
		}
	}
	return true
}

//go:noescape
func dw3s1x4(x, dst, zero, w *float32, masks *uint16, nblk, rs, h, outH, outW, padH, colOff int, bias, lo, hi float32)

//go:noescape
func dw3s2x4(x, dst, zero, w *float32, masks *uint16, nblk, rs, h, outH, outW, padH, colOff int, bias, lo, hi float32)

//go:noescape
func dw3Flat16(x, dst, w *float32, offs *[9]int, masks *uint16, nvec int, bias, lo, hi float32)

//go:noescape
func dw3Shift14(x, dst, w *float32, masks *uint16, nvec int, bias, lo, hi float32)

//go:noescape
func dw3Shift7(x, dst, w *float32, masks *uint16, nvec int, bias, lo, hi float32)

// plane writes one output plane dst (OutH×OutW) = clamp(conv(x, w) +
// bias, lo, hi) from the unpadded input plane x (H×W).
func (d *dw3Plan) plane(x, w, dst []float32, bias, lo, hi float32) {
	if f := d.shift; f != nil {
		n := d.p.H * d.p.W
		_, _, _ = x[n-1], dst[n-1], w[8]
		k := dw3Shift14
		if f.w == 7 {
			k = dw3Shift7
		}
		k(&x[0], &dst[0], &w[0], &f.masks[0], len(f.masks)/4-1, bias, lo, hi)
		return
	}
	if f := d.flat; f != nil {
		n := d.p.H * d.p.W
		_, _, _ = x[n-1], dst[n-1], w[8]
		dw3Flat16(&x[0], &dst[0], &w[0], &f.offs, &f.masks[0], len(f.masks)/10, bias, lo, hi)
		return
	}
	d.rows(x, w, dst, d.p.H, d.p.PadH, d.p.OutH, bias, lo, hi)
}

// rows writes outH (at least four) output rows dst = clamp(conv(x, w) +
// bias, lo, hi) from the h input rows x, output row r reading input rows
// s·r−padH .. s·r−padH+2 (zero outside 0..h−1).
func (d *dw3Plan) rows(x, w, dst []float32, h, padH, outH int, bias, lo, hi float32) {
	p := d.p
	_ = x[h*p.W-1]
	_ = dst[outH*p.OutW-1]
	_ = w[8]
	if outH < 4 {
		panic("dw3Plan.rows: fewer than four output rows")
	}
	k := dw3s1x4
	if p.StrideW == 2 {
		k = dw3s2x4
	}
	k(&x[0], &dst[0], &dw3Zeros[0], &w[0], &d.masks[0], d.nblk, 4*p.W, h, outH, p.OutW, padH, d.colOff, bias, lo, hi)
}
