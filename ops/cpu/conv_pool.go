package cpu

import (
	"github.com/qpipe/qpipe/ops"
)

// The stem of a resnet at inference: conv 7×7 stride 2 → batch norm →
// ReLU → max pool 3×3 stride 2 (ops.ConvPoolBackend) as one step computed
// band by band. A band of pooled rows a..b−1 of one image needs the
// convolution's rows 2a−1..2b−1; its GEMM writes them, batch norm and
// ReLU applied in the epilogue, into a scratch that stays in the core's
// L2, and the 3×3 stride-2 pool (pool3s2Rows) reads them there and
// writes y. The convolution's output (3.2 MB for resnet18 at 224×224)
// never goes to memory and back. Row 2a−1 is the last row of the band
// above: a thread that ran that band just before carries it over (one
// row copied per channel), else it computes it again. Each output is the
// same GEMM column sum as in Conv2dFused (the same kernel, the same
// epilogue) and a maximum is exact, so y is bit for bit Conv2dFused's
// output pooled by MaxPool2dInfer, on any number of workers.

// convPoolBand is one tile of Conv2dFusedMaxPool: pooled rows a..b−1 of
// image n.
type convPoolBand struct{ n, a, b int }

// ConvPoolFuses reports whether Conv2dFusedMaxPool computes p, f and pp:
// the 3×3 stride-2 padding-1 pool (pool3s2OK) of a direct convolution in
// the gapless layout (strided: resnets' stems) whose whole-image tiles
// take the GEMM kernel (not the dot columns), without a residual.
func (b *Backend) ConvPoolFuses(p ops.ConvParams, pp ops.PoolParams, f ops.ConvFusion) bool {
	if f.Res != nil || !directOK(p) || b.useWino(p) || !pool3s2OK(pp) {
		return false
	}
	if pp.N != p.N || pp.C != p.OutC || pp.H != p.OutH || pp.W != p.OutW {
		return false
	}
	g := directGeomFor(p)
	return g.gapless() && !g.pointwise() && !dotTailImage(g)
}

// convPoolRows is the fewest pooled rows a band holds, and its scratch
// budget: the band's input copy and its convolution rows together within
// convPoolBudget floats (half the core's 1 MiB L2 for resnet18's stem:
// bands of 5 pooled rows, 11 conv rows).
const (
	convPoolRows   = 2
	convPoolBudget = tileBudget
)

// Conv2dFusedMaxPool computes y = maxpool_pp(act(conv(x, w)·scale +
// shift)) band by band (see above); ConvPoolFuses must hold.
func (b *Backend) Conv2dFusedMaxPool(p ops.ConvParams, pp ops.PoolParams, x, w, y *ops.Tensor, f ops.ConvFusion) error {
	g := directGeomFor(p)
	bands := b.convPoolBands(g, pp)
	k := 0
	for _, t := range bands {
		k = max(k, t.b-t.a)
	}
	rows := 2*k + 1 // conv rows 2a−1..2b−1 of the tallest band
	K := p.C * p.KH * p.KW
	maxIn := p.C * g.used * g.planeLen(directTile{cnt: 1, oh1: rows, oc1: p.OutC})
	ep := rowEpilogue(f, 0, p.OutC)
	ohw := pp.OutH * pp.OutW
	b.w.spread(len(bands), min(b.w.n, len(bands)), func(it *items, slot int) {
		in, conv := b.tmp.get(slot, maxIn), b.tmp.get(slot, p.OutC*rows*p.OutW)
		off, tmp := b.tmp.getInts(slot, K), b.tmp.get(slot, p.OutW+66)
		last := -1 // the band this thread ran just before
		for ti, ok := it.next(); ok; ti, ok = it.next() {
			t := bands[ti]
			base, lo := 2*t.a-1, max(2*t.a-1, 0)
			if last == ti-1 && ti > 0 && bands[last].n == t.n && t.a > 0 {
				carryRow(conv, p.OutC, rows*p.OutW, p.OutW, 2*t.a-1-(2*bands[last].a-1))
				lo = 2 * t.a
			}
			tl := directTile{n0: t.n, cnt: 1, oh0: lo, oh1: min(2*t.b, p.OutH), oc1: p.OutC}
			buf := in[:p.C*g.used*g.planeLen(tl)]
			g.fill(tl, x.Data, buf, off)
			pointwiseInto(g, tl, p.OutC, (tl.oh1-tl.oh0)*p.OutW, K, w.Data, buf, off, conv[(lo-base)*p.OutW:], rows*p.OutW, ep)
			for c := range p.OutC {
				q := t.n*pp.C + c
				pool3s2Rows(pp, conv[c*rows*p.OutW:][:rows*p.OutW], y.Data[q*ohw:][:ohw], tmp, t.a, t.b, base)
			}
			last = ti
		}
		b.putBufs(slot, in, conv, tmp)
		b.tmp.putInts(slot, off)
	})
	return nil
}

// carryRow copies row from of each of the scratch's planes (plane floats
// apart, rows of w) to its row 0: the band above's last conv row, the
// first the next band reads.
func carryRow(conv []float32, planes, plane, w, from int) {
	for c := range planes {
		copy(conv[c*plane:][:w], conv[c*plane+from*w:][:w])
	}
}

// convPoolBands cuts p's images into bands of pooled rows: as tall as
// the scratch budget allows (input copy and conv rows), at least
// convPoolRows, in a count per image that the workers share evenly
// (evenBands), in order, so that each worker runs consecutive bands and
// carries the shared row from one to the next.
func (b *Backend) convPoolBands(g *directGeom, pp ops.PoolParams) []convPoolBand {
	p := g.p
	perRow := (p.C*g.used + p.OutC) * g.wp // floats per conv row, input and output
	most := max(convPoolRows, (convPoolBudget/max(perRow, 1)-1)/2)
	q := p
	q.OutH = pp.OutH
	nb := b.evenBands(q, most, 1)
	ts := make([]convPoolBand, 0, p.N*nb)
	for n := range p.N {
		for i := range nb {
			ts = append(ts, convPoolBand{n: n, a: pp.OutH * i / nb, b: pp.OutH * (i + 1) / nb})
		}
	}
	return ts
}
