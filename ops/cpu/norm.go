package cpu

import (
	"math"

	"github.com/qpipe/qpipe/ops"
)

// channelRuns calls fn with each contiguous run of channel c in the
// (Outer, C, Inner) view.
func channelRuns(p ops.NormParams, data []float32, c int, fn func(run []float32, off int)) {
	for o := range p.Outer {
		off := (o*p.C + c) * p.Inner
		fn(data[off:off+p.Inner], off)
	}
}

// BatchNormStats computes per-channel mean and biased variance (two-pass,
// float64 accumulation).
func (b *Backend) BatchNormStats(p ops.NormParams, x, mean, variance *ops.Tensor) error {
	n := float64(p.Outer * p.Inner)
	b.w.For(p.C, 1, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			var s float64
			channelRuns(p, x.Data, c, func(run []float32, _ int) { s += sum32(run) })
			m := s / n
			var v float64
			channelRuns(p, x.Data, c, func(run []float32, _ int) {
				for _, e := range run {
					d := float64(e) - m
					v += d * d
				}
			})
			mean.Data[c], variance.Data[c] = float32(m), float32(v/n)
		}
	})
	return nil
}

// BatchNorm computes y = (x-mean)·invstd·gamma + beta.
func (b *Backend) BatchNorm(p ops.NormParams, x, mean, invstd, gamma, beta, y *ops.Tensor) error {
	b.w.For(p.Outer*p.C, max(1, grain/max(p.Inner, 1)), func(lo, hi int) {
		for q := lo; q < hi; q++ {
			c := q % p.C
			scale, shift := invstd.Data[c], -mean.Data[c]*invstd.Data[c]
			if gamma != nil {
				scale, shift = scale*gamma.Data[c], shift*gamma.Data[c]
			}
			if beta != nil {
				shift += beta.Data[c]
			}
			src, dst := x.Data[q*p.Inner:(q+1)*p.Inner], y.Data[q*p.Inner:(q+1)*p.Inner]
			for i, v := range src {
				dst[i] = v*scale + shift
			}
		}
	})
	return nil
}

// BatchNormBackward accumulates dx, dgamma and dbeta. With batch
// statistics: dx = gamma·invstd·(dy - mean(dy) - x̂·mean(dy·x̂)).
func (b *Backend) BatchNormBackward(p ops.NormParams, x, mean, invstd, gamma, dy, dx, dgamma, dbeta *ops.Tensor, batchStats bool) error {
	n := float64(p.Outer * p.Inner)
	b.w.For(p.C, 1, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			m, is := mean.Data[c], invstd.Data[c]
			var sdy, sdyx float64
			channelRuns(p, dy.Data, c, func(run []float32, off int) {
				xs := x.Data[off : off+len(run)]
				for i, g := range run {
					sdy += float64(g)
					sdyx += float64(g * (xs[i] - m) * is)
				}
			})
			if dgamma != nil {
				dgamma.Data[c] += float32(sdyx)
			}
			if dbeta != nil {
				dbeta.Data[c] += float32(sdy)
			}
			if dx == nil {
				continue
			}
			k := is
			if gamma != nil {
				k *= gamma.Data[c]
			}
			a, bb := float32(0), float32(0)
			if batchStats {
				a, bb = float32(sdy/n), float32(sdyx/n)
			}
			channelRuns(p, dy.Data, c, func(run []float32, off int) {
				xs, ds := x.Data[off:off+len(run)], dx.Data[off:off+len(run)]
				for i, g := range run {
					ds[i] += k * (g - a - (xs[i]-m)*is*bb)
				}
			})
		}
	})
	return nil
}

// LayerNorm normalises each row.
func (b *Backend) LayerNorm(p ops.NormParams, x, gamma, beta, y, mean, rstd *ops.Tensor) error {
	d := p.C
	b.w.For(p.Outer, max(1, grain/max(d, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			src, dst := x.Data[r*d:(r+1)*d], y.Data[r*d:(r+1)*d]
			if vec16 && d > 0 && gamma != nil && beta != nil {
				s, v := lnStats16(&src[0], d)
				mf := s / float32(d)
				is := float32(1 / math.Sqrt(float64(v)/float64(d)+float64(p.Eps)))
				mean.Data[r], rstd.Data[r] = mf, is
				lnApply16(&src[0], &dst[0], &gamma.Data[0], &beta.Data[0], d, mf, is)
				continue
			}
			m := sum32(src) / float64(d)
			var v float64
			for _, e := range src {
				v += (float64(e) - m) * (float64(e) - m)
			}
			is := float32(1 / math.Sqrt(v/float64(d)+float64(p.Eps)))
			mf := float32(m)
			mean.Data[r], rstd.Data[r] = mf, is
			for i, e := range src {
				h := (e - mf) * is
				if gamma != nil {
					h *= gamma.Data[i]
				}
				if beta != nil {
					h += beta.Data[i]
				}
				dst[i] = h
			}
		}
	})
	return nil
}

// LayerNormBackward accumulates dx (per row, in parallel) and dgamma, dbeta
// (in a fixed order: per column without AVX-512, per run of rows with it).
func (b *Backend) LayerNormBackward(p ops.NormParams, x, mean, rstd, gamma, dy, dx, dgamma, dbeta *ops.Tensor) error {
	d := p.C
	if dx != nil {
		b.w.For(p.Outer, max(1, grain/max(d, 1)), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				layerNormRowGrad(x.Data[r*d:(r+1)*d], dy.Data[r*d:(r+1)*d], dx.Data[r*d:(r+1)*d], mean.Data[r], rstd.Data[r], gamma)
			}
		})
	}
	if dgamma == nil && dbeta == nil {
		return nil
	}
	if vec16 && d > 0 {
		b.layerNormParamGrad16(p, x, mean, rstd, dy, dgamma, dbeta)
		return nil
	}
	b.w.For(d, 16, func(lo, hi int) {
		for r := range p.Outer {
			xs, gs := x.Data[r*d:(r+1)*d], dy.Data[r*d:(r+1)*d]
			m, is := mean.Data[r], rstd.Data[r]
			for i := lo; i < hi; i++ {
				if dgamma != nil {
					dgamma.Data[i] += gs[i] * (xs[i] - m) * is
				}
				if dbeta != nil {
					dbeta.Data[i] += gs[i]
				}
			}
		}
	})
	return nil
}

// layerNormParamGrad16 accumulates dgamma and dbeta with AVX-512: the rows
// are cut into sumRuns runs, each summed in row order into its own partial
// (runs spread over the workers), and the partials are added in run order,
// so the result has the same bits on any number of workers.
func (b *Backend) layerNormParamGrad16(p ops.NormParams, x, mean, rstd, dy, dgamma, dbeta *ops.Tensor) {
	d := p.C
	runs := min(sumRuns, p.Outer)
	part := b.tmp.get(callerSlot, runs*2*d)
	defer b.tmp.put(callerSlot, part)
	clear(part)
	perRun := max(1, p.Outer/max(runs, 1))
	b.w.For(runs, max(1, grain/(d*perRun)), func(lo, hi int) {
		for run := lo; run < hi; run++ {
			var pg, pb *float32
			if dgamma != nil {
				pg = &part[run*2*d]
			}
			if dbeta != nil {
				pb = &part[run*2*d+d]
			}
			r0, r1 := runSpan(p.Outer, runs, run)
			for r := r0; r < r1; r++ {
				lnParamGrad16(&x.Data[r*d], &dy.Data[r*d], pg, pb, d, mean.Data[r], rstd.Data[r])
			}
		}
	})
	for run := range runs {
		pg, pb := part[run*2*d:][:d], part[run*2*d+d:][:d]
		if dgamma != nil {
			for i, v := range pg {
				dgamma.Data[i] += v
			}
		}
		if dbeta != nil {
			for i, v := range pb {
				dbeta.Data[i] += v
			}
		}
	}
}

// layerNormRowGrad: dx = rstd·(g - mean(g) - x̂·mean(g·x̂)), g = dy·gamma.
func layerNormRowGrad(x, dy, dx []float32, m, is float32, gamma *ops.Tensor) {
	if vec16 && len(x) > 0 && gamma != nil {
		lnGrad16(&x[0], &dy[0], &gamma.Data[0], &dx[0], len(x), m, is)
		return
	}
	var sg, sgx float64
	for i, v := range dy {
		g := v
		if gamma != nil {
			g *= gamma.Data[i]
		}
		sg += float64(g)
		sgx += float64(g * (x[i] - m) * is)
	}
	n := float64(len(x))
	a, c := float32(sg/n), float32(sgx/n)
	for i, v := range dy {
		g := v
		if gamma != nil {
			g *= gamma.Data[i]
		}
		dx[i] += is * (g - a - (x[i]-m)*is*c)
	}
}
