//go:build !amd64 || purego

package cpu

// axpy adds a·x to y.
func axpy(a float32, x, y []float32) { axpyGo(a, x, y) }

// biasClipRow writes y = min(max(x + b, lo), hi).
func biasClipRow(x, y []float32, b, lo, hi float32) { biasClipRowGo(x, y, b, lo, hi) }

// dwRowsFast has no vector kernel here: plane runs its axpy rows.
func dwRowsFast(pl *dwPlan, buf, w, dst []float32, bias, lo, hi float32) bool { return false }

// padRows writes rows rows of n floats, dst[r·dstep+k] = src[r·sstep+k·s].
func padRows(s int, src, dst []float32, rows, n, sstep, dstep int) {
	padRowsGo(s, src, dst, rows, n, sstep, dstep)
}

// plane computes through the padded plan (newDW3Plan returns no plan here:
// there are no unpadded kernels).
func (d *dw3Plan) plane(x, w, dst []float32, bias, lo, hi float32) {
	pl := newDWPlan(d.p)
	buf := make([]float32, pl.rows*pl.rs)
	pl.pad(x, buf)
	pl.plane(buf, w, dst, bias, lo, hi)
}

// rows computes rows of a plane through the padded plan (see plane).
func (d *dw3Plan) rows(x, w, dst []float32, h, padH, outH int, bias, lo, hi float32) {
	p := d.p
	p.H, p.PadH, p.OutH = h, padH, outH
	(&dw3Plan{p: p}).plane(x, w, dst, bias, lo, hi)
}
