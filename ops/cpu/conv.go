package cpu

// Convolution as im2col + GEMM, over tiles of images.
//
// A tile of nb images is laid out as a column matrix col (C·KH·KW rows,
// nb·OH·OW columns): row (c, i, j) holds the input pixel under kernel tap
// (i, j) of channel c for every output position of every image, zero where
// the tap falls into the padding. Then for each group g
//
//	forward:  T_g   = W_g (OC/G × K_g) · col_g (K_g × nb·L)      L = OH·OW
//	weights:  dWᵀ_g += col_g · dYᵀ_gᵀ   (col read in place, dYᵀ packed)
//	inputs:   dcol_g = W_gᵀ · dYᵀ_g, then col2im adds dcol back into dx
//
// T and dYᵀ are (OC, nb·L): the tile's outputs with channels first, so
// one GEMM covers the tile; the copy to and from NCHW applies the bias and
// the fused ReLU (forward) or the ReLU's mask (backward).
//
// Tiles are small (the columns about tileBudget floats, so im2col's output
// is still in cache when the GEMM packs it) and each thread takes whole
// tiles (its own share first, then what the others left) and runs them
// alone: im2col, a serial GEMM and the copy back, with no synchronisation
// between the steps. Weight and bias gradients are summed per run of
// tiles (a fixed cut, not one per thread) and the runs added in order at
// the end (tilesInOrder).

import (
	"sync"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// tileBudget is the column-matrix size (floats) a tile aims for.
const tileBudget = 1 << 17

// convTile returns how many images share one im2col tile.
func convTile(p ops.ConvParams) int {
	per := p.C * p.KH * p.KW * p.OutH * p.OutW
	return max(1, min(p.N, tileBudget/max(per, 1)))
}

// convChunk is convTile (the name the tests use for "several tiles").
func convChunk(p ops.ConvParams) int { return convTile(p) }

// keepBudget caps the im2col columns a training forward keeps for the
// weight gradient (floats per layer, 64 MiB); above it backward rebuilds
// them tile by tile.
const keepBudget = 1 << 24

// convSaved is what Conv2dAct keeps for Conv2dActBackward: the column
// matrix of every tile.
type convSaved struct {
	buf  []float32   // one scratch buffer holding every tile's columns
	cols [][]float32 // tile ti's columns, a window of buf
}

// tiles runs fn(tile) for tiles 0..n-1 on the worker pool, each thread
// taking first the tiles of its own share, then those the others have not
// taken (workers.spread: the same thread computes the same rows in every
// layer, and one that starts late or loses its core does fewer tiles);
// each thread's tileState starts empty (fn fills its buffers on first
// use, from the scratch of the thread's slot) and done sees it after its
// last.
func (b *Backend) tiles(n int, fn func(tile int, st *tileState), done func(st *tileState)) {
	b.tileLoop(n, fn, done, false)
}

// tilesPut is tiles for an fn that takes its buffers from the slot's
// scratch: each thread gives back those it took (col, t, dcol, off) after
// its last tile.
func (b *Backend) tilesPut(n int, fn func(tile int, st *tileState)) {
	b.tileLoop(n, fn, nil, true)
}

// tileLoop is tiles, and with put tilesPut.
func (b *Backend) tileLoop(n int, fn func(tile int, st *tileState), done func(st *tileState), put bool) {
	if n <= 0 {
		return
	}
	threads := min(b.w.n, n)
	l := tileLoops.Get().(*tileLoop)
	if cap(l.sts) < threads {
		l.sts = make([]tileState, threads)
	}
	l.sts, l.fn, l.done, l.b, l.put = l.sts[:threads], fn, done, b, put
	b.w.spread(n, threads, l.run) // returns once no thread runs l.run: l is free again
	clear(l.sts)
	l.fn, l.done, l.b = nil, nil, nil
	tileLoops.Put(l)
}

// tileLoop is one tiles call's state: fn, done and each rank's
// tileState. It is pooled (tileLoops), with run bound once, so that tiles
// allocates nothing of its own (a closure and a tileState per thread
// before: a few dozen objects a batch-1 forward).
type tileLoop struct {
	fn   func(tile int, st *tileState)
	done func(st *tileState)
	b    *Backend // with put: whose scratch takes the buffers back
	put  bool
	sts  []tileState       // by rank
	run  func(*items, int) // l.rank
}

var tileLoops = sync.Pool{New: func() any {
	l := &tileLoop{}
	l.run = l.rank
	return l
}}

// rank is one thread's part of the loop: its tiles, then done.
func (l *tileLoop) rank(it *items, slot int) {
	st := &l.sts[it.rank]
	*st = tileState{slot: slot}
	for t, ok := it.next(); ok; t, ok = it.next() {
		l.fn(t, st)
	}
	if l.done != nil {
		l.done(st)
	}
	if l.put {
		l.b.putBufs(st.slot, st.col, st.t, st.dcol)
		l.b.tmp.putInts(st.slot, st.off)
	}
}

// tilesInOrder is tiles for work that sums over tiles (the weight and bias
// gradients): the tiles are cut into sumRuns contiguous runs, each run
// summing its tiles in order into its own tileSums, the runs spread over
// the workers; add then sees the runs' sums in run order, after all have
// finished. Run boundaries depend on n alone, so the sums come out bit for
// bit the same from run to run and on any number of workers (a shared
// counter hands tiles out by timing, which reorders float additions).
func (b *Backend) tilesInOrder(n int, fn func(tile int, st *tileState, sums *tileSums), add func(sums *tileSums)) {
	runs := min(sumRuns, n)
	sums := make([]tileSums, runs)
	for i := range sums {
		sums[i].run = i
	}
	b.w.ForSlots(runs, 1, func(lo, hi, slot int) {
		st := &tileState{slot: slot}
		for run := lo; run < hi; run++ {
			t0, t1 := runSpan(n, runs, run)
			for t := t0; t < t1; t++ {
				fn(t, st, &sums[run])
			}
		}
		b.putBufs(st.slot, st.col, st.t, st.dcol)
	})
	for i := range sums {
		add(&sums[i])
	}
}

// tileState is one thread's buffers, taken from the scratch of the slot
// that runs it (workers.ForSlots).
type tileState struct {
	slot         int
	col, t, dcol []float32
	arg          []int32 // pooling indices (discarded)
	off          []int   // direct convolution's tap offsets
}

// tileSums is one run's partial weight (transposed) and bias gradients.
type tileSums struct {
	run     int // index among the runs
	dwt, db []float32
	any     bool // dwt holds a product (beta 1 from then on)
}

// putBufs returns the non-nil buffers to slot's scratch.
func (b *Backend) putBufs(slot int, bufs ...[]float32) {
	for _, buf := range bufs {
		if buf != nil {
			b.tmp.put(slot, buf)
		}
	}
}

// Conv2d computes y = conv(x, w) + b.
func (b *Backend) Conv2d(p ops.ConvParams, x, w, bias, y *ops.Tensor) error {
	_, err := b.Conv2dAct(p, x, w, bias, y, false, false)
	return err
}

// Conv2dAct computes y = act(conv(x, w) + b), act ReLU or identity, with
// the activation applied as the output is written. With keep (and the
// columns under keepBudget) it returns the im2col columns for the weight
// gradient.
func (b *Backend) Conv2dAct(p ops.ConvParams, x, w, bias, y *ops.Tensor, relu, keep bool) (any, error) {
	if !keep && depthwise(p) { // no columns to keep: the direct depthwise kernel (conv_dw.go)
		return nil, b.depthwiseForward(p, x, w, bias, y, reluEpilogue(relu))
	}
	if !keep && directOK(p) {
		return nil, b.Conv2dFused(p, x, w, y, ops.ConvFusion{Shift: biasShift(p, bias), ReLU: relu})
	}
	return b.conv2dRows(p, x, w, bias, y, keep, func(src, dst []float32, v float32) { biasReLURow(src, dst, v, relu) })
}

// rowFunc writes one output row dst = act(src + bias) of a convolution
// (src the channel-major GEMM output of one image and channel).
type rowFunc func(src, dst []float32, bias float32)

// conv2dRows is the forward of every convolution whose activation acts
// element by element: each tile's im2col and GEMM, then row writes each
// output row (Conv2dAct's ReLU, Conv2dEpilogue's clip/hardswish/...).
func (b *Backend) conv2dRows(p ops.ConvParams, x, w, bias, y *ops.Tensor, keep bool, row rowFunc) (any, error) {
	if !keep && directOK(p) {
		g := directGeomFor(p)
		b.directForward(g, b.directTiles(g), x.Data, w.Data, g.directRows(y.Data, bias, row), nil)
		return nil, nil
	}
	nb := convTile(p)
	K, L := p.C*p.KH*p.KW, p.OutH*p.OutW
	nt := (p.N + nb - 1) / nb
	var saved *convSaved
	if keep && K*p.N*L <= keepBudget {
		per := K * nb * L
		saved = &convSaved{buf: b.tmp.get(callerSlot, nt*per), cols: make([][]float32, nt)}
		for ti := range nt {
			saved.cols[ti] = saved.buf[ti*per:][:per]
		}
	}
	if b.wide(p, nb, nt) { // too few tiles to go round: spread each one's steps
		b.wideTiles(p, nb, nt, saved, func(col, t []float32, n0, cnt int) {
			b.parFor(cnt*p.OutC, L, func(q int) {
				img, oc := q/p.OutC, q%p.OutC
				row(t[oc*cnt*L+img*L:][:L], y.Data[((n0+img)*p.OutC+oc)*L:][:L], biasAt(bias, oc))
			})
		}, x.Data, w.Data)
		if saved == nil {
			return nil, nil
		}
		return saved, nil
	}
	b.tiles(nt, func(ti int, st *tileState) {
		n0 := ti * nb
		cnt := min(nb, p.N-n0)
		if saved != nil {
			st.col = saved.cols[ti]
		} else if st.col == nil {
			st.col = b.tmp.get(st.slot, K*nb*L)
		}
		if st.t == nil {
			st.t = b.tmp.get(st.slot, p.OutC*nb*L)
		}
		col, t := st.col[:K*cnt*L], st.t[:p.OutC*cnt*L]
		im2col(p, x.Data, n0, cnt, col)
		groupGemm(p, false, w.Data, col, t, cnt*L)
		fromChannelMajor(p, t, y.Data, n0, cnt, bias, row)
	}, func(st *tileState) {
		if saved == nil {
			b.putBufs(st.slot, st.col)
		}
		b.putBufs(st.slot, st.t)
	})
	if saved == nil {
		return nil, nil
	}
	return saved, nil
}

// Conv2dReLUMaxPool2 computes y = maxpool2x2(relu(conv(x, w) + b)): each
// tile's channel-major GEMM output is pooled straight into y (the bias and
// ReLU commute with the window maximum), so the full-size activation is
// never written.
func (b *Backend) Conv2dReLUMaxPool2(p ops.ConvParams, x, w, bias, y *ops.Tensor) error {
	if b.useWino(p) { // 3×3 stride 1 where it wins: Winograd (conv_wino.go)
		b.winoReLUMaxPool2(p, x, w, bias, y)
		return nil
	}
	if directOK(p) {
		b.conv2dReLUMaxPool2Direct(p, x, w, bias, y)
		return nil
	}
	nb := convTile(p)
	K, L := p.C*p.KH*p.KW, p.OutH*p.OutW
	nt := (p.N + nb - 1) / nb
	pp := ops.PoolParams{H: p.OutH, W: p.OutW, KH: 2, KW: 2, StrideH: 2, StrideW: 2, OutH: p.OutH / 2, OutW: p.OutW / 2}
	pl := pp.OutH * pp.OutW
	if b.wide(p, nb, nt) {
		b.wideTiles(p, nb, nt, nil, func(col, t []float32, n0, cnt int) {
			b.w.For(cnt*p.OutC, max(1, grain/max(L, 1)), func(lo, hi int) {
				a := make([]int32, pl)
				for q := lo; q < hi; q++ {
					img, oc := q/p.OutC, q%p.OutC
					dst := y.Data[((n0+img)*p.OutC+oc)*pl:][:pl]
					maxPool2x2Plane(pp, t[oc*cnt*L+img*L:][:L], dst, a, 0)
					biasReLURow(dst, dst, biasAt(bias, oc), true)
				}
			})
		}, x.Data, w.Data)
		return nil
	}
	b.tiles(nt, func(ti int, st *tileState) {
		n0 := ti * nb
		cnt := min(nb, p.N-n0)
		if st.col == nil {
			st.col, st.t, st.arg = b.tmp.get(st.slot, K*nb*L), b.tmp.get(st.slot, p.OutC*nb*L), make([]int32, pl)
		}
		col, t := st.col[:K*cnt*L], st.t[:p.OutC*cnt*L]
		im2col(p, x.Data, n0, cnt, col)
		groupGemm(p, false, w.Data, col, t, cnt*L)
		for img := range cnt {
			for oc := range p.OutC {
				dst := y.Data[((n0+img)*p.OutC+oc)*pl:][:pl]
				maxPool2x2Plane(pp, t[oc*cnt*L+img*L:][:L], dst, st.arg, 0)
				var v float32
				if bias != nil {
					v = bias.Data[oc]
				}
				biasReLURow(dst, dst, v, true)
			}
		}
	}, func(st *tileState) {
		b.putBufs(st.slot, st.col, st.t)
	})
	return nil
}

// groupGemm runs, per group, out_g = op(A_g)·in_g where A is the weight
// (OC, K_g): forward (trans false) multiplies W_g by col_g; backward-data
// (trans true) multiplies W_gᵀ by dYᵀ_g. It runs on the calling thread.
func groupGemm(p ops.ConvParams, trans bool, w, in, out []float32, cols int) {
	g := p.Groups
	ocg, kg := p.OutC/g, p.C/g*p.KH*p.KW
	for gi := range g {
		wg := w[gi*ocg*kg : (gi+1)*ocg*kg]
		if !trans {
			groupForward(ocg, kg, wg, in[gi*kg*cols:], out[gi*ocg*cols:], cols)
		} else {
			gemm.SgemmSerial(true, false, kg, cols, ocg, 1, wg, kg, in[gi*ocg*cols:], cols, 0, out[gi*kg*cols:], cols)
		}
	}
}

// Conv2dBackward accumulates dx, dw and db.
func (b *Backend) Conv2dBackward(p ops.ConvParams, x, w, dy, dx, dw, db *ops.Tensor) error {
	return b.Conv2dActBackward(p, x, w, nil, dy, dx, dw, db, false, nil)
}

// Conv2dActBackward accumulates dx, dw and db of y = act(conv(x, w) + b);
// with relu, dy is masked where y ≤ 0 as it is copied to channel-major
// order. saved is Conv2dAct's result (nil: rebuild the columns).
func (b *Backend) Conv2dActBackward(p ops.ConvParams, x, w, y, dy, dx, dw, db *ops.Tensor, relu bool, saved any) error {
	nb := convTile(p)
	K, L := p.C*p.KH*p.KW, p.OutH*p.OutW
	g := p.Groups
	ocg, kg := p.OutC/g, p.C/g*p.KH*p.KW
	nt := (p.N + nb - 1) / nb
	sv, _ := saved.(*convSaved)
	if sv != nil && len(sv.cols) != nt {
		sv = nil
	}
	var mask []float32
	if relu {
		mask = y.Data
	}
	var dwts []float32 // every run's transposed weight gradient
	if dw != nil {
		dwts = b.tmp.get(callerSlot, min(sumRuns, nt)*g*kg*ocg)
		defer b.tmp.put(callerSlot, dwts)
	}
	b.tilesInOrder(nt, func(ti int, st *tileState, sums *tileSums) {
		n0 := ti * nb
		cnt := min(nb, p.N-n0)
		cols := cnt * L
		if st.t == nil {
			st.t = b.tmp.get(st.slot, p.OutC*nb*L)
		}
		dyt := st.t[:p.OutC*cols]
		toChannelMajor(p, dy.Data, mask, dyt, n0, cnt)
		if db != nil {
			if sums.db == nil {
				sums.db = make([]float32, p.OutC)
			}
			for r := range p.OutC {
				sums.db[r] += float32(sum32(dyt[r*cols : (r+1)*cols]))
			}
		}
		if dw != nil {
			var col []float32
			if sv != nil {
				col = sv.cols[ti][:K*cols]
			} else {
				if st.col == nil {
					st.col = b.tmp.get(st.slot, K*nb*L)
				}
				col = st.col[:K*cols]
				im2col(p, x.Data, n0, cnt, col)
			}
			if sums.dwt == nil {
				sums.dwt = dwts[sums.run*g*kg*ocg:][:g*kg*ocg]
			}
			beta := float32(0)
			if sums.any {
				beta = 1
			}
			sums.any = true
			for gi := range g {
				gemm.SgemmSerial(false, true, kg, ocg, cols, 1, col[gi*kg*cols:], cols, dyt[gi*ocg*cols:], cols, beta, sums.dwt[gi*kg*ocg:], ocg)
			}
		}
		if dx != nil {
			if st.dcol == nil {
				st.dcol = b.tmp.get(st.slot, K*nb*L)
			}
			dcol := st.dcol[:K*cols]
			groupGemm(p, true, w.Data, dyt, dcol, cols)
			col2im(p, dcol, dx.Data, n0, cnt)
		}
	}, func(sums *tileSums) {
		for r, v := range sums.db {
			db.Data[r] += v
		}
		if sums.any {
			for gi := range g {
				t, d := sums.dwt[gi*kg*ocg:][:kg*ocg], dw.Data[gi*ocg*kg:][:ocg*kg]
				for o := range ocg {
					row := d[o*kg:][:kg]
					for k := range row {
						row[k] += t[k*ocg+o]
					}
				}
			}
		}
	})
	if sv != nil {
		b.tmp.put(callerSlot, sv.buf)
		sv.buf, sv.cols = nil, nil
	}
	return nil
}

// im2col fills col (K rows × cnt·L columns) for images n0..n0+cnt.
func im2col(p ops.ConvParams, x []float32, n0, cnt int, col []float32) {
	for img := range cnt {
		for c := range p.C {
			im2colPlane(p, x, n0, cnt, img, c, col)
		}
	}
}

// validRange returns the output columns [lo, hi) whose input column
// iw0 + ow·stride lies inside [0, w).
func validRange(iw0, stride, w, outW int) (lo, hi int) {
	lo = 0
	if iw0 < 0 {
		lo = (-iw0 + stride - 1) / stride
	}
	hi = outW
	if last := iw0 + (outW-1)*stride; last >= w {
		hi = (w - 1 - iw0) / stride
		if w-1-iw0 >= 0 {
			hi++
		} else {
			hi = 0
		}
	}
	return min(lo, outW), max(min(hi, outW), min(lo, outW))
}

// im2colTap writes the input values under tap (i, j) for every output
// position of one channel plane.
func im2colTap(p ops.ConvParams, plane, row []float32, i, j int) {
	iw0 := -p.PadW + j*p.DilW
	lo, hi := validRange(iw0, p.StrideW, p.W, p.OutW)
	if vec16 && p.StrideW == 1 && p.OutW <= 32 {
		// one or two masked vectors per output row (the Go loop below
		// spends more on its short copy and clear calls than on the data)
		_ = row[p.OutH*p.OutW-1]
		im2colTap32(&plane[0], p.H, p.W, &row[0], p.OutW, p.OutH, -p.PadH+i*p.DilH, lo, hi, iw0, p.StrideH)
		return
	}
	for oh := range p.OutH {
		ih := oh*p.StrideH - p.PadH + i*p.DilH
		out := row[oh*p.OutW : (oh+1)*p.OutW]
		if ih < 0 || ih >= p.H || lo >= hi {
			clear(out)
			continue
		}
		clear(out[:lo])
		clear(out[hi:])
		src := plane[ih*p.W : (ih+1)*p.W]
		if p.StrideW == 1 {
			copy(out[lo:hi], src[iw0+lo:iw0+hi])
			continue
		}
		for ow := lo; ow < hi; ow++ {
			out[ow] = src[iw0+ow*p.StrideW]
		}
	}
}

// col2im adds dcol back into dx for images n0..n0+cnt.
func col2im(p ops.ConvParams, dcol, dx []float32, n0, cnt int) {
	L, cols := p.OutH*p.OutW, cnt*p.OutH*p.OutW
	taps := p.KH * p.KW
	for img := range cnt {
		for c := range p.C {
			plane := dx[((n0+img)*p.C+c)*p.H*p.W:][:p.H*p.W]
			for k := range taps {
				row := dcol[(c*taps+k)*cols+img*L:][:L]
				col2imTap(p, row, plane, k/p.KW, k%p.KW)
			}
		}
	}
}

func col2imTap(p ops.ConvParams, row, plane []float32, i, j int) {
	iw0 := -p.PadW + j*p.DilW
	lo, hi := validRange(iw0, p.StrideW, p.W, p.OutW)
	if lo >= hi {
		return
	}
	if vec16 && p.StrideW == 1 && p.OutW <= 32 {
		_ = row[p.OutH*p.OutW-1]
		col2imTap32(&plane[0], p.H, p.W, &row[0], p.OutW, p.OutH, -p.PadH+i*p.DilH, lo, hi, iw0, p.StrideH)
		return
	}
	for oh := range p.OutH {
		ih := oh*p.StrideH - p.PadH + i*p.DilH
		if ih < 0 || ih >= p.H {
			continue
		}
		dst := plane[ih*p.W : (ih+1)*p.W]
		src := row[oh*p.OutW+lo : oh*p.OutW+hi]
		if p.StrideW == 1 {
			d := dst[iw0+lo : iw0+hi]
			for k, v := range src {
				d[k] += v
			}
			continue
		}
		for k, v := range src {
			dst[iw0+(lo+k)*p.StrideW] += v
		}
	}
}

// fromChannelMajor writes t (OC, cnt·L) into NCHW y, adding the bias and
// applying ReLU when relu is set.
func fromChannelMajor(p ops.ConvParams, t, y []float32, n0, cnt int, bias *ops.Tensor, row rowFunc) {
	L := p.OutH * p.OutW
	for img := range cnt {
		for oc := range p.OutC {
			row(t[oc*cnt*L+img*L:][:L], y[((n0+img)*p.OutC+oc)*L:][:L], biasAt(bias, oc))
		}
	}
}

// toChannelMajor copies NCHW dy of images n0.. into t (OC, cnt·L); with a
// mask (the ReLU output) it copies dy only where mask > 0 and 0 elsewhere.
func toChannelMajor(p ops.ConvParams, dy, mask, t []float32, n0, cnt int) {
	L := p.OutH * p.OutW
	for img := range cnt {
		for oc := range p.OutC {
			at := ((n0+img)*p.OutC + oc) * L
			dst := t[oc*cnt*L+img*L:][:L]
			if mask == nil {
				copy(dst, dy[at:][:L])
				continue
			}
			maskedCopyRow(mask[at:][:L], dy[at:][:L], dst)
		}
	}
}

// wideWork is the multiply-adds per tile above which a tile's steps are
// spread over the workers when there are fewer tiles than workers: below
// it, three hand-offs per convolution cost more than they save.
const wideWork = 1 << 24

// wide says whether the forward runs its tiles with wideTiles.
func (b *Backend) wide(p ops.ConvParams, nb, nt int) bool {
	return nt < b.w.n && nb*p.OutH*p.OutW*p.OutC*(p.C/max(p.Groups, 1))*p.KH*p.KW >= wideWork
}

// wideTiles runs the forward of tiles one after another with each step
// spread over the workers — im2col over (image, channel) planes, the GEMM
// over gemm's threads (over groups when grouped), out over the tile's
// channel-major result — for batches with fewer tiles than workers (batch
// 1 inference). Every output element is computed as on one thread (the
// GEMM splits only the output), so results do not depend on the workers.
func (b *Backend) wideTiles(p ops.ConvParams, nb, nt int, saved *convSaved, out func(col, t []float32, n0, cnt int), x, w []float32) {
	K, L := p.C*p.KH*p.KW, p.OutH*p.OutW
	col, t := []float32(nil), b.tmp.get(callerSlot, p.OutC*nb*L)
	if saved == nil {
		col = b.tmp.get(callerSlot, K*nb*L)
		defer b.tmp.put(callerSlot, col)
	}
	defer b.tmp.put(callerSlot, t)
	for ti := range nt {
		n0 := ti * nb
		cnt := min(nb, p.N-n0)
		c := col
		if saved != nil {
			c = saved.cols[ti]
		}
		c, tt := c[:K*cnt*L], t[:p.OutC*cnt*L]
		b.parFor(cnt*p.C, p.KH*p.KW*L, func(q int) { im2colPlane(p, x, n0, cnt, q/p.C, q%p.C, c) })
		g := p.Groups
		ocg, kg := p.OutC/g, p.C/g*p.KH*p.KW
		if g == 1 {
			gemm.Sgemm(false, false, ocg, cnt*L, kg, 1, w, kg, c, cnt*L, 0, tt, cnt*L)
		} else {
			b.parFor(g, ocg*kg*cnt*L, func(gi int) {
				groupForward(ocg, kg, w[gi*ocg*kg:][:ocg*kg], c[gi*kg*cnt*L:], tt[gi*ocg*cnt*L:], cnt*L)
			})
		}
		out(c, tt, n0, cnt)
	}
}

// parFor runs fn(i) for i in [0, n) on the workers, in grains of about
// grain floats of work (cost each).
func (b *Backend) parFor(n, cost int, fn func(i int)) {
	b.w.For(n, max(1, grain/max(cost, 1)), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			fn(i)
		}
	})
}

// biasAt is bias[oc], 0 without a bias.
func biasAt(bias *ops.Tensor, oc int) float32 {
	if bias == nil {
		return 0
	}
	return bias.Data[oc]
}

// im2colPlane is im2col's rows of one (image, channel) plane.
func im2colPlane(p ops.ConvParams, x []float32, n0, cnt, img, c int, col []float32) {
	L, cols, taps := p.OutH*p.OutW, cnt*p.OutH*p.OutW, p.KH*p.KW
	plane := x[((n0+img)*p.C+c)*p.H*p.W:][:p.H*p.W]
	for k := range taps {
		im2colTap(p, plane, col[(c*taps+k)*cols+img*L:][:L], k/p.KW, k%p.KW)
	}
}
