package opstest

import (
	"math"
)

// arr is a float64 reference array: plain loops over it define what every
// primitive must compute.
type arr struct {
	shape []int
	data  []float64
}

func newArr(shape ...int) arr {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return arr{shape: append([]int(nil), shape...), data: make([]float64, n)}
}

func (a arr) clone() arr {
	return arr{shape: append([]int(nil), a.shape...), data: append([]float64(nil), a.data...)}
}

func strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// unravel turns a flat index into a multi-index.
func unravel(i int, shape []int) []int {
	idx := make([]int, len(shape))
	for k := len(shape) - 1; k >= 0; k-- {
		idx[k] = i % shape[k]
		i /= shape[k]
	}
	return idx
}

// at reads a at a multi-index aligned to the right of idx, broadcasting
// unit axes.
func (a arr) bcastAt(idx []int) float64 {
	off := 0
	st := strides(a.shape)
	for k := range a.shape {
		j := len(idx) - len(a.shape) + k
		if a.shape[k] != 1 {
			off += idx[j] * st[k]
		}
	}
	return a.data[off]
}

func bcastShape(a, b []int) []int {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := range n {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		out[i] = max(da, db)
	}
	return out
}

func refBinary(a, b arr, f func(x, y float64) float64) arr {
	out := newArr(bcastShape(a.shape, b.shape)...)
	for i := range out.data {
		idx := unravel(i, out.shape)
		out.data[i] = f(a.bcastAt(idx), b.bcastAt(idx))
	}
	return out
}

func refMap(a arr, f func(float64) float64) arr {
	out := a.clone()
	for i, v := range out.data {
		out.data[i] = f(v)
	}
	return out
}

// refMatMul multiplies the last two axes, batching (or broadcasting a
// single matrix) over the leading ones.
func refMatMul(a, b arr, ta, tb bool) arr {
	ra, rb := len(a.shape), len(b.shape)
	m, k := a.shape[ra-2], a.shape[ra-1]
	if ta {
		m, k = k, m
	}
	n := b.shape[rb-1]
	if tb {
		n = b.shape[rb-2]
	}
	batchShape := a.shape[:ra-2]
	if len(b.shape[:rb-2]) > len(batchShape) {
		batchShape = b.shape[:rb-2]
	}
	batch := 1
	for _, d := range batchShape {
		batch *= d
	}
	out := newArr(append(append([]int(nil), batchShape...), m, n)...)
	sa, sb := m*k, k*n
	if ra == 2 {
		sa = 0
	}
	if rb == 2 {
		sb = 0
	}
	get := func(x arr, off, r, c, cols int, t bool) float64 {
		if t {
			return x.data[off+c*cols+r]
		}
		return x.data[off+r*cols+c]
	}
	for bi := range batch {
		for i := range m {
			for j := range n {
				var s float64
				for p := range k {
					av := get(a, bi*sa, i, p, a.shape[ra-1], ta)
					bv := get(b, bi*sb, p, j, b.shape[rb-1], tb)
					s += av * bv
				}
				out.data[(bi*m+i)*n+j] = s
			}
		}
	}
	return out
}

func refLinear(x, w arr, b *arr) arr {
	y := refMatMul(x, w, false, true)
	if b != nil {
		y = refBinary(y, *b, func(u, v float64) float64 { return u + v })
	}
	return y
}

type convGeom struct{ sh, sw, ph, pw, dh, dw, groups int }

func refConv2d(x, w arr, b *arr, g convGeom) arr {
	out := newArr(convOutShape(x, w, g)...)
	inner := len(out.data) / (out.shape[0] * out.shape[1])
	for i := range out.data {
		if b != nil {
			out.data[i] = b.data[(i/inner)%out.shape[1]]
		}
	}
	convTaps(x, w, g, func(o, xi, wi int) { out.data[o] += x.data[xi] * w.data[wi] })
	return out
}

// refConv2dGrads returns the gradients of Σ conv(x, w, b)·r with respect
// to x, w and (when hasBias) b: each product x·w of the forward sends r
// back to both factors.
func refConv2dGrads(x, w arr, hasBias bool, g convGeom, r arr) []arr {
	dx, dw := newArr(x.shape...), newArr(w.shape...)
	convTaps(x, w, g, func(o, xi, wi int) {
		dx.data[xi] += r.data[o] * w.data[wi]
		dw.data[wi] += r.data[o] * x.data[xi]
	})
	if !hasBias {
		return []arr{dx, dw}
	}
	return []arr{dx, dw, refReduce(r, []int{0, 2, 3}, false).reshaped(w.shape[0])}
}

func convOutShape(x, w arr, g convGeom) []int {
	h, wd := x.shape[2], x.shape[3]
	kh, kw := w.shape[2], w.shape[3]
	return []int{x.shape[0], w.shape[0], (h+2*g.ph-g.dh*(kh-1)-1)/g.sh + 1, (wd+2*g.pw-g.dw*(kw-1)-1)/g.sw + 1}
}

// convTaps calls f(output, input, weight) with the flat indices of every
// product of a grouped, strided, dilated, padded convolution.
func convTaps(x, w arr, g convGeom, f func(o, xi, wi int)) {
	n, c, h, wd := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	oc, cg, kh, kw := w.shape[0], w.shape[1], w.shape[2], w.shape[3]
	os := convOutShape(x, w, g)
	oh, ow := os[2], os[3]
	ocg := oc / g.groups
	for ni := range n {
		for o := range oc {
			grp := o / ocg
			for y := range oh {
				for xo := range ow {
					at := ((ni*oc+o)*oh+y)*ow + xo
					for ci := range cg {
						cin := grp*cg + ci
						for i := range kh {
							for j := range kw {
								ih, iw := y*g.sh-g.ph+i*g.dh, xo*g.sw-g.pw+j*g.dw
								if ih < 0 || ih >= h || iw < 0 || iw >= wd {
									continue
								}
								f(at, ((ni*c+cin)*h+ih)*wd+iw, ((o*cg+ci)*kh+i)*kw+j)
							}
						}
					}
				}
			}
		}
	}
}

// reshaped returns a with a new shape of the same size.
func (a arr) reshaped(shape ...int) arr { return arr{shape: shape, data: a.data} }

type poolGeom struct {
	kh, kw, sh, sw, ph, pw int
	countPad               bool
}

func refPool(x arr, g poolGeom, isMax bool) arr {
	n, c, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	oh, ow := (h+2*g.ph-g.kh)/g.sh+1, (w+2*g.pw-g.kw)/g.sw+1
	out := newArr(n, c, oh, ow)
	for q := range n * c {
		for y := range oh {
			for xo := range ow {
				best, sum, cnt := math.Inf(-1), 0.0, 0
				for i := range g.kh {
					for j := range g.kw {
						ih, iw := y*g.sh-g.ph+i, xo*g.sw-g.pw+j
						if ih < 0 || ih >= h || iw < 0 || iw >= w {
							if g.countPad && ih < h+g.ph && iw < w+g.pw {
								cnt++
							}
							continue
						}
						v := x.data[(q*h+ih)*w+iw]
						best, sum, cnt = math.Max(best, v), sum+v, cnt+1
					}
				}
				if isMax {
					out.data[(q*oh+y)*ow+xo] = best
				} else {
					out.data[(q*oh+y)*ow+xo] = sum / float64(cnt)
				}
			}
		}
	}
	return out
}

// refReduce sums (or averages) over axes, keeping them as size 1.
func refReduce(x arr, axes []int, mean bool) arr {
	kept := append([]int(nil), x.shape...)
	count := 1
	for _, a := range axes {
		kept[a] = 1
		count *= x.shape[a]
	}
	out := newArr(kept...)
	for i, v := range x.data {
		idx := unravel(i, x.shape)
		for _, a := range axes {
			idx[a] = 0
		}
		off := 0
		for k, s := range strides(kept) {
			off += idx[k] * s
		}
		out.data[off] += v
	}
	if mean {
		for i := range out.data {
			out.data[i] /= float64(count)
		}
	}
	return out
}

func refSoftmax(x arr, axis int, log bool) arr {
	if axis < 0 {
		axis += len(x.shape)
	}
	out := x.clone()
	inner := strides(x.shape)[axis]
	dim := x.shape[axis]
	outer := len(x.data) / (dim * inner)
	for o := range outer {
		for in := range inner {
			base := o*dim*inner + in
			m := math.Inf(-1)
			for i := range dim {
				m = math.Max(m, x.data[base+i*inner])
			}
			var s float64
			for i := range dim {
				s += math.Exp(x.data[base+i*inner] - m)
			}
			for i := range dim {
				v := x.data[base+i*inner] - m - math.Log(s)
				if !log {
					v = math.Exp(v)
				}
				out.data[base+i*inner] = v
			}
		}
	}
	return out
}

func refCrossEntropy(x arr, labels []int) arr {
	ls := refSoftmax(x, 1, true)
	k := x.shape[1]
	var s float64
	for r, l := range labels {
		s -= ls.data[r*k+l]
	}
	return arr{shape: []int{}, data: []float64{s / float64(len(labels))}}
}

func refKL(s, t arr, temp float64) arr {
	div := func(v float64) float64 { return v / temp }
	ls, lt := refSoftmax(refMap(s, div), 1, true), refSoftmax(refMap(t, div), 1, true)
	var sum float64
	for i := range ls.data {
		sum += math.Exp(lt.data[i]) * (lt.data[i] - ls.data[i])
	}
	return arr{shape: []int{}, data: []float64{sum / float64(s.shape[0])}}
}

// refNorm normalises x over the given axes with per-index gamma/beta
// along affAxis (-1: none).
func refBatchNorm(x, gamma, beta, mean, variance arr, eps float64) arr {
	out := x.clone()
	c := x.shape[1]
	inner := len(x.data) / (x.shape[0] * c)
	for i, v := range x.data {
		ch := (i / inner) % c
		out.data[i] = (v-mean.data[ch])/math.Sqrt(variance.data[ch]+eps)*gamma.data[ch] + beta.data[ch]
	}
	return out
}

// refBatchStats returns per-channel mean and biased variance.
func refBatchStats(x arr) (mean, variance arr) {
	c := x.shape[1]
	inner := len(x.data) / (x.shape[0] * c)
	mean, variance = newArr(c), newArr(c)
	n := float64(len(x.data) / c)
	for i, v := range x.data {
		mean.data[(i/inner)%c] += v / n
	}
	for i, v := range x.data {
		d := v - mean.data[(i/inner)%c]
		variance.data[(i/inner)%c] += d * d / n
	}
	return mean, variance
}

func refLayerNorm(x arr, gamma, beta *arr, eps float64) arr {
	d := x.shape[len(x.shape)-1]
	out := x.clone()
	for r := range len(x.data) / d {
		row := x.data[r*d : (r+1)*d]
		var m, v float64
		for _, e := range row {
			m += e / float64(d)
		}
		for _, e := range row {
			v += (e - m) * (e - m) / float64(d)
		}
		for i, e := range row {
			h := (e - m) / math.Sqrt(v+eps)
			if gamma != nil {
				h *= gamma.data[i]
			}
			if beta != nil {
				h += beta.data[i]
			}
			out.data[r*d+i] = h
		}
	}
	return out
}

func refPermute(x arr, perm []int) arr {
	shape := make([]int, len(perm))
	for i, p := range perm {
		shape[i] = x.shape[p]
	}
	out := newArr(shape...)
	xs := strides(x.shape)
	for i := range out.data {
		idx := unravel(i, shape)
		off := 0
		for k, p := range perm {
			off += idx[k] * xs[p]
		}
		out.data[i] = x.data[off]
	}
	return out
}

func refReshape(x arr, shape ...int) arr {
	out := x.clone()
	out.shape = append([]int(nil), shape...)
	return out
}

func refConcat(axis int, xs ...arr) arr {
	shape := append([]int(nil), xs[0].shape...)
	shape[axis] = 0
	for _, x := range xs {
		shape[axis] += x.shape[axis]
	}
	out := newArr(shape...)
	for i := range out.data {
		idx := unravel(i, shape)
		k := idx[axis]
		for _, x := range xs {
			if k < x.shape[axis] {
				idx[axis] = k
				off := 0
				for a, s := range strides(x.shape) {
					off += idx[a] * s
				}
				out.data[i] = x.data[off]
				break
			}
			k -= x.shape[axis]
		}
	}
	return out
}

func refSlice(x arr, axis, start, step, n int) arr {
	shape := append([]int(nil), x.shape...)
	shape[axis] = n
	out := newArr(shape...)
	xs := strides(x.shape)
	for i := range out.data {
		idx := unravel(i, shape)
		idx[axis] = start + idx[axis]*step
		off := 0
		for a, s := range xs {
			off += idx[a] * s
		}
		out.data[i] = x.data[off]
	}
	return out
}

func refRoll(x arr, shift, axis int) arr {
	out := x.clone()
	xs := strides(x.shape)
	d := x.shape[axis]
	for i, v := range x.data {
		idx := unravel(i, x.shape)
		idx[axis] = ((idx[axis]+shift)%d + d) % d
		off := 0
		for a, s := range xs {
			off += idx[a] * s
		}
		out.data[off] = v
	}
	return out
}

func refGather(table arr, index []int32) arr {
	d := table.shape[1]
	out := newArr(len(index), d)
	for i, r := range index {
		copy(out.data[i*d:(i+1)*d], table.data[int(r)*d:(int(r)+1)*d])
	}
	return out
}

// refAttention computes softmax(scale·q·kᵀ + bias + mask[b % nW])·v.
func refAttention(q, k, v arr, bias, mask *arr, scale float64) arr {
	s := refMatMul(q, k, false, true)
	bsz, h, n := s.shape[0], s.shape[1], s.shape[2]
	for i := range s.data {
		s.data[i] *= scale
		idx := unravel(i, s.shape)
		if bias != nil {
			s.data[i] += bias.bcastAt(idx)
		}
		if mask != nil {
			nw := mask.shape[0]
			s.data[i] += mask.data[((idx[0]%nw)*n+idx[2])*n+idx[3]]
		}
	}
	_ = bsz * h
	return refMatMul(refSoftmax(s, -1, false), v, false, false)
}

// refFakeQuant mirrors torch.fake_quantize with round-half-even.
func refFakeQuant(x, scale, zp arr, axis int, qmin, qmax float64) arr {
	out := x.clone()
	for i, v := range x.data {
		s, z := quantChannel(x, scale, zp, axis, i)
		q := math.Min(math.Max(math.RoundToEven(v/s)+z, qmin), qmax)
		out.data[i] = (q - z) * s
	}
	return out
}

func quantChannel(x, scale, zp arr, axis, i int) (s, z float64) {
	c := 0
	if len(scale.data) > 1 {
		c = unravel(i, x.shape)[axis]
	}
	s = scale.data[c]
	if len(zp.data) > 0 {
		z = zp.data[c]
	}
	return s, z
}

var (
	geluErf  = func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }
	geluTanh = func(x float64) float64 {
		return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
	}
	sigmoid   = func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	hardswish = func(x float64) float64 { return x * math.Min(math.Max(x+3, 0), 6) / 6 }
)
