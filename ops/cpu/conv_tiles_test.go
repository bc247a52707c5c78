package cpu

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// TestDirectTilesCoverOnceAndShareEvenly: for batch-1 and small-batch
// geometries of the zoo and torchvision CNNs, on 1 to 4 workers, the
// direct convolution's tiles cover every (image, output row, output
// channel) exactly once, bands start on multiples of the alignment, and
// where an image is cut into bands the band count is a multiple of the
// workers and the bands of an image differ by less than two alignments
// (one, and the last band's rows past OutH), or into ranges of channels
// as many as a multiple of the workers, differing by one channel at most:
// no worker is left with a part more than the others.
func TestDirectTilesCoverOnceAndShareEvenly(t *testing.T) {
	geoms := []ops.ConvParams{
		conv(1, 3, 224, 32, 3, 2),   // mobilenet_v2's stem: many bands
		conv(1, 3, 224, 64, 7, 2),   // resnet18's stem
		conv(1, 64, 56, 64, 3, 1),   // resnet18 layer1: 56 rows in bands
		conv(1, 128, 28, 128, 3, 1), // resnet18 layer2
		conv(1, 256, 14, 256, 3, 1), // parts of a small image
		conv(1, 512, 7, 512, 3, 1),  // output-channel ranges
		conv(1, 64, 14, 384, 1, 1),  // pointwise, read in place
		conv(3, 64, 56, 64, 3, 1),   // a few images in bands
		conv(64, 16, 32, 16, 3, 1),  // runs of whole images
	}
	for _, p := range geoms {
		for _, align := range []int{1, 2} {
			for workers := 1; workers <= 4; workers++ {
				name := fmt.Sprintf("N%d C%d H%d OC%d k%d s%d align %d, %d workers", p.N, p.C, p.H, p.OutC, p.KH, p.StrideH, align, workers)
				be := &Backend{w: newWorkers(workers), tmp: &scratch{}}
				g := directGeomFor(p)
				ts := be.directTilesAligned(g, align)
				checkTiles(t, name, p, ts, align, workers, be.bandBudget(g) < g.hq+g.gh)
			}
		}
	}
}

// checkTiles checks that ts cover p's outputs once, aligned, and (banded)
// in an even share per worker.
func checkTiles(t *testing.T, name string, p ops.ConvParams, ts []directTile, align, workers int, banded bool) {
	t.Helper()
	seen := make([]int, p.N*p.OutH*p.OutC)
	perImage := make([][]int, p.N) // band heights
	for _, tl := range ts {
		if tl.oh0%align != 0 && tl.oh0 != 0 {
			t.Fatalf("%s: band starts at row %d, not a multiple of %d", name, tl.oh0, align)
		}
		for img := tl.n0; img < tl.n0+tl.cnt; img++ {
			for oh := tl.oh0; oh < tl.oh1; oh++ {
				for oc := tl.oc0; oc < tl.oc1; oc++ {
					seen[(img*p.OutH+oh)*p.OutC+oc]++
				}
			}
			if tl.cnt == 1 && tl.oc0 == 0 && tl.oc1 == p.OutC {
				perImage[img] = append(perImage[img], tl.oh1-tl.oh0)
			}
		}
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("%s: output (image %d, row %d, channel %d) in %d tiles", name, i/(p.OutH*p.OutC), i/p.OutC%p.OutH, i%p.OutC, c)
		}
	}
	if !banded {
		return
	}
	if ts[0].oc1-ts[0].oc0 < p.OutC { // ranges of channels instead of bands
		widths := make([][]int, p.N)
		for _, tl := range ts {
			if tl.oh0 != 0 || tl.oh1 != p.OutH {
				t.Fatalf("%s: tile %+v mixes channel ranges and bands", name, tl)
			}
			widths[tl.n0] = append(widths[tl.n0], tl.oc1-tl.oc0)
		}
		for img, ws := range widths {
			if len(ws)%workers != 0 || slices.Max(ws)-slices.Min(ws) > 1 {
				t.Errorf("%s: image %d in channel ranges %v on %d workers", name, img, ws, workers)
			}
		}
		return
	}
	bandCount := 0
	for _, hs := range perImage {
		bandCount += len(hs)
		lo, hi := hs[0], hs[0]
		for _, h := range hs {
			lo, hi = min(lo, h), max(hi, h)
		}
		if hi-lo > 2*align-1 {
			t.Errorf("%s: bands of one image from %d to %d rows", name, lo, hi)
		}
	}
	if len(ts) != bandCount {
		t.Fatalf("%s: %d tiles, %d of them bands", name, len(ts), bandCount)
	}
	if bandCount%workers != 0 {
		t.Errorf("%s: %d bands on %d workers (heights %v)", name, bandCount, workers, perImage)
	}
}

// conv is an n-image c-channel h×h convolution to oc channels with a k×k
// kernel, stride s and "same" padding.
func conv(n, c, h, oc, k, s int) ops.ConvParams {
	pad := k / 2
	o := (h+2*pad-k)/s + 1
	return ops.ConvParams{N: n, C: c, H: h, W: h, OutC: oc, KH: k, KW: k, StrideH: s, StrideW: s,
		PadH: pad, PadW: pad, DilH: 1, DilW: 1, Groups: 1, OutH: o, OutW: o}
}

// TestDirectForwardSameBitsOnAnyWorkers: whichever cut the workers get
// (bands, even bands, ranges of channels, whole images), the direct
// convolution's outputs, fused 2×2 max pool included, have the same bits
// on 1 to 4 workers.
func TestDirectForwardSameBitsOnAnyWorkers(t *testing.T) {
	if !gemm.IndirectNative() {
		t.Skip("no indirect kernel: the direct path does not run")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, p := range []ops.ConvParams{
		conv(1, 3, 224, 32, 3, 2), conv(1, 256, 14, 256, 3, 1), conv(1, 128, 28, 128, 3, 1),
		conv(1, 64, 14, 384, 1, 1), conv(1, 192, 28, 32, 1, 1), conv(1, 32, 16, 32, 3, 1), conv(3, 64, 8, 64, 3, 1),
	} {
		x, w := ops.New(p.N, p.C, p.H, p.W), ops.New(p.OutC, p.C, p.KH, p.KW)
		bias := ops.New(p.OutC)
		for _, v := range []*ops.Tensor{x, w, bias} {
			for i := range v.Data {
				v.Data[i] = float32(r.NormFloat64())
			}
		}
		shift := biasShift(p, bias)
		sameOnWorkers(t, fmt.Sprintf("%+v", p), []int{1, 2, 3, 4}, func(be *Backend) [][]float32 {
			y := ops.New(p.N, p.OutC, p.OutH, p.OutW)
			yp := ops.New(p.N, p.OutC, p.OutH/2, p.OutW/2)
			if err := be.Conv2dFused(p, x, w, y, ops.ConvFusion{Shift: shift, ReLU: true}); err != nil {
				t.Fatal(err)
			}
			if err := be.Conv2dReLUMaxPool2(p, x, w, bias, yp); err != nil {
				t.Fatal(err)
			}
			return [][]float32{y.Data, yp.Data}
		})
	}
}

// sameOnWorkers runs run on a backend of each worker count and fails
// unless every output it returns has the bits it had on the first.
func sameOnWorkers(t *testing.T, name string, workers []int, run func(be *Backend) [][]float32) {
	t.Helper()
	var ref [][]float32
	for _, n := range workers {
		got := run(New(Options{Threads: n}))
		if ref == nil {
			ref = got
			continue
		}
		for o := range ref {
			for i := range ref[o] {
				if got[o][i] != ref[o][i] {
					t.Fatalf("%s, %d workers: output %d[%d] is %v, %v on %d", name, n, o, i, got[o][i], ref[o][i], workers[0])
				}
			}
		}
	}
}

// TestImageRuns: the runs cover every image once, in order, none longer
// than asked (nor empty), lengths at most one apart; there are as few as
// the length allows, rounded up to a multiple of the workers where there
// are enough images, and then every worker's share of them (newShares,
// as workers.spread cuts items) holds the same images to one.
func TestImageRuns(t *testing.T) {
	for workers := 1; workers <= 3; workers++ {
		for n := 1; n <= 70; n++ {
			for most := 0; most <= n+1; most++ {
				runs := imageRuns(n, most, workers)
				next, lo, hi := 0, n, 0
				for _, r := range runs {
					if r.n0 != next || r.cnt < 1 || r.cnt > max(most, 1) {
						t.Fatalf("imageRuns(%d, %d, %d) = %v", n, most, workers, runs)
					}
					next += r.cnt
					lo, hi = min(lo, r.cnt), max(hi, r.cnt)
				}
				fewest := (n + max(most, 1) - 1) / max(most, 1)
				want := (fewest + workers - 1) / workers * workers
				if want > n {
					want = fewest
				}
				if next != n || hi-lo > 1 || len(runs) != want {
					t.Fatalf("imageRuns(%d, %d, %d) = %v, want %d runs", n, most, workers, runs, want)
				}
				if len(runs)%workers != 0 {
					continue
				}
				lo, hi = n, 0
				shares := newShares(len(runs), workers)
				for i := range shares {
					imgs := 0
					for _, r := range runs[shares[i].next.Load():shares[i].end] {
						imgs += r.cnt
					}
					lo, hi = min(lo, imgs), max(hi, imgs)
				}
				if hi-lo > 1 {
					t.Fatalf("imageRuns(%d, %d, %d) = %v: the workers' shares hold %d to %d images", n, most, workers, runs, lo, hi)
				}
			}
		}
	}
}
