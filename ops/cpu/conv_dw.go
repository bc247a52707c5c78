package cpu

import (
	"math"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// Grouped convolutions with few output channels per group (depthwise:
// one) multiply a handful of weight rows by the group's columns: the
// GEMM's 14-row micro-kernel would run at a fraction of its width, so
// each output row is built as Σ_k w[o,k]·col[k], one vector multiply-add
// pass per column row.
//
// At inference a depthwise convolution (one input channel per group, as in
// MobileNets) skips the column matrix altogether (depthwiseForward). The
// 3×3 undilated ones at stride 1 and 2 read their input in place
// (conv_dw3.go); for the others each input plane is copied once into a
// zero-padded buffer whose rows are split
// into StrideW phases (column k·s+φ of the padded row goes to phase φ), so
// that every kernel tap of every output row reads one contiguous run —
// stride 1 and 2 alike, with no test for the padding inside the loop — and
// each output row is the taps' multiply-adds, bias and clamp in one pass.

// narrowGroup is the most output channels per group done by axpy rows.
const narrowGroup = 4

// groupForward computes out_g (ocg × cols) = W_g (ocg × kg) · col_g.
func groupForward(ocg, kg int, wg, colg, outg []float32, cols int) {
	if ocg > narrowGroup {
		gemm.SgemmSerial(false, false, ocg, cols, kg, 1, wg, kg, colg, cols, 0, outg, cols)
		return
	}
	for o := range ocg {
		row := outg[o*cols:][:cols]
		clear(row)
		for k, a := range wg[o*kg:][:kg] {
			axpy(a, colg[k*cols:][:cols], row)
		}
	}
}

// axpyGo is axpy in Go, with the same fused multiply-add.
func axpyGo(a float32, x, y []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] = float32(math.FMA(float64(a), float64(x[i]), float64(y[i])))
	}
}

// depthwise says whether a convolution has one input channel per group
// (output channels a multiple of the input's), the case depthwiseForward
// computes directly.
func depthwise(p ops.ConvParams) bool {
	return p.Groups > 1 && p.Groups == p.C && p.OutC%p.C == 0
}

// dwPlan is the layout of a depthwise convolution's padded input plane.
type dwPlan struct {
	p    ops.ConvParams
	mult int    // output channels per input channel
	taps int    // KH·KW
	s    int    // StrideW: phases per padded row
	pws  int    // columns of one phase
	rs   int    // floats per padded row (s·pws)
	rows int    // padded rows the outputs read
	step int    // floats between the first padded rows of two output rows
	offs []int  // per tap (i, j), its offset from the output row's first padded row
	cols []span // per phase, the columns that lie inside the input row
}

// span is a half-open range of columns.
type span struct{ lo, hi int }

func newDWPlan(p ops.ConvParams) *dwPlan {
	s := p.StrideW
	pws := p.OutW + (p.KW-1)*p.DilW/s
	pl := &dwPlan{p: p, mult: p.OutC / p.C, taps: p.KH * p.KW, s: s, pws: pws, rs: s * pws,
		rows: (p.OutH-1)*p.StrideH + (p.KH-1)*p.DilH + 1}
	pl.step = p.StrideH * pl.rs
	for i := range p.KH {
		for j := range p.KW {
			c := j * p.DilW // the tap's padded column for output column 0
			pl.offs = append(pl.offs, i*p.DilH*pl.rs+(c%s)*pws+c/s)
		}
	}
	for ph := range s {
		lo, hi := validRange(ph-p.PadW, s, p.W, pws)
		pl.cols = append(pl.cols, span{lo, hi})
	}
	return pl
}

// pad writes the input plane x (H×W) into buf (rows × rs): padded row r
// is input row r−PadH, its column k·s+φ (input column k·s+φ−PadW) at
// φ·pws+k. It writes only the positions inside the input: the padding
// stays as zeroBorders left it (a worker's planes share one buffer).
func (pl *dwPlan) pad(x, buf []float32) {
	p := pl.p
	r0 := min(p.PadH, pl.rows)
	r1 := max(r0, min(pl.rows, p.PadH+p.H))
	if r0 == r1 {
		return
	}
	for ph, c := range pl.cols {
		if c.lo >= c.hi {
			continue
		}
		// phase ph of rows r0..r1-1: columns c.lo..c.hi-1, read from input
		// column c.lo·s+ph−PadW of rows r0−PadH.. on
		src := x[(r0-p.PadH)*p.W+c.lo*pl.s+ph-p.PadW:]
		dst := buf[r0*pl.rs+ph*pl.pws+c.lo:]
		padRows(pl.s, src, dst, r1-r0, c.hi-c.lo, p.W, pl.rs)
	}
}

// padRowsGo is padRows in Go: rows rows of n floats, dst[r·dstep+k] =
// src[r·sstep+k·s].
func padRowsGo(s int, src, dst []float32, rows, n, sstep, dstep int) {
	for r := range rows {
		d := dst[r*dstep:][:n]
		row := src[r*sstep:]
		if s == 1 {
			copy(d, row[:n])
			continue
		}
		for k := range d {
			d[k] = row[k*s]
		}
	}
}

// zeroBorders clears buf (rows × rs) where pad writes nothing.
func (pl *dwPlan) zeroBorders(buf []float32) {
	p := pl.p
	r0 := min(p.PadH, pl.rows)
	r1 := max(r0, min(pl.rows, p.PadH+p.H))
	clear(buf[:r0*pl.rs])
	clear(buf[r1*pl.rs:])
	for r := r0; r < r1; r++ {
		for ph, c := range pl.cols {
			d := buf[r*pl.rs+ph*pl.pws:][:pl.pws]
			clear(d[:c.lo])
			clear(d[c.hi:])
		}
	}
}

// plane writes one output plane dst (OutH×OutW) = clamp(Σ_taps w·x + bias,
// lo, hi) from the padded input buf, summing the taps in order with fused
// multiply-adds (as the column-matrix path does).
func (pl *dwPlan) plane(buf, w, dst []float32, bias, lo, hi float32) {
	p := pl.p
	if dwRowsFast(pl, buf, w, dst, bias, lo, hi) {
		return
	}
	for oh := range p.OutH {
		row := dst[oh*p.OutW:][:p.OutW]
		clear(row)
		base := oh * pl.step
		for t, a := range w[:pl.taps] {
			axpy(a, buf[base+pl.offs[t]:][:p.OutW], row)
		}
		biasClipRow(row, row, bias, lo, hi)
	}
}

// clampOf returns the bounds that compute act as a clamp, and whether act
// needs its own pass instead (hardswish, hardsigmoid: clamp bounds ±Inf).
func clampOf(act ops.Epilogue) (lo, hi float32, own bool) {
	inf := float32(math.Inf(1))
	switch act.Kind {
	case ops.EpilogueNone:
		return -inf, inf, false
	case ops.EpilogueClip:
		return act.Lo, act.Hi, false
	}
	return -inf, inf, true
}

// reluEpilogue is ReLU (relu set) or the identity as an epilogue.
func reluEpilogue(relu bool) ops.Epilogue {
	if !relu {
		return ops.Epilogue{}
	}
	return ops.Epilogue{Kind: ops.EpilogueClip, Lo: 0, Hi: float32(math.Inf(1))}
}

// depthwiseForward computes y = act(conv(x, w) + b) for a depthwise
// convolution: (image, input channel) planes spread over the workers, each
// read in place by the unpadded 3×3 kernels (conv_dw3.go) or else padded
// once into a worker's buffer, then read by its output channels. Every
// output is computed by one thread in a fixed order, so results do not
// depend on the number of workers.
func (b *Backend) depthwiseForward(p ops.ConvParams, x, w, bias, y *ops.Tensor, act ops.Epilogue) error {
	pl, d := newDWPlan(p), newDW3Plan(p)
	lo, hi, own := clampOf(act)
	L, HW := p.OutH*p.OutW, p.H*p.W
	cost := pl.mult * L * pl.taps
	if d == nil {
		cost += pl.rows * pl.rs
	}
	b.w.ForSlots(p.N*p.C, max(1, grain/max(cost, 1)), func(q0, q1, slot int) {
		var buf []float32
		if d == nil {
			buf = b.tmp.get(slot, pl.rows*pl.rs)
			defer b.tmp.put(slot, buf)
			pl.zeroBorders(buf)
		}
		for q := q0; q < q1; q++ {
			n, c := q/p.C, q%p.C
			xq := x.Data[q*HW:][:HW]
			if d == nil {
				pl.pad(xq, buf)
			}
			for m := range pl.mult {
				oc := c*pl.mult + m
				dst := y.Data[(n*p.OutC+oc)*L:][:L]
				wo := w.Data[oc*pl.taps:][:pl.taps]
				if d != nil {
					d.plane(xq, wo, dst, biasAt(bias, oc), lo, hi)
				} else {
					pl.plane(buf, wo, dst, biasAt(bias, oc), lo, hi)
				}
				if own {
					epilogueRow(dst, dst, 0, act)
				}
			}
		}
	})
	return nil
}

// biasClipRowGo is biasClipRow in Go.
func biasClipRowGo(x, y []float32, b, lo, hi float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] = min(max(v+b, lo), hi)
	}
}
