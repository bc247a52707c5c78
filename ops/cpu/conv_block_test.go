package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/qpipe/qpipe/internal/cpufeature"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// blockCase is an inverted residual block: c channels in, e expanded,
// o out, an h×w input, depthwise stride s, a residual add or not.
type blockCase struct {
	n, c, e, o, h, w, s int
	res                 bool
	noExpand            bool // e must be c: the depthwise reads x
	stem                int  // >0: the expansion is a 3×3 convolution of this stride (padding 1) from an input stem times h×w
	noBias              bool // the expansion and the projection without a bias
}

// convStage returns a stage of random weights and bias for p.
func convStage(r *rand.Rand, p ops.ConvParams, act ops.Epilogue) ops.ConvStage {
	wt := ops.New(p.OutC, p.C/max(p.Groups, 1), p.KH, p.KW)
	bias := ops.New(p.OutC)
	for i := range wt.Data {
		wt.Data[i] = float32(r.NormFloat64()) / float32(math.Sqrt(float64(p.C/max(p.Groups, 1)*p.KH*p.KW)))
	}
	for i := range bias.Data {
		bias.Data[i] = float32(r.NormFloat64()) * 0.1
	}
	return ops.ConvStage{P: p, W: wt, B: bias, Act: act}
}

// newBlock returns the block k with random operands.
func newBlock(r *rand.Rand, k blockCase) ops.ConvBlock {
	pw := func(c, o, h, w int) ops.ConvParams {
		return ops.ConvParams{N: k.n, C: c, H: h, W: w, OutC: o, KH: 1, KW: 1, StrideH: 1, StrideW: 1,
			DilH: 1, DilW: 1, Groups: 1, OutH: h, OutW: w}
	}
	oh, ow := (k.h-1)/k.s+1, (k.w-1)/k.s+1
	dw := ops.ConvParams{N: k.n, C: k.e, H: k.h, W: k.w, OutC: k.e, KH: 3, KW: 3, StrideH: k.s, StrideW: k.s,
		PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: k.e, OutH: oh, OutW: ow}
	relu6 := ops.Epilogue{Kind: ops.EpilogueClip, Lo: 0, Hi: 6}
	blk := ops.ConvBlock{
		X:         ops.New(k.n, k.c, k.h, k.w),
		Expand:    convStage(r, pw(k.c, k.e, k.h, k.w), relu6),
		Depthwise: convStage(r, dw, relu6),
		Project:   convStage(r, pw(k.e, k.o, oh, ow), ops.Epilogue{}),
		Y:         ops.New(k.n, k.o, oh, ow),
	}
	if k.noExpand {
		blk.Expand = ops.ConvStage{}
	}
	if k.noBias {
		blk.Expand.B, blk.Project.B = nil, nil
	}
	if s := k.stem; s > 0 {
		blk.X = ops.New(k.n, k.c, s*k.h, s*k.w)
		blk.Expand = convStage(r, ops.ConvParams{N: k.n, C: k.c, H: s * k.h, W: s * k.w, OutC: k.e, KH: 3, KW: 3,
			StrideH: s, StrideW: s, PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1, OutH: k.h, OutW: k.w}, relu6)
	}
	for i := range blk.X.Data {
		blk.X.Data[i] = float32(r.NormFloat64())
	}
	if k.res {
		blk.Res = ops.New(k.n, k.o, oh, ow)
		for i := range blk.Res.Data {
			blk.Res.Data[i] = float32(r.NormFloat64())
		}
	}
	return blk
}

// layerBufs are the outputs of a block's layers.
type layerBufs struct{ h1, h2, y *ops.Tensor }

// newLayerBufs allocates the outputs of blk's layers.
func newLayerBufs(blk ops.ConvBlock) layerBufs {
	e, d, p := blk.Expand.P, blk.Depthwise.P, blk.Project.P
	lb := layerBufs{h1: blk.X, h2: ops.New(d.N, d.OutC, d.OutH, d.OutW), y: ops.New(p.N, p.OutC, p.OutH, p.OutW)}
	if blk.Expand.W != nil {
		lb.h1 = ops.New(e.N, e.OutC, e.OutH, e.OutW)
	}
	return lb
}

// layers computes blk as its convolutions one after the other, into lb.
func layers(t testing.TB, be *Backend, blk ops.ConvBlock, lb layerBufs) []float32 {
	e, d, p := blk.Expand.P, blk.Depthwise.P, blk.Project.P
	if blk.Expand.W != nil {
		if err := be.Conv2dEpilogue(e, blk.X, blk.Expand.W, blk.Expand.B, lb.h1, blk.Expand.Act); err != nil {
			t.Fatal(err)
		}
	}
	if err := be.Conv2dEpilogue(d, lb.h1, blk.Depthwise.W, blk.Depthwise.B, lb.h2, blk.Depthwise.Act); err != nil {
		t.Fatal(err)
	}
	if err := be.Conv2dFused(p, lb.h2, blk.Project.W, lb.y, ops.ConvFusion{Shift: biasShift(p, blk.Project.B), Res: blk.Res}); err != nil {
		t.Fatal(err)
	}
	return lb.y.Data
}

// TestConvBlockMatchesLayers: an inverted residual block computed band by
// band equals its three convolutions one after the other bit for bit
// (stride 1 with and without the residual, stride 2, with and without an
// expansion or a 3×3 strided stem as the expansion, MobileNetV2's 112×112,
// 56×56 and 14×14 shapes, uneven sizes,
// batches 2 and 3), on 1 to 3
// workers, with band edges inside the image; the layers themselves are
// checked against float64 references (TestDepthwiseMatchesFloat64Reference
// and the pointwise tests).
func TestConvBlockMatchesLayers(t *testing.T) {
	if !vec16 {
		t.Skip("no AVX-512 here: no banded blocks")
	}
	r := rand.New(rand.NewPCG(31, 32))
	cases := []blockCase{
		{n: 1, c: 16, e: 96, o: 24, h: 112, w: 112, s: 2},
		{n: 1, c: 24, e: 144, o: 24, h: 56, w: 56, s: 1, res: true},
		{n: 1, c: 8, e: 96, o: 8, h: 45, w: 37, s: 1},
		{n: 2, c: 8, e: 96, o: 12, h: 81, w: 35, s: 2},
		{n: 1, c: 5, e: 40, o: 5, h: 63, w: 70, s: 1, res: true},
		{n: 3, c: 64, e: 384, o: 64, h: 14, w: 14, s: 1, res: true}, // in cache: banded for the workers
		{n: 1, c: 32, e: 32, o: 16, h: 112, w: 112, s: 1, noExpand: true},
		{n: 3, c: 24, e: 24, o: 24, h: 57, w: 50, s: 2, res: true, noExpand: true},
		{n: 1, c: 3, e: 32, o: 16, h: 112, w: 112, s: 1, stem: 2}, // MobileNetV2's stem and first block
		{n: 3, c: 3, e: 48, o: 8, h: 81, w: 35, s: 2, stem: 2},
		{n: 1, c: 4, e: 24, o: 8, h: 37, w: 45, s: 1, stem: 3},
		{n: 1, c: 16, e: 96, o: 24, h: 56, w: 56, s: 1, res: true, noBias: true},
	}
	for _, k := range cases {
		blk := newBlock(r, k)
		want := layers(t, New(Options{Threads: 1}), blk, newLayerBufs(blk))
		for threads := 1; threads <= 3; threads++ {
			be := New(Options{Threads: threads})
			clear(blk.Y.Data)
			done, err := be.ConvBlock(blk)
			if err != nil || !done {
				t.Fatalf("%+v: ConvBlock = %v, %v; want it banded", k, done, err)
			}
			if pl := be.newBlockPlan(blk); threads == 2 && pl.nb < 2 {
				t.Fatalf("%+v: %d band per image: the test checks no band edge", k, pl.nb)
			}
			for i, g := range blk.Y.Data {
				if math.Float32bits(g) != math.Float32bits(want[i]) {
					t.Fatalf("%+v, %d threads: output %d is %v, the layers give %v", k, threads, i, g, want[i])
				}
			}
		}
	}
}

// TestConvBlockPartsMatchLayers: a one-image block of fewer than 16
// output rows (7×7, 14×14, and 14×14 to 7×7 at stride 2) computed in
// ranges of its expanded channels matches its layers one after the other
// within
// float32 rounding of the projection's sums (relative to the sum of the
// magnitudes of its terms), and gives the same bits on 1 to 3 workers.
func TestConvBlockPartsMatchLayers(t *testing.T) {
	if !vec16 {
		t.Skip("no AVX-512 here: no banded blocks")
	}
	r := rand.New(rand.NewPCG(37, 38))
	for _, k := range []blockCase{
		{n: 1, c: 160, e: 960, o: 160, h: 7, w: 7, s: 1, res: true},
		{n: 1, c: 64, e: 384, o: 64, h: 14, w: 14, s: 1, res: true},
		{n: 1, c: 96, e: 576, o: 160, h: 14, w: 14, s: 2},
		{n: 1, c: 8, e: 37, o: 5, h: 6, w: 9, s: 1, res: true},
		{n: 1, c: 16, e: 96, o: 24, h: 7, w: 7, s: 1, res: true, noBias: true},
	} {
		blk := newBlock(r, k)
		lb := newLayerBufs(blk)
		want := layers(t, New(Options{Threads: 1}), blk, lb)
		// the projection's Σ|w||h2| per output: float32 sums in any order
		// differ by at most a few ulps of it
		p := blk.Project.P
		L := p.OutH * p.OutW
		mag := make([]float64, p.OutC*L)
		for oc := range p.OutC {
			for c := range p.C {
				wv := math.Abs(float64(blk.Project.W.Data[oc*p.C+c]))
				for j := range L {
					mag[oc*L+j] += wv * math.Abs(float64(lb.h2.Data[c*L+j]))
				}
			}
		}
		var first []float32
		for threads := 1; threads <= 3; threads++ {
			be := New(Options{Threads: threads})
			if pl := be.newBlockPlan(blk); pl == nil || pl.parts == 0 {
				t.Fatalf("%+v: not computed in parts", k)
			}
			clear(blk.Y.Data)
			if done, err := be.ConvBlock(blk); err != nil || !done {
				t.Fatalf("%+v: ConvBlock = %v, %v", k, done, err)
			}
			for i, g := range blk.Y.Data {
				if d := math.Abs(float64(g) - float64(want[i])); d > 4e-7*(mag[i]+math.Abs(float64(want[i]))) {
					t.Fatalf("%+v, %d threads: output %d is %v, the layers give %v (sum of |terms| %v)", k, threads, i, g, want[i], mag[i])
				}
			}
			if first == nil {
				first = append([]float32(nil), blk.Y.Data...)
			} else if !slices.Equal(first, blk.Y.Data) {
				t.Fatalf("%+v: %d threads differ from 1", k, threads)
			}
		}
	}
}

// TestConvBlockDeclines: blocks the bands do not take are left to the
// layers (ConvBlock reports false and writes nothing): a small block
// without expansion in fewer bands than workers (7×7 rows make one band
// of at least four), a hardswish, a 5×5 depthwise, a 3×3 stem without a
// clip (Conv2dEpilogue does not take it on the direct path), a 3×3 stem
// of stride 1 (Winograd's in the layers).
func TestConvBlockDeclines(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	be := New(Options{Threads: 2})
	small := newBlock(r, blockCase{n: 1, c: 16, e: 16, o: 8, h: 7, w: 7, s: 1, noExpand: true})
	hswish := newBlock(r, blockCase{n: 1, c: 16, e: 96, o: 24, h: 56, w: 56, s: 1})
	hswish.Depthwise.Act = ops.Epilogue{Kind: ops.EpilogueHardswish}
	k5 := newBlock(r, blockCase{n: 1, c: 16, e: 96, o: 24, h: 56, w: 56, s: 1})
	k5.Depthwise.P.KH, k5.Depthwise.P.KW, k5.Depthwise.P.PadH, k5.Depthwise.P.PadW = 5, 5, 2, 2
	unclipped := newBlock(r, blockCase{n: 1, c: 3, e: 32, o: 16, h: 56, w: 56, s: 1, stem: 2})
	unclipped.Expand.Act = ops.Epilogue{}
	cases := map[string]ops.ConvBlock{"small": small, "hardswish": hswish, "5x5": k5, "unclipped stem": unclipped}
	wino := newBlock(r, blockCase{n: 1, c: 32, e: 32, o: 16, h: 56, w: 56, s: 1, stem: 1})
	switch {
	case be.useWino(wino.Expand.P):
		cases["winograd stem"] = wino
	case gemm.IndirectNative():
		t.Fatalf("the 3×3 stride-1 32-channel stem at 56×56 should be Winograd's; the case checks nothing")
	default: // no AVX-512 kernels (purego, other CPUs): the layers take no Winograd path
		t.Log("no Winograd path on this CPU: the Winograd stem case is left out")
	}
	for name, blk := range cases {
		for i := range blk.Y.Data {
			blk.Y.Data[i] = 7
		}
		done, err := be.ConvBlock(blk)
		if err != nil || done {
			t.Fatalf("%s: ConvBlock = %v, %v; want false, nil", name, done, err)
		}
		for _, v := range blk.Y.Data {
			if v != 7 {
				t.Fatalf("%s: a declined block wrote y", name)
			}
		}
	}
}

// TestConvBlockBandsPerWorker: a one-image banded block on more than one
// worker is cut into about piecesPerThread bands per worker of at least
// blockMinRows rows, so that the caller can take the bands of a worker
// that starts late; on one worker, and for a batch, the cache budget
// alone decides (TestConvBlockMatchesLayers checks the bits on 1-3
// workers).
func TestConvBlockBandsPerWorker(t *testing.T) {
	cpufeature.Require(t, gemm.IndirectNative(), "AVX-512F (the indirect GEMM kernel: blocks are banded only with it)")
	r := rand.New(rand.NewPCG(37, 38))
	for _, c := range []struct {
		k           blockCase
		workers, nb int
	}{
		{blockCase{n: 1, c: 3, e: 32, o: 16, h: 112, w: 112, s: 1, stem: 2}, 1, 4},
		{blockCase{n: 1, c: 3, e: 32, o: 16, h: 112, w: 112, s: 1, stem: 2}, 2, 8},
		{blockCase{n: 1, c: 24, e: 144, o: 24, h: 56, w: 56, s: 1, res: true}, 2, 8},
		{blockCase{n: 1, c: 32, e: 192, o: 32, h: 28, w: 28, s: 1, res: true}, 1, 2},
		{blockCase{n: 1, c: 32, e: 192, o: 32, h: 28, w: 28, s: 1, res: true}, 2, 4},
		{blockCase{n: 1, c: 32, e: 192, o: 32, h: 28, w: 28, s: 1, res: true}, 3, 6}, // a multiple of the workers
		{blockCase{n: 2, c: 32, e: 192, o: 32, h: 28, w: 28, s: 1, res: true}, 2, 2},
	} {
		be := New(Options{Threads: c.workers})
		be.w = newWorkers(c.workers) // the count itself, whatever GOMAXPROCS is
		pl := be.newBlockPlan(newBlock(r, c.k))
		if pl == nil || pl.parts > 0 {
			t.Fatalf("%+v on %d workers: not banded", c.k, c.workers)
		}
		if pl.nb != c.nb {
			t.Errorf("%dx%d c%d-e%d batch %d on %d workers: %d bands per image, want %d", c.k.h, c.k.w, c.k.c, c.k.e, c.k.n, c.workers, pl.nb, c.nb)
		}
	}
}

// BenchmarkConvBlock times MobileNetV2's banded inverted residual blocks
// at batch 1 (224×224 input), banded and as their layers one after the
// other (outputs allocated once); the first block with the 3×3 stem in
// its bands against the stem alone and the rest banded (as before the
// stem ran in the bands).
func BenchmarkConvBlock(b *testing.B) {
	r := rand.New(rand.NewPCG(35, 36))
	for _, k := range []blockCase{
		{n: 1, c: 16, e: 96, o: 24, h: 112, w: 112, s: 2},
		{n: 1, c: 24, e: 144, o: 24, h: 56, w: 56, s: 1, res: true},
		{n: 1, c: 24, e: 144, o: 32, h: 56, w: 56, s: 2},
		{n: 1, c: 32, e: 192, o: 32, h: 28, w: 28, s: 1, res: true},
		{n: 1, c: 32, e: 32, o: 16, h: 112, w: 112, s: 1, noExpand: true},
		{n: 1, c: 3, e: 32, o: 16, h: 112, w: 112, s: 1, stem: 2},
		{n: 1, c: 96, e: 576, o: 96, h: 14, w: 14, s: 1, res: true}, // channel parts
		{n: 1, c: 160, e: 960, o: 160, h: 7, w: 7, s: 1, res: true},
	} {
		blk := newBlock(r, k)
		name := fmt.Sprintf("%dx%d/c%d-e%d-s%d", k.h, k.w, k.c, k.e, k.s)
		switch {
		case k.noExpand:
			name = fmt.Sprintf("%dx%d/c%d-s%d", k.h, k.w, k.c, k.s)
		case k.stem > 0:
			name = fmt.Sprintf("%dx%d/stem%d-c%d-e%d-s%d", k.h, k.w, k.stem, k.c, k.e, k.s)
		}
		be := New(Options{Threads: runtime.GOMAXPROCS(0)})
		b.Run(name+"/banded", func(b *testing.B) {
			for b.Loop() {
				if _, err := be.ConvBlock(blk); err != nil {
					b.Fatal(err)
				}
			}
		})
		lb := newLayerBufs(blk)
		if k.stem > 0 {
			rest := blk
			rest.X, rest.Expand = lb.h1, ops.ConvStage{}
			b.Run(name+"/stem-then-banded", func(b *testing.B) {
				for b.Loop() {
					if err := be.Conv2dEpilogue(blk.Expand.P, blk.X, blk.Expand.W, blk.Expand.B, lb.h1, blk.Expand.Act); err != nil {
						b.Fatal(err)
					}
					if done, err := be.ConvBlock(rest); !done || err != nil {
						b.Fatal("the rest of the block is not banded: ", err)
					}
				}
			})
		}
		b.Run(name+"/layers", func(b *testing.B) {
			for b.Loop() {
				layers(b, be, blk, lb)
			}
		})
	}
}

// TestConvBlockPartsWorkersSameBits: a block in 2, 3 or 4 channel parts
// gives the same bits on one worker (each part's sum added onto the one
// before it in its GEMM epilogue, through two sums in turn) as on two and
// three (the later parts' sums added into y after them).
func TestConvBlockPartsWorkersSameBits(t *testing.T) {
	if !vec16 {
		t.Skip("no AVX-512 here: no banded blocks")
	}
	r := rand.New(rand.NewPCG(39, 40))
	for _, k := range []blockCase{
		{n: 1, c: 32, e: 192, o: 32, h: 7, w: 7, s: 1, res: true},
		{n: 1, c: 24, e: 144, o: 40, h: 14, w: 14, s: 2},
	} {
		blk := newBlock(r, k)
		for parts := 2; parts <= 4; parts++ {
			var first []float32
			for threads := 1; threads <= 3; threads++ {
				be := New(Options{Threads: threads})
				pl := be.newBlockPlan(blk)
				if pl == nil || pl.parts == 0 {
					t.Fatalf("%+v: not computed in parts", k)
				}
				pl.parts = parts
				clear(blk.Y.Data)
				be.blockInParts(pl)
				if first == nil {
					first = append([]float32(nil), blk.Y.Data...)
					continue
				}
				for i, v := range blk.Y.Data {
					if math.Float32bits(v) != math.Float32bits(first[i]) {
						t.Fatalf("%+v in %d parts: output %d on %d workers is %v, on one %v", k, parts, i, threads, v, first[i])
					}
				}
			}
		}
	}
}
