package cpu

// Convolution as im2col + GEMM.
//
// Images are processed in chunks of nb. im2col lays a chunk out as a
// column matrix col (C·KH·KW rows, nb·OH·OW columns): row (c, i, j) holds
// the input pixel under kernel tap (i, j) of channel c for every output
// position of every image, zero where the tap falls into the padding. Then
// for each group g
//
//	forward:  T_g   = W_g (OC/G × K_g) · col_g (K_g × nb·L)      L = OH·OW
//	weights:  dW_g += dYᵀ_g (OC/G × nb·L) · col_gᵀ
//	inputs:   dcol_g = W_gᵀ · dYᵀ_g, then col2im adds dcol back into dx
//
// T and dYᵀ are (OC, nb·L): the chunk's outputs with channels first, so
// one GEMM covers the whole chunk; a parallel copy moves them to and from
// NCHW. The chunk size keeps col under colBudget floats.

import "github.com/qpipe/qpipe/ops"

const colBudget = 1 << 21

// convChunk returns how many images share one im2col buffer.
func convChunk(p ops.ConvParams) int {
	per := p.C * p.KH * p.KW * p.OutH * p.OutW
	return max(1, min(p.N, colBudget/max(per, 1)))
}

// Conv2d computes y = conv(x, w) + b.
func (b *Backend) Conv2d(p ops.ConvParams, x, w, bias, y *ops.Tensor) error {
	_, err := b.Conv2dAct(p, x, w, bias, y, false, false)
	return err
}

// keepBudget caps the im2col columns a training forward keeps for the
// weight gradient (floats per layer, 64 MiB); above it backward rebuilds
// them chunk by chunk.
const keepBudget = 1 << 24

// convSaved is what Conv2dAct keeps for Conv2dActBackward: the column
// matrix of every chunk.
type convSaved struct{ cols [][]float32 }

// Conv2dAct computes y = act(conv(x, w) + b), act ReLU or identity, with
// the activation applied as the output is written. With keep (and the
// columns under keepBudget) it returns the im2col columns for the weight
// gradient.
func (b *Backend) Conv2dAct(p ops.ConvParams, x, w, bias, y *ops.Tensor, relu, keep bool) (any, error) {
	nb := convChunk(p)
	K, L := p.C*p.KH*p.KW, p.OutH*p.OutW
	var saved *convSaved
	if keep && K*p.N*L <= keepBudget {
		saved = &convSaved{}
	}
	for n0 := 0; n0 < p.N; n0 += nb {
		cnt := min(nb, p.N-n0)
		col, t := b.tmp.get(K*cnt*L), b.tmp.get(p.OutC*cnt*L)
		b.im2col(p, x.Data, n0, cnt, col)
		b.groupGemm(p, false, w.Data, col, t, cnt*L, 0)
		b.fromChannelMajor(p, t, y.Data, n0, cnt, bias, relu)
		if saved != nil {
			saved.cols = append(saved.cols, col)
		} else {
			b.tmp.put(col)
		}
		b.tmp.put(t)
	}
	if saved == nil {
		return nil, nil
	}
	return saved, nil
}

// groupGemm runs, per group, c_g = op(A_g)·b_g where A is the weight
// (OC, K_g): forward (trans false) multiplies W_g by col_g; backward-data
// (trans true) multiplies W_gᵀ by dYᵀ_g.
func (b *Backend) groupGemm(p ops.ConvParams, trans bool, w, in, out []float32, cols int, beta float32) {
	g := p.Groups
	ocg, kg := p.OutC/g, p.C/g*p.KH*p.KW
	for gi := range g {
		wg := w[gi*ocg*kg : (gi+1)*ocg*kg]
		if !trans {
			sgemm(false, false, ocg, cols, kg, 1, wg, kg, in[gi*kg*cols:], cols, beta, out[gi*ocg*cols:], cols)
		} else {
			sgemm(true, false, kg, cols, ocg, 1, wg, kg, in[gi*ocg*cols:], cols, beta, out[gi*kg*cols:], cols)
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
	nb := convChunk(p)
	K, L := p.C*p.KH*p.KW, p.OutH*p.OutW
	g := p.Groups
	ocg, kg := p.OutC/g, p.C/g*p.KH*p.KW
	sv, _ := saved.(*convSaved)
	var mask, dwt []float32
	if relu {
		mask = y.Data
	}
	for ci, n0 := 0, 0; n0 < p.N; ci, n0 = ci+1, n0+nb {
		cnt := min(nb, p.N-n0)
		cols := cnt * L
		dyt := b.tmp.get(p.OutC * cols)
		b.toChannelMajor(p, dy.Data, mask, dyt, n0, cnt)
		if db != nil {
			b.rowSums(dyt, p.OutC, cols, db.Data)
		}
		if dw != nil {
			var col []float32
			if sv != nil && ci < len(sv.cols) {
				col = sv.cols[ci]
			} else {
				col = b.tmp.get(K * cols)
				b.im2col(p, x.Data, n0, cnt, col)
			}
			// dWᵀ_g (kg × ocg) = col_g · dYᵀ_gᵀ: the GEMM reads the wide
			// column matrix in place and packs only the narrower dYᵀ.
			if dwt == nil {
				dwt = b.tmp.get(g * kg * ocg)
			}
			beta := float32(1)
			if n0 == 0 {
				beta = 0
			}
			for gi := range g {
				sgemm(false, true, kg, ocg, cols, 1, col[gi*kg*cols:], cols, dyt[gi*ocg*cols:], cols, beta, dwt[gi*kg*ocg:], ocg)
			}
			b.tmp.put(col)
		}
		if dx != nil {
			dcol := b.tmp.get(K * cols)
			b.groupGemm(p, true, w.Data, dyt, dcol, cols, 0)
			b.col2im(p, dcol, dx.Data, n0, cnt)
			b.tmp.put(dcol)
		}
		b.tmp.put(dyt)
	}
	if dwt != nil {
		for gi := range g {
			t, d := dwt[gi*kg*ocg:][:kg*ocg], dw.Data[gi*ocg*kg:][:ocg*kg]
			for o := range ocg {
				row := d[o*kg:][:kg]
				for k := range row {
					row[k] += t[k*ocg+o]
				}
			}
		}
		b.tmp.put(dwt)
	}
	if sv != nil {
		sv.cols = nil
	}
	return nil
}

// im2col fills col (K rows × cnt·L columns) for images n0..n0+cnt.
func (b *Backend) im2col(p ops.ConvParams, x []float32, n0, cnt int, col []float32) {
	L, cols := p.OutH*p.OutW, cnt*p.OutH*p.OutW
	taps := p.KH * p.KW
	b.w.For(cnt*p.C, 1, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			img, c := t/p.C, t%p.C
			plane := x[((n0+img)*p.C+c)*p.H*p.W:][:p.H*p.W]
			for k := range taps {
				row := col[(c*taps+k)*cols+img*L:][:L]
				im2colTap(p, plane, row, k/p.KW, k%p.KW)
			}
		}
	})
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
func (b *Backend) col2im(p ops.ConvParams, dcol, dx []float32, n0, cnt int) {
	L, cols := p.OutH*p.OutW, cnt*p.OutH*p.OutW
	taps := p.KH * p.KW
	b.w.For(cnt*p.C, 1, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			img, c := t/p.C, t%p.C
			plane := dx[((n0+img)*p.C+c)*p.H*p.W:][:p.H*p.W]
			for k := range taps {
				row := dcol[(c*taps+k)*cols+img*L:][:L]
				col2imTap(p, row, plane, k/p.KW, k%p.KW)
			}
		}
	})
}

func col2imTap(p ops.ConvParams, row, plane []float32, i, j int) {
	iw0 := -p.PadW + j*p.DilW
	lo, hi := validRange(iw0, p.StrideW, p.W, p.OutW)
	if lo >= hi {
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
func (b *Backend) fromChannelMajor(p ops.ConvParams, t, y []float32, n0, cnt int, bias *ops.Tensor, relu bool) {
	L := p.OutH * p.OutW
	b.w.For(cnt*p.OutC, max(1, grain/L), func(lo, hi int) {
		for q := lo; q < hi; q++ {
			img, oc := q/p.OutC, q%p.OutC
			src := t[oc*cnt*L+img*L:][:L]
			dst := y[((n0+img)*p.OutC+oc)*L:][:L]
			var v float32
			if bias != nil {
				v = bias.Data[oc]
			}
			biasReLURow(src, dst, v, relu)
		}
	})
}

// toChannelMajor copies NCHW dy of images n0.. into t (OC, cnt·L); with a
// mask (the ReLU output) it copies dy only where mask > 0 and 0 elsewhere.
func (b *Backend) toChannelMajor(p ops.ConvParams, dy, mask, t []float32, n0, cnt int) {
	L := p.OutH * p.OutW
	b.w.For(cnt*p.OutC, max(1, grain/L), func(lo, hi int) {
		for q := lo; q < hi; q++ {
			img, oc := q/p.OutC, q%p.OutC
			at := ((n0+img)*p.OutC + oc) * L
			dst := t[oc*cnt*L+img*L:][:L]
			if mask == nil {
				copy(dst, dy[at:][:L])
				continue
			}
			maskedCopyRow(mask[at:][:L], dy[at:][:L], dst)
		}
	})
}

// rowSums accumulates out[r] += Σ m[r, :] for a (rows, cols) matrix.
func (b *Backend) rowSums(m []float32, rows, cols int, out []float32) {
	b.w.For(rows, max(1, grain/cols), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			out[r] += float32(sum32(m[r*cols : (r+1)*cols]))
		}
	})
}
