package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// TestFillTapPlanes checks the vector fill of the gapless layout
// (fillTapPlanes, strides 1 and 2) against its Go definition, and that against
// the formula: kernel widths 1, 2, 3 and 7 (an odd last column alone),
// shifts left of the row (the padding, read as zeros), rows shorter and
// longer than 32 floats, planes wider and narrower than the data, zero
// lead, data or trail rows, one and three images; a guard value after
// the planes stays.
func TestFillTapPlanes(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, wr := range []int{1, 2, 7, 16, 17, 32, 33, 70} {
		for _, wp := range []int{1, 8, 16, 17, 36} {
			for _, k := range [][2]int{{1, 0}, {2, 0}, {3, -1}, {3, 1}, {7, -3}, {7, -4}} {
				for _, rows := range [][3]int{{0, 3, 0}, {1, 2, 1}, {2, 0, 3}, {0, 1, 0}} {
					for _, is := range [][2]int{{1, 1}, {3, 1}, {1, 2}, {3, 2}} { // images, stride
						imgs, st := is[0], is[1]
						kw, shift := k[0], k[1]
						lead, n, trail := rows[0], rows[1], rows[2]
						lds := wr + 3
						srcImg := n*lds + 5
						src := make([]float32, imgs*srcImg)
						for i := range src {
							src[i] = float32(r.NormFloat64())
						}
						per := (lead + n + trail) * wp
						plane := imgs*per + 2
						got, want := make([]float32, kw*plane+1), make([]float32, kw*plane+1)
						for i := range got {
							got[i], want[i] = float32(math.NaN()), float32(math.NaN())
						}
						got[kw*plane], want[kw*plane] = 42, 42
						fillTapPlanes(src, lds, srcImg, got, plane, wp, imgs, lead, n, trail, wr, shift, kw, st, 1, srcImg)
						fillTapPlanesGo(src, lds, srcImg, want, plane, wp, imgs, lead, n, trail, wr, shift, kw, st, 1)
						name := fmt.Sprintf("wr=%d wp=%d kw=%d shift=%d rows=%v imgs=%d stride=%d", wr, wp, kw, shift, rows, imgs, st)
						for i := range want {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%s: dst[%d] = %v, want %v", name, i, got[i], want[i])
							}
						}
						for j := range kw { // the definition
							for i := range imgs * per {
								row, v := i%per/wp, i%wp
								ref := float32(0)
								if q := st*v + shift + j; row >= lead && row < lead+n && q >= 0 && q < wr {
									ref = src[i/per*srcImg+(row-lead)*lds+q]
								}
								if v := want[j*plane+i]; v != ref {
									t.Fatalf("fillTapPlanesGo %s: plane %d [%d] = %v, want %v", name, j, i, v, ref)
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestTapLayoutSameBits: a strided convolution in the gapless layout
// (newTapGeom), whose GEMM writes y through its epilogue, gives the same
// bits as the column phases with their gap columns and the output pass
// over the GEMM's result (the same sums in the same order), on 1, 2 and 3
// workers, and matches the float64 convolution; Conv2dFused gives the
// same bits where it takes the direct path (not Winograd). Geometries:
// 3×3 and 7×7 stride 2, 1×1 stride 2, stride 3 and 4, dilation, small
// stride-1 images, odd sizes; a residual, ReLU and clip; batch 1 (bands
// and channel ranges), 3 and 16 (image runs).
func TestTapLayoutSameBits(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	fill := func(n int) []float32 { return normals(r, n) }
	geoms := []ops.ConvParams{
		{C: 16, H: 32, W: 32, OutC: 32, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
		{C: 32, H: 16, W: 16, OutC: 64, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
		{C: 16, H: 15, W: 13, OutC: 32, KH: 1, KW: 1, StrideH: 2, StrideW: 2},
		{C: 3, H: 45, W: 43, OutC: 20, KH: 7, KW: 7, StrideH: 2, StrideW: 2, PadH: 3, PadW: 3},
		{C: 8, H: 29, W: 27, OutC: 12, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
		{C: 2, H: 10, W: 10, OutC: 3, KH: 3, KW: 3, StrideH: 3, StrideW: 3, PadH: 1, PadW: 1},
		{C: 1, H: 28, W: 28, OutC: 5, KH: 4, KW: 4, StrideH: 4, StrideW: 4},
		{C: 6, H: 17, W: 19, OutC: 7, KH: 3, KW: 3, StrideH: 1, StrideW: 2, PadH: 2, PadW: 2, DilH: 2, DilW: 2},
		{C: 64, H: 56, W: 56, OutC: 128, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
		{C: 64, H: 8, W: 8, OutC: 64, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}, // stride 1, small: tapsPay
		{C: 5, H: 9, W: 10, OutC: 11, KH: 3, KW: 5, StrideH: 1, StrideW: 1, PadH: 1, PadW: 2},
	}
	fusions := []ops.ConvFusion{{ReLU: true}, {Clip: true, Lo: -1, Hi: 0.5}, {}}
	for gi, p := range geoms {
		p.Groups, p.DilH, p.DilW = 1, max(p.DilH, 1), max(p.DilW, 1)
		p.OutH = (p.H+2*p.PadH-p.DilH*(p.KH-1)-1)/p.StrideH + 1
		p.OutW = (p.W+2*p.PadW-p.DilW*(p.KW-1)-1)/p.StrideW + 1
		if !directOK(p) {
			t.Skip("no indirect GEMM kernel on this CPU: the direct path does not run")
		}
		for _, n := range []int{1, 3, 16} {
			if n == 16 && p.C*p.H*p.W > 1<<14 {
				continue
			}
			p.N = n
			L := p.OutH * p.OutW
			x, w := fill(p.N*p.C*p.H*p.W), fill(p.OutC*p.C*p.KH*p.KW)
			conv, _, _, _ := convRef(p, x, w, make([]float32, p.OutC), make([]float32, p.N*p.OutC*L), false)
			for fi, f := range fusions {
				f.Scale, f.Shift = fill(p.OutC), fill(p.OutC)
				if fi == 0 {
					f.Res = &ops.Tensor{Data: fill(p.N * p.OutC * L)}
				}
				var first []float32
				for threads := 1; threads <= 3; threads++ {
					name := fmt.Sprintf("geom %d n %d fusion %d threads %d", gi, n, fi, threads)
					be := New(Options{Threads: threads})
					g, old := newDirectGeom(p), newPhaseGeom(p)
					if !g.taps || !g.gapless() {
						t.Fatalf("%s: %+v is not in the gapless layout", name, p)
					}
					got, want := ops.New(p.N, p.OutC, p.OutH, p.OutW), ops.New(p.N, p.OutC, p.OutH, p.OutW)
					fo := newFusedOut(p, got.Data, f)
					be.directForward(g, be.directTiles(g), x, w, fo.out(g), fo.into)
					if !be.useWino(p) { // Conv2dFused takes this path
						y := ops.New(p.N, p.OutC, p.OutH, p.OutW)
						if err := be.Conv2dFused(p, &ops.Tensor{Data: x}, &ops.Tensor{Data: w}, y, f); err != nil {
							t.Fatal(err)
						}
						if !sameBits(y.Data, got.Data) {
							t.Fatalf("%s: Conv2dFused differs from the gapless direct path", name)
						}
					}
					ts := be.directTiles(old)
					be.directForward(old, ts, x, w, newFusedOut(p, want.Data, f).out(old), nil)
					sameSums := true // the dot columns of a small lone image run where the layouts' column counts differ
					for _, tl := range ts {
						sameSums = sameSums && !dotTail(old, tl) && !dotTail(g, tl)
					}
					for i, v := range got.Data {
						if sameSums && math.Float32bits(v) != math.Float32bits(want.Data[i]) {
							t.Fatalf("%s: y[%d] = %v, the column phases give %v", name, i, v, want.Data[i])
						}
						ref := fusionRef(f, conv[i], i/L%p.OutC, i)
						if math.Abs(float64(v)-ref) > 1e-4*(1+math.Abs(ref))*math.Sqrt(float64(p.C*p.KH*p.KW)) {
							t.Fatalf("%s: y[%d] = %v, want %v", name, i, v, ref)
						}
					}
					if first == nil {
						first = got.Data
						continue
					}
					for i := range first {
						if math.Float32bits(got.Data[i]) != math.Float32bits(first[i]) {
							t.Fatalf("%s: y[%d] = %v, %v on one worker", name, i, got.Data[i], first[i])
						}
					}
				}
			}
		}
	}
}

// stridedLayers are the strided convolutions of resnet20 (batch 64 and
// 1) and torchvision resnet18 (batch 1, 224×224): name, batch, input
// channels, output channels, input side, kernel.
var stridedLayers = []struct {
	name            string
	n, c, oc, hw, k int
}{
	{"r20_b64_s2_16to32x16", 64, 16, 32, 32, 3},
	{"r20_b64_1x1s2_16to32x16", 64, 16, 32, 32, 1},
	{"r20_b64_s2_32to64x8", 64, 32, 64, 16, 3},
	{"r20_b64_1x1s2_32to64x8", 64, 32, 64, 16, 1},
	{"r20_b1_s2_16to32x16", 1, 16, 32, 32, 3},
	{"r20_b1_s2_32to64x8", 1, 32, 64, 16, 3},
	{"r18_b1_stem_3to64x112", 1, 3, 64, 224, 7},
	{"r18_b1_s2_64to128x28", 1, 64, 128, 56, 3},
	{"r18_b1_1x1s2_64to128x28", 1, 64, 128, 56, 1},
	{"r18_b1_s2_128to256x14", 1, 128, 256, 28, 3},
	{"r18_b1_1x1s2_128to256x14", 1, 128, 256, 28, 1},
	{"r18_b1_s2_256to512x7", 1, 256, 512, 14, 3},
	{"r18_b1_1x1s2_256to512x7", 1, 256, 512, 14, 1},
}

// BenchmarkStridedLayouts times each strided convolution of resnet20 and
// resnet18 (Conv2dFused with a batch norm's scale and shift and ReLU) in
// the column phases with the output pass over the GEMM's result (the
// layout before the gapless one) and in the gapless layout writing y
// from the GEMM, alternating every per calls in one process so both see
// the same load, on the workers -cpu gives: each one's minimum and
// median µs and new/old, the median of the per-round ratios.
func BenchmarkStridedLayouts(b *testing.B) {
	for _, l := range stridedLayers {
		b.Run(l.name, func(b *testing.B) {
			pad := l.k / 2
			out := (l.hw+2*pad-l.k)/2 + 1
			p := ops.ConvParams{N: l.n, C: l.c, H: l.hw, W: l.hw, OutC: l.oc, KH: l.k, KW: l.k, StrideH: 2, StrideW: 2,
				PadH: pad, PadW: pad, DilH: 1, DilW: 1, Groups: 1, OutH: out, OutW: out}
			if !directOK(p) {
				b.Skip("no indirect GEMM kernel on this CPU")
			}
			x, w, y, f := benchOperands(p)
			be := New(Options{})
			old := newPhaseGeom(p)
			per := max(1, 20000/(p.N*p.OutC*out*out*p.C*l.k*l.k>>10+1))
			t0, t1, ratio := AlternateThreads(b, per, func(i int) {
				if i == 0 {
					be.directForward(old, be.directTiles(old), x.Data, w.Data, newFusedOut(p, y.Data, f).out(old), nil)
					return
				}
				if err := be.Conv2dFused(p, x, w, y, f); err != nil {
					b.Fatal(err)
				}
			})
			b.ReportMetric(minOf(t0), "old-min-µs")
			b.ReportMetric(minOf(t1), "new-min-µs")
			b.ReportMetric(MedianOf(t0), "old-µs")
			b.ReportMetric(MedianOf(t1), "new-µs")
			b.ReportMetric(MedianOf(ratio), "new/old")
		})
	}
}

// sameBits reports whether a and b hold the same float32 bits.
func sameBits(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// TestDirectGeomForCaches: a geometry comes from the cache without an
// allocation once its batch size has been seen, carries that batch size,
// and shares its offset tables with the other batch sizes' geometries
// (a lone image's layout is its own: tapsPay counts its dot columns).
func TestDirectGeomForCaches(t *testing.T) {
	p := ops.ConvParams{N: 3, C: 5, H: 11, W: 9, OutC: 4, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1, OutH: 6, OutW: 5}
	g3 := directGeomFor(p)
	p5 := p
	p5.N = 5
	g5 := directGeomFor(p5)
	if g3.p.N != 3 || g5.p.N != 5 || &g3.offBase[0] != &g5.offBase[0] {
		t.Fatalf("batch sizes %d and %d (want 3 and 5), shared offsets %v", g3.p.N, g5.p.N, &g3.offBase[0] == &g5.offBase[0])
	}
	if directGeomFor(p) != g3 {
		t.Fatal("a second lookup built another geometry")
	}
	p1 := p
	p1.N = 1
	if g1 := directGeomFor(p1); g1.p.N != 1 || directGeomFor(p1) != g1 {
		t.Fatalf("a lone image's geometry has batch size %d or was built twice", g1.p.N)
	}
	for _, q := range []ops.ConvParams{p1, p5} {
		if allocs := testing.AllocsPerRun(50, func() { directGeomFor(q) }); allocs != 0 {
			t.Errorf("batch %d: %v allocations per cached lookup, want 0", q.N, allocs)
		}
	}
}

// TestTapsPayCountsDotColumns: a lone 7×7 image's 3×3 layer takes the
// gapless layout (49 columns, 48 and a dot product, against 55 in the
// column phases) and the same layer in a batch keeps the phases.
func TestTapsPayCountsDotColumns(t *testing.T) {
	p := ops.ConvParams{N: 1, C: 6, H: 7, W: 7, OutC: 11, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1, OutH: 7, OutW: 7}
	if g := directGeomFor(p); !g.taps {
		t.Error("a lone 7×7 image's 3×3 layer is in column phases")
	}
	p2 := p
	p2.N = 2
	if g := directGeomFor(p2); g.taps {
		t.Error("a batch of 7×7 images took the lone image's gapless layout")
	}
}
