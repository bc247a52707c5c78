package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// directGeoms are the shapes the direct convolution must get right: 3×3
// same (resnet), stride 2 (phases), 1×1 and 1×1 stride 2 (shortcuts),
// 7×7 stride 2 pad 3 (resnet18's stem), no padding, padding wider than
// the kernel reach, dilation, uneven strides, odd sizes, one channel.
func directGeoms() []ops.ConvParams {
	geoms := []ops.ConvParams{
		{C: 16, H: 32, W: 32, OutC: 16, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1},
		{C: 16, H: 32, W: 32, OutC: 32, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
		{C: 16, H: 15, W: 13, OutC: 32, KH: 1, KW: 1, StrideH: 2, StrideW: 2},
		{C: 24, H: 8, W: 8, OutC: 40, KH: 1, KW: 1, StrideH: 1, StrideW: 1},
		{C: 3, H: 23, W: 21, OutC: 17, KH: 7, KW: 7, StrideH: 2, StrideW: 2, PadH: 3, PadW: 3},
		{C: 5, H: 9, W: 11, OutC: 6, KH: 3, KW: 2, StrideH: 1, StrideW: 1},
		{C: 4, H: 7, W: 6, OutC: 3, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 3, PadW: 2},
		{C: 6, H: 13, W: 12, OutC: 15, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 2, PadW: 2, DilH: 2, DilW: 2},
		{C: 4, H: 9, W: 11, OutC: 6, KH: 3, KW: 2, StrideH: 2, StrideW: 1, PadH: 1, DilW: 2},
		{C: 1, H: 28, W: 28, OutC: 5, KH: 4, KW: 4, StrideH: 4, StrideW: 4},
		{C: 2, H: 10, W: 10, OutC: 3, KH: 3, KW: 3, StrideH: 3, StrideW: 3, PadH: 1, PadW: 1},
		{C: 64, H: 8, W: 8, OutC: 64, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1},
		{C: 64, H: 40, W: 37, OutC: 24, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1}, // bands at any batch
		{C: 24, H: 14, W: 13, OutC: 40, KH: 1, KW: 1, StrideH: 1, StrideW: 1},                   // read in place at any batch
		{C: 64, H: 16, W: 16, OutC: 64, KH: 1, KW: 1, StrideH: 1, StrideW: 1},                   // in place, bands at batch 1
	}
	for i := range geoms {
		p := &geoms[i]
		p.Groups = 1
		p.DilH, p.DilW = max(p.DilH, 1), max(p.DilW, 1)
		p.OutH = (p.H+2*p.PadH-p.DilH*(p.KH-1)-1)/p.StrideH + 1
		p.OutW = (p.W+2*p.PadW-p.DilW*(p.KW-1)-1)/p.StrideW + 1
	}
	return geoms
}

// TestDirectConvMatchesReference runs the direct forward (whole-image
// tiles and row bands) against the float64 convolution, batch 1, 3 and 64
// on 1..3 workers, with and without ReLU, and requires bit-identical
// outputs across worker counts.
func TestDirectConvMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	fill := func(n int) []float32 { return normals(r, n) }
	kinds := map[[2]bool]bool{} // tiles of (row bands, channel ranges) seen
	bigBands := false           // bands of images too large for one tile
	inPlace := false            // 1×1 tiles reading the input where it lies
	defer func() {
		if !inPlace {
			t.Errorf("no 1x1 convolution read its input in place at a batch larger than the workers")
		}
		if !bigBands {
			t.Errorf("no geometry cut images into bands at a batch larger than the workers")
		}
		if len(kinds) != 3 {
			t.Errorf("tile kinds (bands, channel ranges) seen: %v; want whole images, bands and channel ranges", kinds)
		}
	}()
	for gi, p0 := range directGeoms() {
		for _, n := range []int{1, 3, 64} {
			if n == 64 && gi > 3 {
				continue
			}
			p := p0
			p.N = n
			x, w, bias := fill(p.N*p.C*p.H*p.W), fill(p.OutC*p.C*p.KH*p.KW), fill(p.OutC)
			want, _, _, _ := convRef(p, x, w, bias, make([]float32, p.N*p.OutC*p.OutH*p.OutW), true)
			var first []float32
			for threads := 1; threads <= 3; threads++ {
				name := fmt.Sprintf("geom%d/n%d/t%d", gi, n, threads)
				be := New(Options{Threads: threads})
				y := ops.New(p.N, p.OutC, p.OutH, p.OutW)
				g := newDirectGeom(p)
				ts := be.directTiles(g)
				if n == 1 && threads > 1 && len(ts) == 1 && be.splitsImage(p.OutC*p.OutH*p.OutW*p.C*p.KH*p.KW) {
					t.Fatalf("%s: a large lone image is not split over the workers", name)
				}
				for _, tl := range ts {
					kinds[[2]bool{tl.oh1-tl.oh0 < p.OutH, tl.oc1-tl.oc0 < p.OutC}] = true
					if tl.oh1-tl.oh0 < p.OutH && n > threads {
						bigBands = true
					}
					if g.inPlace(tl) && n > threads {
						inPlace = true
					}
				}
				be.directForward(g, ts, x, w, g.directRows(y.Data, &ops.Tensor{Shape: []int{p.OutC}, Data: bias},
					func(src, dst []float32, v float32) { biasReLURow(src, dst, v, true) }), nil)
				for i, wv := range want {
					if math.Abs(float64(y.Data[i])-wv) > 1e-4*(1+math.Abs(wv)) {
						t.Fatalf("%s %+v: y[%d] = %v, want %v", name, p, i, y.Data[i], wv)
					}
				}
				if p.OutH >= 2 && p.OutW >= 2 { // the fused ReLU + 2×2 max pool
					ph, pw := p.OutH/2, p.OutW/2
					yp := ops.New(p.N, p.OutC, ph, pw)
					be.conv2dReLUMaxPool2Direct(p, &ops.Tensor{Data: x}, &ops.Tensor{Data: w}, &ops.Tensor{Data: bias}, yp)
					for q := range p.N * p.OutC {
						for i := range ph * pw {
							at := q*p.OutH*p.OutW + 2*(i/pw)*p.OutW + 2*(i%pw)
							wv := math.Max(math.Max(want[at], want[at+1]), math.Max(want[at+p.OutW], want[at+p.OutW+1]))
							if got := yp.Data[q*ph*pw+i]; math.Abs(float64(got)-wv) > 1e-4*(1+math.Abs(wv)) {
								t.Fatalf("%s %+v: pooled y[%d] = %v, want %v", name, p, q*ph*pw+i, got, wv)
							}
						}
					}
				}
				if first == nil {
					first = y.Data
					continue
				}
				for i := range first {
					if y.Data[i] != first[i] {
						t.Fatalf("%s: y[%d] = %v, %v on one worker", name, i, y.Data[i], first[i])
					}
				}
			}
		}
	}
}

// TestConv2dActTakesDirectPath: an ungrouped inference forward runs the
// direct convolution where the CPU has its kernel, and matches the im2col
// forward (kept columns) to rounding.
func TestConv2dActTakesDirectPath(t *testing.T) {
	p := directGeoms()[1]
	p.N = 5
	if !directOK(p) {
		t.Skip("no indirect GEMM kernel on this CPU: the im2col path runs")
	}
	r := rand.New(rand.NewPCG(1, 2))
	x, w, bias := ops.New(p.N, p.C, p.H, p.W), ops.New(p.OutC, p.C, p.KH, p.KW), ops.New(p.OutC)
	for _, v := range []*ops.Tensor{x, w, bias} {
		for i := range v.Data {
			v.Data[i] = float32(r.NormFloat64())
		}
	}
	be := New(Options{Threads: 2})
	yd, yi := ops.New(p.N, p.OutC, p.OutH, p.OutW), ops.New(p.N, p.OutC, p.OutH, p.OutW)
	if _, err := be.Conv2dAct(p, x, w, bias, yd, true, false); err != nil {
		t.Fatal(err)
	}
	if _, err := be.Conv2dAct(p, x, w, bias, yi, true, true); err != nil {
		t.Fatal(err)
	}
	for i := range yd.Data {
		if d := math.Abs(float64(yd.Data[i] - yi.Data[i])); d > 1e-4*(1+math.Abs(float64(yi.Data[i]))) {
			t.Fatalf("direct y[%d] = %v, im2col %v", i, yd.Data[i], yi.Data[i])
		}
	}
}

// TestFillRows checks the vector row copy (stride 1 and 2, rows shorter
// and longer than 16 and 32 floats, a row stride past the data) against
// its Go definition, and that it writes nothing past its rows.
func TestFillRows(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 3))
	for _, s := range []int{1, 2, 3} {
		for _, wr := range []int{0, 1, 7, 16, 17, 31, 32, 33, 70} {
			for _, wp := range []int{1, 9, 16, 17, 33, 40} {
				rows, lds := 3, wr+5
				src := make([]float32, rows*lds)
				for i := range src {
					src[i] = float32(r.NormFloat64())
				}
				got, want := make([]float32, rows*wp+1), make([]float32, rows*wp+1)
				for i := range got {
					got[i] = float32(math.NaN())
				}
				got[rows*wp], want[rows*wp] = 42, 42
				fillRows(src, lds, got, wp, rows, wr, s)
				fillRowsGo(src, lds, want, wp, rows, wr, s)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("s=%d wr=%d wp=%d: dst[%d] = %v, want %v", s, wr, wp, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestFillRowsPair checks the vector copy of both column phases of
// stride-2 rows against fillRowsGo on each phase (rows shorter and longer
// than 32 floats, odd and even widths, a row stride past the data; the
// guard value after each plane stays).
func TestFillRowsPair(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 11))
	for _, wr := range []int{0, 1, 2, 7, 16, 17, 31, 32, 33, 70} {
		for _, wp := range []int{1, 9, 16, 17, 33, 40} {
			rows, lds := 3, wr+5
			src := make([]float32, rows*lds)
			for i := range src {
				src[i] = float32(r.NormFloat64())
			}
			var got, want [2][]float32
			for k := range got {
				got[k], want[k] = make([]float32, rows*wp+1), make([]float32, rows*wp+1)
				for i := range got[k] {
					got[k][i] = float32(math.NaN())
				}
				got[k][rows*wp], want[k][rows*wp] = 42, 42
			}
			fillRowsPair(src, lds, got[0], got[1], wp, rows, wr)
			fillRowsGo(src, lds, want[0], wp, rows, wr, 2)
			fillRowsGo(src[1:], lds, want[1], wp, rows, max(wr-1, 0), 2)
			for k := range want {
				for i := range want[k] {
					if got[k][i] != want[k][i] {
						t.Fatalf("wr=%d wp=%d phase %d: dst[%d] = %v, want %v", wr, wp, k, i, got[k][i], want[k][i])
					}
				}
			}
		}
	}
}

// TestPoolOut checks the vector pooled output pass against its Go
// definition (widths below, at and past 16 outputs, padded row stride).
func TestPoolOut(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	for _, cols := range []int{1, 5, 15, 16, 17, 33} {
		rows, lds := 3, 2*cols+3
		src := make([]float32, 2*rows*lds)
		for i := range src {
			src[i] = float32(r.NormFloat64())
		}
		got, want := make([]float32, rows*cols+1), make([]float32, rows*cols+1)
		got[rows*cols], want[rows*cols] = 42, 42
		poolOut(src, lds, got, rows, cols, 0.25)
		poolOutGo(src, lds, want, rows, cols, 0.25)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("cols=%d: dst[%d] = %v, want %v", cols, i, got[i], want[i])
			}
		}
	}
}

// TestConv2dFusedMatchesReference: the fused output pass (scale, shift,
// residual, ReLU) on the direct path and on the im2col path that grouped
// convolutions take, against the float64 convolution.
func TestConv2dFusedMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	fill := func(n int) []float32 { return normals(r, n) }
	for _, p := range []ops.ConvParams{
		{N: 3, C: 4, H: 9, W: 7, OutC: 6, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1, OutH: 9, OutW: 7},
		{N: 3, C: 4, H: 9, W: 7, OutC: 6, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 2, OutH: 9, OutW: 7},
		// a 1×1 stride-2 downsample: its rows have no gap columns, and the
		// output pass takes each image's rows as one run
		{N: 5, C: 16, H: 15, W: 13, OutC: 12, KH: 1, KW: 1, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1, Groups: 1, OutH: 8, OutW: 7},
	} {
		groups := p.Groups
		x, w := fill(p.N*p.C*p.H*p.W), fill(p.OutC*p.C/groups*p.KH*p.KW)
		scale, shift, res := fill(p.OutC), fill(p.OutC), fill(p.N*p.OutC*p.OutH*p.OutW)
		conv, _, _, _ := convRef(p, x, w, make([]float32, p.OutC), make([]float32, len(res)), false)
		be := New(Options{Threads: 2})
		y := ops.New(p.N, p.OutC, p.OutH, p.OutW)
		f := ops.ConvFusion{Scale: scale, Shift: shift, Res: &ops.Tensor{Data: res}, ReLU: true}
		if err := be.Conv2dFused(p, &ops.Tensor{Data: x}, &ops.Tensor{Data: w}, y, f); err != nil {
			t.Fatal(err)
		}
		L := p.OutH * p.OutW
		for i, c := range conv {
			oc := i / L % p.OutC
			want := math.Max(0, c*float64(scale[oc])+float64(shift[oc])+float64(res[i]))
			if math.Abs(float64(y.Data[i])-want) > 1e-4*(1+math.Abs(want)) {
				t.Fatalf("groups %d: y[%d] = %v, want %v", groups, i, y.Data[i], want)
			}
		}
	}
}

// BenchmarkDirectConvB1 times single-image convolutions of resnet20's
// three stages on 1 and 2 workers (the batch-1 split over the workers).
func BenchmarkDirectConvB1(b *testing.B) {
	for _, s := range [][2]int{{16, 32}, {32, 16}, {64, 8}} {
		p := ops.ConvParams{N: 1, C: s[0], H: s[1], W: s[1], OutC: s[0], KH: 3, KW: 3, StrideH: 1, StrideW: 1,
			PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1, OutH: s[1], OutW: s[1]}
		x, w, bias := ops.New(1, p.C, p.H, p.W), ops.New(p.OutC, p.C, 3, 3), ops.New(p.OutC)
		y := ops.New(1, p.OutC, p.OutH, p.OutW)
		for _, threads := range []int{1, 2} {
			be := New(Options{Threads: threads})
			b.Run(fmt.Sprintf("c%d_%dx%d/t%d", p.C, p.H, p.W, threads), func(b *testing.B) {
				for b.Loop() {
					_, _ = be.Conv2dAct(p, x, w, bias, y, true, false)
				}
			})
		}
	}
}

// BenchmarkPointwiseConv times mobilenet_v2's 1×1 convolutions (input
// channels, output channels, image side) at batch 1 with a batch norm,
// residual-free and clipped like its expansions, on 1 and 2 workers, and
// reports GFLOP/s (2 per multiply-add).
func BenchmarkPointwiseConv(b *testing.B) {
	for _, s := range [][3]int{{16, 96, 112}, {32, 16, 112}, {144, 24, 56}, {24, 144, 56}, {192, 32, 28}, {384, 64, 14}, {64, 384, 14}, {960, 160, 7}, {160, 960, 7}} {
		p := ops.ConvParams{N: 1, C: s[0], H: s[2], W: s[2], OutC: s[1], KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: 1, OutH: s[2], OutW: s[2]}
		x, w, y := ops.New(1, p.C, p.H, p.W), ops.New(p.OutC, p.C, 1, 1), ops.New(1, p.OutC, p.OutH, p.OutW)
		f := ops.ConvFusion{Scale: make([]float32, p.OutC), Shift: make([]float32, p.OutC), Clip: true, Lo: 0, Hi: 6}
		for _, threads := range []int{1, 2} {
			be := New(Options{Threads: threads})
			b.Run(fmt.Sprintf("c%d_oc%d_%dx%d/t%d", p.C, p.OutC, p.H, p.W, threads), func(b *testing.B) {
				for b.Loop() {
					_ = be.Conv2dFused(p, x, w, y, f)
				}
				b.ReportMetric(2*float64(p.C*p.OutC*p.H*p.W)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
