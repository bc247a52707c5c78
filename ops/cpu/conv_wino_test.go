package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// winoGeoms are the shapes the Winograd path must get right: resnet's
// 3×3 same convolutions, heights and widths that are not multiples of
// the block (14×14: the cnn's conv2), images smaller than a block (1×1,
// 3×2, 2×5), padding 0 and 2, odd channel counts, and an image large
// enough to be cut into bands at any batch.
func winoGeoms() []ops.ConvParams {
	geoms := []ops.ConvParams{
		{C: 16, H: 32, W: 32, OutC: 16, PadH: 1, PadW: 1},
		{C: 32, H: 14, W: 14, OutC: 64, PadH: 1, PadW: 1},
		{C: 9, H: 13, W: 11, OutC: 13, PadH: 1, PadW: 1},
		{C: 8, H: 1, W: 1, OutC: 8, PadH: 1, PadW: 1},
		{C: 11, H: 3, W: 2, OutC: 9, PadH: 1, PadW: 1},
		{C: 8, H: 2, W: 5, OutC: 10, PadH: 2, PadW: 2},
		{C: 10, H: 9, W: 7, OutC: 8},
		{C: 12, H: 7, W: 10, OutC: 17, PadH: 2, PadW: 0},
		{C: 64, H: 8, W: 8, OutC: 64, PadH: 1, PadW: 1},
		{C: 48, H: 61, W: 37, OutC: 24, PadH: 1, PadW: 1}, // bands at any batch
	}
	for i := range geoms {
		p := &geoms[i]
		p.KH, p.KW, p.StrideH, p.StrideW, p.DilH, p.DilW, p.Groups = 3, 3, 1, 1, 1, 1, 1
		p.OutH, p.OutW = p.H+2*p.PadH-2, p.W+2*p.PadW-2
	}
	return geoms
}

// convAbsRef is the float64 convolution of x and w and, per output, the
// scale of the Winograd path's rounding error: the sum of |w|·|x| over
// every product its block of four rows forms (each of the block's six
// input rows times each kernel row's taps), which bounds the magnitude of
// the transformed products the output is combined from. (An output's
// own taps alone do not: at an image's edge they can be small while the
// rows below them are large.)
func convAbsRef(p ops.ConvParams, x, w []float32) (y, abs []float64) {
	y, abs = make([]float64, p.N*p.OutC*p.OutH*p.OutW), make([]float64, p.N*p.OutC*p.OutH*p.OutW)
	for n := range p.N {
		for oc := range p.OutC {
			for oh := range p.OutH {
				for ow := range p.OutW {
					var s, a float64
					for c := range p.C {
						for j := range 3 {
							iw := ow - p.PadW + j
							if iw < 0 || iw >= p.W {
								continue
							}
							var wAbs, xAbs float64
							for i := range 3 {
								wv := float64(w[((oc*p.C+c)*3+i)*3+j])
								wAbs += math.Abs(wv)
								if ih := oh - p.PadH + i; ih >= 0 && ih < p.H {
									s += float64(x[((n*p.C+c)*p.H+ih)*p.W+iw]) * wv
								}
							}
							for i := range winoIns {
								if ih := oh/winoRows*winoRows - p.PadH + i; ih >= 0 && ih < p.H {
									xAbs += math.Abs(float64(x[((n*p.C+c)*p.H+ih)*p.W+iw]))
								}
							}
							a += wAbs * xAbs
						}
					}
					o := ((n*p.OutC+oc)*p.OutH+oh)*p.OutW + ow
					y[o], abs[o] = s, a
				}
			}
		}
	}
	return y, abs
}

// winoTol is the bound on the Winograd convolution's error as a multiple
// of float32's epsilon times convAbsRef's sum of |w|·|x| (the largest
// measured by TestWinoMatchesReference, which logs it, is 1.8; the direct
// convolution's on the same data 0.7).
const winoTol = 8

// wino2Tol is winoTol for F(4×4,3×3), as a multiple of convAbsRef2's sum
// (the largest measured is 0.76; the same errors are up to 7.3 in
// convAbsRef's units, against F(4,3)'s 1.8).
const wino2Tol = 3

// TestWinoMatchesReference runs both Winograd forwards (F(4,3) and
// F(4×4,3×3)) of Conv2dFused with every fusion (scale, shift, residual,
// ReLU, clip) and of Conv2dReLUMaxPool2, batch 1, 3 and 8, on 1..3
// workers, against the float64 convolution within winoTol (wino2Tol),
// and requires the same bits on every worker count; it logs the largest
// error seen, next to the direct path's on the same data.
func TestWinoMatchesReference(t *testing.T) {
	if !winoOn || !directOK(ops.ConvParams{Groups: 1}) {
		t.Skip("no Winograd path on this CPU (or QPIPE_WINOGRAD=0)")
	}
	r := rand.New(rand.NewPCG(19, 20))
	fill := func(n int) []float32 { return normals(r, n) }
	fusions := winoFusions(fill)
	var worst [3]float64
	var worstDirect, worstDirect2, worst2In1 float64
	tiles := [3]map[string]bool{wino1D: {}, wino2D: {}}
	for gi, p := range winoGeoms() {
		for _, n := range []int{1, 3, 8} {
			p.N = n
			if !winoOK(p) {
				t.Fatalf("geom%d %+v does not take the Winograd path", gi, p)
			}
			x, w := fill(p.N*p.C*p.H*p.W), fill(p.OutC*p.C*9)
			conv, abs := convAbsRef(p, x, w)
			abs2 := convAbsRef2(p, x, w)
			direct := directConv(p, x, w)
			for i, c := range conv {
				worstDirect = max(worstDirect, math.Abs(float64(direct[i])-c)/(abs[i]*epsF32))
				worstDirect2 = max(worstDirect2, math.Abs(float64(direct[i])-c)/(abs2[i]*epsF32))
			}
			for _, kind := range []winoKind{wino1D, wino2D} {
				ab, tol := abs, float64(winoTol)
				if kind == wino2D {
					ab, tol = abs2, wino2Tol
				}
				for fi, fusion := range fusions {
					res := fill(len(conv))
					f := fusion(p.OutC, res)
					var first []float32
					for threads := 1; threads <= 3; threads++ {
						name := fmt.Sprintf("kind%d/geom%d/n%d/fusion%d/t%d", kind, gi, n, fi, threads)
						be := New(Options{Threads: threads})
						ts := be.winoTiles(newWinoGeom(p))
						if kind == wino2D {
							ts = be.wino2Tiles(newWino2Geom(p))
						}
						for _, tl := range ts {
							tiles[kind][winoTileKind(p, tl)] = true
						}
						y := ops.New(p.N, p.OutC, p.OutH, p.OutW)
						be.winoFusedAs(kind, p, &ops.Tensor{Data: x}, &ops.Tensor{Data: w}, y, f)
						worst[kind] = max(worst[kind], checkFused(t, name, p, y.Data, conv, ab, tol, res, f))
						if kind == wino2D && fi == 0 { // y = conv + shift: the 2-D error in F(4,3)'s units
							for i, c := range conv {
								want := c + float64(f.Shift[i/(p.OutH*p.OutW)%p.OutC])
								err := math.Abs(float64(y.Data[i])-want) - 2*epsF32*(math.Abs(want)+math.Abs(c))
								worst2In1 = max(worst2In1, err/(abs[i]*epsF32))
							}
						}
						if first == nil {
							first = y.Data
						} else if i := firstBitDiff(first, y.Data); i >= 0 {
							t.Fatalf("%s: y[%d] = %v on 1 worker, %v here", name, i, first[i], y.Data[i])
						}
					}
				}
				checkPooled(t, fmt.Sprintf("kind%d/geom%d/n%d", kind, gi, n), kind, p, x, w, conv, ab, tol, fill(p.OutC))
			}
		}
	}
	for _, kind := range []winoKind{wino1D, wino2D} {
		for _, k := range []string{"images", "bands", "channels"} {
			if !tiles[kind][k] {
				t.Errorf("kind %d: no geometry cut into %s tiles (seen %v)", kind, k, tiles[kind])
			}
		}
	}
	t.Logf("largest error / (eps·Σ|w||x|, F(4,3)'s sum): F(4,3) %.3f, direct %.3f", worst[wino1D], worstDirect)
	t.Logf("largest error / (eps·Σ|w||x|, F(4×4,3×3)'s sum): F(4×4,3×3) %.3f, direct %.3f", worst[wino2D], worstDirect2)
	t.Logf("largest F(4×4,3×3) error / (eps·Σ|w||x|, F(4,3)'s sum), no epilogue: %.3f", worst2In1)
}

// winoFusions is the epilogues the Winograd reference tests run, with
// random parameters from fill: a shift; scale, shift and ReLU; those and
// a residual; a shift, a residual and a clip.
func winoFusions(fill func(n int) []float32) []func(oc int, res []float32) ops.ConvFusion {
	return []func(oc int, res []float32) ops.ConvFusion{
		func(oc int, _ []float32) ops.ConvFusion { return ops.ConvFusion{Shift: fill(oc)} },
		func(oc int, _ []float32) ops.ConvFusion {
			return ops.ConvFusion{Scale: fill(oc), Shift: fill(oc), ReLU: true}
		},
		func(oc int, res []float32) ops.ConvFusion {
			return ops.ConvFusion{Scale: fill(oc), Shift: fill(oc), Res: &ops.Tensor{Data: res}, ReLU: true}
		},
		func(oc int, res []float32) ops.ConvFusion {
			return ops.ConvFusion{Shift: fill(oc), Res: &ops.Tensor{Data: res}, Clip: true, Lo: -0.5, Hi: 1}
		},
	}
}

// convAbsRef2 is, per output, the scale of the 2-D Winograd path's
// rounding error: the sum of |w| over the kernel of each input channel
// times the sum of |x| over the output's 6×6 input tile (the block of
// four rows and four columns the output lies in, with its two-row and
// two-column border), which bounds the magnitude of the 36 transformed
// products the output is combined from.
func convAbsRef2(p ops.ConvParams, x, w []float32) []float64 {
	return convAbsTiles(p, x, w, winoRows)
}

// convAbsTiles is convAbsRef2 for output tiles of side out (input tiles
// of out + 2).
func convAbsTiles(p ops.ConvParams, x, w []float32, out int) []float64 {
	abs := make([]float64, p.N*p.OutC*p.OutH*p.OutW)
	for n := range p.N {
		for oc := range p.OutC {
			for oh := range p.OutH {
				for ow := range p.OutW {
					var a float64
					for c := range p.C {
						var wAbs, xAbs float64
						for _, v := range w[(oc*p.C+c)*9:][:9] {
							wAbs += math.Abs(float64(v))
						}
						for i := range out + 2 {
							ih := oh/out*out - p.PadH + i
							for j := range out + 2 {
								iw := ow/out*out - p.PadW + j
								if ih >= 0 && ih < p.H && iw >= 0 && iw < p.W {
									xAbs += math.Abs(float64(x[((n*p.C+c)*p.H+ih)*p.W+iw]))
								}
							}
						}
						a += wAbs * xAbs
					}
					abs[((n*p.OutC+oc)*p.OutH+oh)*p.OutW+ow] = a
				}
			}
		}
	}
	return abs
}

const epsF32 = 1.0 / (1 << 23)

// winoTileKind names what a tile covers: runs of whole images, a band of
// row blocks, or a range of output channels.
func winoTileKind(p ops.ConvParams, t winoTile) string {
	switch {
	case t.oc1-t.oc0 < p.OutC:
		return "channels"
	case t.b1-t.b0 < newWinoGeom(p).blocks:
		return "bands"
	}
	return "images"
}

// directConv is p's convolution on the direct path (no bias).
func directConv(p ops.ConvParams, x, w []float32) []float32 {
	be := New(Options{Threads: 1})
	g := directGeomFor(p)
	y := make([]float32, p.N*p.OutC*p.OutH*p.OutW)
	be.directForward(g, be.directTiles(g), x, w, g.directRows(y, nil, func(src, dst []float32, v float32) { copy(dst, src) }), nil)
	return y
}

// checkFused checks y = act(conv·scale + shift + res) within winoTol and
// returns the largest error in units of eps·Σ|w||x|·|scale|.
func checkFused(t *testing.T, name string, p ops.ConvParams, y []float32, conv, abs []float64, tol float64, res []float32, f ops.ConvFusion) float64 {
	t.Helper()
	L := p.OutH * p.OutW
	var worst float64
	for i, c := range conv {
		oc := i / L % p.OutC
		s := 1.0
		if f.Scale != nil {
			s = float64(f.Scale[oc])
		}
		want := c*s + float64(f.Shift[oc])
		if f.Res != nil {
			want += float64(res[i])
		}
		if f.ReLU {
			want = math.Max(want, 0)
		}
		if f.Clip {
			want = math.Min(math.Max(want, float64(f.Lo)), float64(f.Hi))
		}
		scale := abs[i] * math.Abs(s) * epsF32
		err := math.Abs(float64(y[i]) - want)
		if err > tol*scale+4*epsF32*(1+math.Abs(want)) {
			t.Fatalf("%s: y[%d] = %v, want %v (error %.3g, eps·Σ|w||x| %.3g)", name, i, y[i], want, err, scale)
		}
		if scale > 0 && (!f.ReLU || want > 0) && !f.Clip {
			// less the rounding of the output pass's own sums
			worst = max(worst, (err-2*epsF32*(math.Abs(want)+math.Abs(c*s)))/scale)
		}
	}
	return worst
}

// checkPooled checks Conv2dReLUMaxPool2 on the Winograd path against the
// pooled float64 convolution.
func checkPooled(t *testing.T, name string, kind winoKind, p ops.ConvParams, x, w []float32, conv, abs []float64, tol float64, bias []float32) {
	t.Helper()
	ph, pw := p.OutH/2, p.OutW/2
	if ph == 0 || pw == 0 {
		return
	}
	be := New(Options{Threads: 2})
	y := ops.New(p.N, p.OutC, ph, pw)
	be.winoReLUMaxPool2As(kind, p, &ops.Tensor{Data: x}, &ops.Tensor{Data: w}, &ops.Tensor{Data: bias}, y)
	for q := range p.N * p.OutC {
		for i := range ph * pw {
			at := q*p.OutH*p.OutW + 2*(i/pw)*p.OutW + 2*(i%pw)
			var want, bound float64
			for _, o := range []int{at, at + 1, at + p.OutW, at + p.OutW + 1} {
				want = math.Max(want, conv[o]+float64(bias[q%p.OutC]))
				bound = max(bound, tol*abs[o]*epsF32)
			}
			if got := y.Data[q*ph*pw+i]; math.Abs(float64(got)-want) > bound+4*epsF32*(1+want) {
				t.Fatalf("%s pooled: y[%d] = %v, want %v", name, q*ph*pw+i, got, want)
			}
		}
	}
}

// firstBitDiff is the first index where a and b differ in bits, or -1.
func firstBitDiff(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// TestWinoTransformsMatchGo: the vector transforms write the same bits
// as the Go ones, over runs of blocks and one block of rows given one by
// one (some of them zeros), every tail length and gaps of 0..2 (and leave
// the floats around their outputs alone).
func TestWinoTransformsMatchGo(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for n := 1; n <= 40; n++ {
		for gw := range 3 {
			blocks, srcStride, dstStride := 3, n+3, n+gw+5
			src := make([]float32, 3*srcStride+5*srcStride*blocks+n)
			for i := range src {
				src[i] = float32(r.NormFloat64())
			}
			dstStep := 6*dstStride + 1
			got, want := make([]float32, blocks*dstStep+6*dstStride), make([]float32, blocks*dstStep+6*dstStride)
			for i := range got {
				got[i], want[i] = 42, 42
			}
			winoIn(got, dstStride, src, srcStride, n, gw, blocks, 4*srcStride, dstStep)
			winoInGo(want, dstStride, src, srcStride, n, gw, blocks, 4*srcStride, dstStep)
			if i := firstBitDiff(got, want); i >= 0 {
				t.Fatalf("winoIn n=%d gw=%d: dst[%d] = %v, want %v", n, gw, i, got[i], want[i])
			}
			var rows [6][]float32 // rows 0..5 from src, every other nil (zeros) in turn
			for i := range rows {
				if (i+n)%3 != 0 {
					rows[i] = src[i*srcStride:]
				}
			}
			for _, count := range []int{1, 3} { // channels srcStep and dstStep apart
				srcStep, dstStep := 2*srcStride+1, 6*dstStride+gw+3
				size := (count-1)*dstStep + 6*dstStride + 5
				got, gotGo, want := make([]float32, size), make([]float32, size), make([]float32, size)
				for i := range got {
					got[i], gotGo[i], want[i] = 42, 42, 42
				}
				for ch := range count { // winoIn on the channel's rows, copied
					buf := make([]float32, 6*n)
					for i, r := range rows {
						if r != nil {
							copy(buf[i*n:][:n], r[ch*srcStep:])
						}
					}
					winoInGo(want[ch*dstStep:], dstStride, buf, n, n, gw, 1, 0, 0)
				}
				winoInRows(got, dstStride, &rows, n, gw, count, srcStep, dstStep)
				winoInRowsGo(gotGo, dstStride, &rows, n, gw, count, srcStep, dstStep)
				if i := firstBitDiff(got, want); i >= 0 {
					t.Fatalf("winoInRows n=%d gw=%d count=%d: dst[%d] = %v, want %v", n, gw, count, i, got[i], want[i])
				}
				if i := firstBitDiff(gotGo, want); i >= 0 {
					t.Fatalf("winoInRowsGo n=%d gw=%d count=%d: dst[%d] = %v, want %v", n, gw, count, i, gotGo[i], want[i])
				}
			}
			outStep := 4*dstStride + 3
			got, want = make([]float32, blocks*outStep+4*dstStride), make([]float32, blocks*outStep+4*dstStride)
			winoOut(got, dstStride, src, srcStride, n, blocks, 2*srcStride, outStep)
			winoOutGo(want, dstStride, src, srcStride, n, blocks, 2*srcStride, outStep)
			if i := firstBitDiff(got, want); i >= 0 {
				t.Fatalf("winoOut n=%d: dst[%d] = %v, want %v", n, i, got[i], want[i])
			}
		}
	}
}

// TestWinoOutActMatchesTwoPasses: the output transform with the epilogue
// in it (winoOutAct, and its Go form) writes bit for bit what winoOut then
// directOut wrote through a row scratch, for every column tail, with and
// without a residual, under each activation, NaNs and infinities included.
func TestWinoOutActMatchesTwoPasses(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	acts := []outAct{{}, {hasLo: true}, {lo: -0.5, hi: 0.75, hasLo: true, hasHi: true}}
	for n := 1; n <= 40; n++ {
		blocks, srcStride, wp := 3, 3*n+7, n+2
		src := make([]float32, 5*srcStride+blocks*wp+n)
		for i := range src {
			src[i] = float32(r.NormFloat64())
		}
		src[n/2], src[srcStride+n-1] = float32(math.NaN()), float32(math.Inf(1))
		res := make([]float32, blocks*winoRows*n)
		for i := range res {
			res[i] = float32(r.NormFloat64())
		}
		for ai, act := range acts {
			for _, withRes := range []bool{false, true} {
				var rr []float32
				if withRes {
					rr = res
				}
				scale, shift := float32(r.NormFloat64()), float32(r.NormFloat64())
				rows := make([]float32, blocks*winoRows*wp)
				winoOut(rows, wp, src, srcStride, n, blocks, wp, winoRows*wp)
				want := make([]float32, blocks*winoRows*n)
				directOut(rows, wp, want, rr, blocks*winoRows, n, scale, shift, act)
				got, gotGo := make([]float32, len(want)), make([]float32, len(want))
				winoOutAct(got, n, src, srcStride, n, blocks, wp, winoRows*n, rr, scale, shift, act)
				winoOutActGo(gotGo, n, src, srcStride, n, blocks, wp, winoRows*n, rr, scale, shift, act)
				if i := firstBitDiff(got, want); i >= 0 {
					t.Fatalf("winoOutAct n=%d act %d res %v: dst[%d] = %v, want %v", n, ai, withRes, i, got[i], want[i])
				}
				if i := firstBitDiff(gotGo, want); i >= 0 {
					t.Fatalf("winoOutActGo n=%d act %d res %v: dst[%d] = %v, want %v", n, ai, withRes, i, gotGo[i], want[i])
				}
			}
		}
	}
}

// TestWinoTransformsAreF43: the Go transforms and the weight transform
// compute the 1-D convolution of a column (four outputs from six inputs
// and three taps) to float32 precision.
func TestWinoTransformsAreF43(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for range 100 {
		d := make([]float32, 6)
		for i := range d {
			d[i] = float32(r.NormFloat64())
		}
		w := make([]float32, 9)
		for i := range w {
			w[i] = float32(r.NormFloat64())
		}
		p := ops.ConvParams{C: 1, OutC: 1}
		u := winoWeights(p, w) // column j = 0: taps w[0], w[3], w[6]
		v := make([]float32, 6)
		winoInGo(v, 1, d, 1, 1, 0, 1, 0, 0)
		m := make([]float32, 6)
		for k := range m {
			m[k] = u[k*3] * v[k]
		}
		y := make([]float32, 4)
		winoOutGo(y, 1, m, 1, 1, 1, 0, 0)
		for o := range y {
			var want, wAbs, dAbs float64 // the scale: every tap times every row
			for i := range 3 {
				want += float64(d[o+i]) * float64(w[3*i])
				wAbs += math.Abs(float64(w[3*i]))
			}
			for _, v := range d {
				dAbs += math.Abs(float64(v))
			}
			abs := wAbs * dAbs
			if math.Abs(float64(y[o])-want) > winoTol*epsF32*abs {
				t.Fatalf("y[%d] = %v, want %v", o, y[o], want)
			}
		}
	}
}

// TestWinoWeightsFollowInPlaceChanges: the transform cache serves a
// weight tensor's transform while its values are unchanged and makes a
// new one when they change in place (a training step), on 1 and 2
// workers, for weights of one comparison piece and of several (a change
// in the first piece and one in the last).
func TestWinoWeightsFollowInPlaceChanges(t *testing.T) {
	big := winoGeoms()[0]
	big.C, big.OutC = 64, 128 // 295 KB of weights: two pieces of sameBytes
	for _, p := range []ops.ConvParams{winoGeoms()[2], big} {
		for threads := 1; threads <= 2; threads++ {
			b := New(Options{Threads: threads})
			w := &ops.Tensor{Data: make([]float32, p.OutC*p.C*9)}
			for i := range w.Data {
				w.Data[i] = float32(i%7) - 3
			}
			for kind, transform := range map[winoKind]func(ops.ConvParams, []float32) []float32{wino1D: winoWeights, wino2D: winoWeights2, wino22: winoWeights22} {
				u1 := b.winoWeightsFor(p, w, kind)
				if u2 := b.winoWeightsFor(p, w, kind); &u2[0] != &u1[0] {
					t.Errorf("C %d, %d workers, kind %d: unchanged weights transformed again", p.C, threads, kind)
				}
				if !slices.Equal(u1, transform(p, w.Data)) {
					t.Errorf("C %d, %d workers, kind %d: the cached transform is not the path's", p.C, threads, kind)
				}
				for _, i := range []int{5, len(w.Data) - 1} {
					w.Data[i] += 1
					if u3 := b.winoWeightsFor(p, w, kind); !slices.Equal(u3, transform(p, w.Data)) {
						t.Errorf("C %d, %d workers, kind %d: weight %d changed in place: the cached transform is stale", p.C, threads, kind, i)
					}
				}
			}
		}
	}
}

// TestWinoOKChoosesShapes: only 3×3, stride-1, undilated, ungrouped
// convolutions with enough channels take the Winograd path, and
// QPIPE_WINOGRAD=0 (winoOn false) sends them to the direct path.
func TestWinoOKChoosesShapes(t *testing.T) {
	if !directOK(ops.ConvParams{Groups: 1}) {
		t.Skip("no direct path on this CPU")
	}
	base := winoGeoms()[0]
	base.N = 1
	if !winoOK(base) {
		t.Fatalf("%+v: want the Winograd path", base)
	}
	for name, change := range map[string]func(p *ops.ConvParams){
		"stride 2":  func(p *ops.ConvParams) { p.StrideH, p.StrideW = 2, 2 },
		"5x5":       func(p *ops.ConvParams) { p.KH, p.KW = 5, 5 },
		"dilated":   func(p *ops.ConvParams) { p.DilH = 2 },
		"grouped":   func(p *ops.ConvParams) { p.Groups = 2 },
		"one input": func(p *ops.ConvParams) { p.C = 1 },
		"pad 3":     func(p *ops.ConvParams) { p.PadH = 3 },
	} {
		p := base
		change(&p)
		if winoOK(p) {
			t.Errorf("%s: takes the Winograd path", name)
		}
	}
	winoOn = false
	defer func() { winoOn = true }()
	if winoOK(base) {
		t.Errorf("QPIPE_WINOGRAD=0: still the Winograd path")
	}
}

// BenchmarkWinoConv times the 3×3 convolutions of resnet20 (three
// stages), the zoo cnn's conv2 and resnet18 (four stages) at batch 1 and
// 64 on 1 and 2 workers, on the F(4,3) Winograd path (wino), the
// F(4×4,3×3) one (wino2), the direct path and, for a lone 8×8 or 16×16
// image, F(2×2,3×3) (wino22).
func BenchmarkWinoConv(b *testing.B) {
	shapes := []struct {
		name      string
		c, oc, hw int
		batches   []int
	}{
		{"resnet20_16x32", 16, 16, 32, []int{1, 64}},
		{"resnet20_32x16", 32, 32, 16, []int{1, 64}},
		{"resnet20_64x8", 64, 64, 8, []int{1, 64}},
		{"cnn_32to64x14", 32, 64, 14, []int{1, 64}},
		{"resnet18_64x56", 64, 64, 56, []int{1}},
		{"resnet18_128x28", 128, 128, 28, []int{1}},
		{"resnet18_256x14", 256, 256, 14, []int{1}},
		{"resnet18_512x7", 512, 512, 7, []int{1}},
	}
	for _, s := range shapes {
		for _, n := range s.batches {
			p := ops.ConvParams{N: n, C: s.c, H: s.hw, W: s.hw, OutC: s.oc, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
				PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1, OutH: s.hw, OutW: s.hw}
			x, w, y := ops.New(n, p.C, p.H, p.W), ops.New(p.OutC, p.C, 3, 3), ops.New(n, p.OutC, p.OutH, p.OutW)
			for i := range w.Data {
				w.Data[i] = float32(i%5) - 2
			}
			for i := range x.Data { // written: an untouched input reads the zero page
				x.Data[i] = float32(i%7) - 3
			}
			f := ops.ConvFusion{Shift: make([]float32, p.OutC), ReLU: true}
			for _, threads := range []int{1, 2} {
				be := New(Options{Threads: threads})
				paths := []string{"wino", "wino2", "direct"}
				if wino22OK(p) {
					paths = append(paths, "wino22")
				}
				for _, path := range paths {
					b.Run(fmt.Sprintf("%s/b%d/t%d/%s", s.name, n, threads, path), func(b *testing.B) {
						defer func(v bool) { winoOn = v }(winoOn)
						winoOn = false
						for b.Loop() {
							switch path {
							case "wino":
								be.winoFusedAs(wino1D, p, x, w, y, f)
							case "wino2":
								be.winoFusedAs(wino2D, p, x, w, y, f)
							case "wino22":
								be.winoFusedAs(wino22, p, x, w, y, f)
							default:
								_ = be.Conv2dFused(p, x, w, y, f)
							}
						}
					})
				}
			}
		}
	}
}

// TestWinoWinsWhereMeasured: the cost model picks the path that measured
// fastest (BenchmarkWinoConv, one worker, minima of 6-8 runs on a loaded
// machine; whole forwards for the close calls): F(4×4,3×3) for
// resnet18's 56×56 stage at batch 1 (0.75-0.81× of F(4,3)'s time);
// F(4,3) for resnet20's 32×32 stage and the cnn's conv2 at batch 1 and
// for resnet20's 32×32 stage at batch 64: alone the 2-D path
// ties or wins there (its weights stay in the cache), but in the model
// (BenchmarkWino2InModel, F(4×4,3×3) forced in one process, per-layer
// medians, one and two workers, eight runs) it was 1.00-1.20× F(4,3)'s
// time at batch 1, the cnn's conv2 1.05-1.45×, resnet20's 32×32 stage
// at batch 64 1.05-1.30×; F(4×4,3×3) for resnet20's 16×16 stage at
// batch 64 (0.86× on one worker, 0.90× on two, in the same runs); F(4,3)
// for resnet18's 14×14 stage at batch 1 (alone the two tie; in a whole
// model the 2-D path's 36·C·OutC transformed weights come from memory
// on every forward); F(2×2,3×3) for resnet20's 8×8 stage at batch 1
// (its 16 tiles fill one 16-column vector; BenchmarkWino22InModel:
// 0.76× of the direct path's time per layer in the model) and its 16×16
// stage (four vectors; 0.65-0.82× of F(4,3)'s time per layer in the
// model; on its 32×32 stage F(2×2,3×3) measured 1.0-1.35× F(4,3)'s); the direct
// path for resnet18's 7×7 stage at batch 1 (few tiles leave the GEMM
// kernel's 48 columns mostly empty; F(2×2,3×3)'s transformed weights
// would not stay in the cache); F(4,3) for resnet20's 8×8 stage at batch 64
// (wino2MinSide: faster than 2-D on two workers). Either Winograd path
// where they measured within the noise: resnet18's 28×28 stage at batch
// 1 and the cnn's conv2 at batch 64.
func TestWinoWinsWhereMeasured(t *testing.T) {
	if !winoOn || !directOK(ops.ConvParams{Groups: 1}) {
		t.Skip("no Winograd path on this CPU (or QPIPE_WINOGRAD=0)")
	}
	be := New(Options{Threads: 1})
	const either = winoKind(255)
	for _, c := range []struct {
		n, c, oc, hw int
		want         winoKind
	}{
		{1, 16, 16, 32, wino1D}, {1, 32, 32, 16, wino22}, {1, 32, 64, 14, wino1D}, {1, 64, 64, 8, wino22},
		{64, 16, 16, 32, wino1D}, {64, 32, 32, 16, wino2D}, {64, 64, 64, 8, wino1D}, {64, 32, 64, 14, either},
		{1, 64, 64, 56, wino2D}, {1, 128, 128, 28, either}, {1, 256, 256, 14, wino1D}, {1, 512, 512, 7, winoNone},
	} {
		p := ops.ConvParams{N: c.n, C: c.c, H: c.hw, W: c.hw, OutC: c.oc, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
			PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1, OutH: c.hw, OutW: c.hw}
		for try := range 2 { // computed, then from the cache
			got := winoKindFor(p)
			if c.want == either && got == winoNone || c.want != either && got != c.want {
				t.Errorf("N %d, %d→%d channels, %d×%d, try %d: path %d, want %d", c.n, c.c, c.oc, c.hw, c.hw, try, got, c.want)
			}
			if be.useWino(p) != (got != winoNone) {
				t.Errorf("N %d, %d→%d channels, %d×%d: useWino disagrees with the path", c.n, c.c, c.oc, c.hw, c.hw)
			}
		}
	}
}

// TestWinoChoiceSameBitsOnAnyThreadCount: the choice between the
// Winograd and the direct path does not depend on the worker count, so
// Conv2dFused gives the same bits on 1, 2 and 3 workers, at batch 1 and
// 4, on layers on both sides of the cost model's line, and at batch 64
// on resnet20's 16×16 stage (F(4×4,3×3) there, F(4,3) at batch 1 and 4).
func TestWinoChoiceSameBitsOnAnyThreadCount(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	for _, s := range [][3]int{{16, 16, 32}, {32, 32, 16}, {64, 64, 8}, {32, 64, 14}, {24, 40, 11}, {96, 96, 7}} {
		batches := []int{1, 4}
		if s == [3]int{32, 32, 16} {
			batches = append(batches, 64)
		}
		for _, n := range batches {
			p := ops.ConvParams{N: n, C: s[0], H: s[2], W: s[2], OutC: s[1], KH: 3, KW: 3, StrideH: 1, StrideW: 1,
				PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1, OutH: s[2], OutW: s[2]}
			x, w := ops.New(n, p.C, p.H, p.W), ops.New(p.OutC, p.C, 3, 3)
			for _, v := range [][]float32{x.Data, w.Data} {
				for i := range v {
					v[i] = float32(r.NormFloat64())
				}
			}
			f := ops.ConvFusion{Shift: make([]float32, p.OutC), ReLU: true}
			var first []float32
			for threads := 1; threads <= 3; threads++ {
				be := New(Options{Threads: threads})
				y := ops.New(n, p.OutC, p.OutH, p.OutW)
				if err := be.Conv2dFused(p, x, w, y, f); err != nil {
					t.Fatal(err)
				}
				if first == nil {
					first = y.Data
				} else if i := firstBitDiff(first, y.Data); i >= 0 {
					t.Fatalf("%v n%d: y[%d] = %v on 1 worker, %v on %d", s, n, i, first[i], y.Data[i], threads)
				}
			}
		}
	}
}

// TestWino2TransformsMatchGo: the 2-D path's vector row transforms
// (winoInH, winoOutH) write the same bits as their Go forms, packing and
// unpacking the tiles of block rows of 1 to 17 tiles (slots on both
// sides of the 16-slot vector, dropped slots at every lane).
func TestWino2TransformsMatchGo(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	fill := func(v []float32) {
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
	}
	for _, tw := range []int{1, 2, 3, 4, 7, 14, 15, 16, 17} {
		for _, nb := range []int{1, 2, 5} {
			masks := wino2Masks(nb, tw+1)
			n := maskCount(masks)
			if n != nb*tw {
				t.Fatalf("tw %d nb %d: %d tiles in the masks, want %d", tw, nb, n, nb*tw)
			}
			rs := winoHRow(16*len(masks)) + 3
			src := make([]float32, winoIns*rs)
			fill(src)
			dstStride := n + 16 + 5
			got, want := make([]float32, wino2Prods*dstStride), make([]float32, wino2Prods*dstStride)
			winoInH(got, dstStride, src, rs, masks)
			winoInHGo(want, dstStride, src, rs, masks)
			for k := range wino2Prods { // the packed tiles; the rest is the kernel's overrun
				g, w := got[k*dstStride:][:n], want[k*dstStride:][:n]
				if i := firstBitDiff(g, w); i >= 0 {
					t.Fatalf("winoInH tw=%d nb=%d transform %d: [%d] = %v, want %v", tw, nb, k, i, g[i], w[i])
				}
			}
			m := make([]float32, wino2Prods*dstStride)
			fill(m)
			ro := winoHOut(16 * len(masks))
			got, want = make([]float32, winoIns*ro), make([]float32, winoIns*ro)
			winoOutH(got, ro, m, dstStride, masks)
			winoOutHGo(want, ro, m, dstStride, masks)
			if i := firstBitDiff(got, want); i >= 0 {
				t.Fatalf("winoOutH tw=%d nb=%d: dst[%d] = %v, want %v", tw, nb, i, got[i], want[i])
			}
		}
	}
}

// TestContendedKeepsSmallImagesWhole: while the pool workers are not
// getting a core (workers.contended), a lone image's convolution under
// contendedWork multiply-adds runs as one tile on both paths (resnet20's
// batch-1 3×3 layers, Winograd and direct), a larger one is still cut in
// a part per worker, and either cut gives the same bits.
func TestContendedKeepsSmallImagesWhole(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 30))
	for _, s := range []struct {
		c, oc, hw int
		whole     bool // kept whole while contended
	}{{16, 16, 32, true}, {32, 32, 16, true}, {64, 64, 8, true}, {128, 128, 14, false}} {
		p := ops.ConvParams{N: 1, C: s.c, H: s.hw, W: s.hw, OutC: s.oc, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
			PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1, OutH: s.hw, OutW: s.hw}
		x, w := ops.New(1, p.C, p.H, p.W), ops.New(p.OutC, p.C, 3, 3)
		for _, v := range [][]float32{x.Data, w.Data} {
			for i := range v {
				v[i] = float32(r.NormFloat64())
			}
		}
		f := ops.ConvFusion{Shift: make([]float32, p.OutC), ReLU: true}
		be := &Backend{w: newWorkers(2), tmp: &scratch{}} // its own average, not the shared workers'
		var outs [2][]float32
		for i, busy := range []bool{false, true} {
			if busy {
				for range 16 {
					be.w.record(false)
				}
			}
			nw, nd := len(be.winoTiles(newWinoGeom(p))), len(be.directTiles(directGeomFor(p)))
			if want := busy && s.whole; (nw == 1) != want || (nd == 1) != want {
				t.Errorf("%d→%d %d×%d, contended %v: %d Winograd and %d direct tiles, want one each: %v", s.c, s.oc, s.hw, s.hw, busy, nw, nd, want)
			}
			y := ops.New(1, p.OutC, p.OutH, p.OutW)
			if err := be.Conv2dFused(p, x, w, y, f); err != nil {
				t.Fatal(err)
			}
			outs[i] = y.Data
		}
		if i := firstBitDiff(outs[0], outs[1]); i >= 0 {
			t.Errorf("%d→%d %d×%d: y[%d] = %v split, %v whole", s.c, s.oc, s.hw, s.hw, i, outs[0][i], outs[1][i])
		}
	}
}

// frozenEntries returns the Winograd cache's entries without a copy of
// their weights (a frozen model's).
func frozenEntries() map[*winoEntry]bool {
	out := map[*winoEntry]bool{}
	winoCache.Range(func(_, v any) bool {
		if e := v.(*winoEntry); e.src == nil {
			out[e] = true
		}
		return true
	})
	return out
}

// TestWinoFrozenWeightsKeepOneTransform: a frozen model's Winograd layer
// keeps one transform of its weights, with no copy of them to compare
// against, and uses it on every later forward (a comparison against the
// missing copy would fail and replace the entry); an ordinary model's
// entries keep their copy (the check of TestWinoWeightsFollowInPlaceChanges).
func TestWinoFrozenWeightsKeepOneTransform(t *testing.T) {
	b := ops.NewBuilder("wino", 1)
	y := b.BatchNorm("bn", b.Conv2d("conv", b.Input("x"), 16, 16, 3, ops.Conv2dOptions{Padding: [2]int{1, 1}}, false), 16)
	m, err := b.Build(b.Act(ops.OpReLU, "relu", y))
	if err != nil {
		t.Fatal(err)
	}
	f, err := ops.Freeze(m)
	if err != nil {
		t.Fatal(err)
	}
	be := New(Options{Threads: 2})
	if !be.useWino(ops.ConvParams{N: 1, C: 16, H: 32, W: 32, OutC: 16, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1, OutH: 32, OutW: 32}) {
		t.Skip("the geometry does not take a Winograd path on this machine (QPIPE_WINOGRAD=0, or no AVX-512)")
	}
	c := ops.NewContext(be, ops.Options{})
	x := ops.New(1, 16, 32, 32)
	for i := range x.Data {
		x.Data[i] = float32(i%11) - 5
	}
	before := frozenEntries()
	var first *winoEntry
	for run := range 3 {
		if _, err := f.Forward1(c, x); err != nil {
			t.Fatal(err)
		}
		c.Reset()
		var added []*winoEntry
		for e := range frozenEntries() {
			if !before[e] {
				added = append(added, e)
			}
		}
		if len(added) != 1 {
			t.Fatalf("run %d: %d new frozen entries, want 1", run, len(added))
		}
		if first == nil {
			first = added[0]
		} else if added[0] != first {
			t.Fatalf("run %d: the frozen weights were transformed again", run)
		}
	}
	all := len(frozenEntries())
	if _, err := m.Forward1(c, x); err != nil {
		t.Fatal(err)
	}
	if got := len(frozenEntries()); got != all {
		t.Errorf("an ordinary model's forward made %d entries without a copy of its weights", got-all)
	}
}

// TestWinoLayoutMadeOnce: a Winograd layout is cut once per geometry,
// path, worker count and split: later calls return the same layout
// without allocating, its tiles are those of a fresh cut, and another
// worker count, path or split (contended workers) gets its own.
func TestWinoLayoutMadeOnce(t *testing.T) {
	p := winoGeoms()[0]
	p.N = 1
	for _, kind := range []winoKind{wino1D, wino2D} {
		var first [3]*winoLayout
		for threads := 1; threads <= 3; threads++ {
			be := New(Options{Threads: threads})
			l := be.winoLayoutFor(kind, p)
			first[threads-1] = l
			want := be.winoTiles(newWinoGeom(p))
			if kind == wino2D {
				want = be.wino2Tiles(newWino2Geom(p))
			}
			if !slices.Equal(l.ts, want) {
				t.Fatalf("kind %d, %d workers: tiles %v, want %v", kind, threads, l.ts, want)
			}
			if a := testing.AllocsPerRun(20, func() { be.winoLayoutFor(kind, p) }); a != 0 || be.winoLayoutFor(kind, p) != l {
				t.Fatalf("kind %d, %d workers: a later call allocated %v objects or made a new layout", kind, threads, a)
			}
		}
		if first[0] == first[1] || first[1] == first[2] {
			t.Fatalf("kind %d: worker counts share a layout", kind)
		}
	}
	if New(Options{Threads: 2}).winoLayoutFor(wino1D, p) == New(Options{Threads: 2}).winoLayoutFor(wino2D, p) {
		t.Fatal("the two paths share a layout")
	}
	// while the workers are contended a lone small image is whole: its
	// own layout, not the split one made before
	be := &Backend{w: newWorkers(2), tmp: &scratch{}}
	split := be.winoLayoutFor(wino1D, p)
	for range 16 {
		be.w.record(false)
	}
	whole := be.winoLayoutFor(wino1D, p)
	if len(split.ts) != 2 || len(whole.ts) != 1 {
		t.Fatalf("%d tiles before the workers were contended, %d after; want 2 and 1", len(split.ts), len(whole.ts))
	}
}
