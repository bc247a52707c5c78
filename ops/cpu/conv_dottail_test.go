package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// TestDirectDotTail: one-image convolutions on 7×7 outputs whose tiles
// take SgemmIndirectDotTail (dotTail: resnet18's 1×1 stride-2 downsample,
// a 1×1, and 3×3 stride-1 and stride-2 layers, 49 columns in the gapless
// layout, among them resnet18's 256→512 and 512→512, whose wide inputs
// the tile budget cut in bands on two workers before dotTailCut) match
// the float64 convolution, are never banded and give the same bits on 1
// to 3 workers; a batch of two and an image over dotTailCols columns take
// the kernel only.
func TestDirectDotTail(t *testing.T) {
	if !directOK(ops.ConvParams{Groups: 1}) {
		t.Skip("no direct path on this CPU")
	}
	r := rand.New(rand.NewPCG(41, 42))
	for _, s := range []struct {
		n, c, oc, hw, k, stride, pad int
		dots                         bool
	}{
		{1, 64, 40, 7, 3, 1, 1, true},    // 55 columns: 48 + 7
		{1, 32, 30, 14, 3, 2, 1, true},   // stride 2 onto 7×7
		{1, 256, 512, 14, 3, 2, 1, true}, // resnet18's: input planes over the tile budget
		{1, 512, 512, 7, 3, 1, 1, true},  // resnet18's 7×7 layers: the same
		{1, 48, 50, 14, 1, 2, 0, true},   // the downsample: 49 columns
		{1, 40, 36, 7, 1, 1, 0, true},    // 1×1 read in place: 49
		{2, 64, 40, 7, 3, 1, 1, false},   // two images
		{1, 16, 24, 14, 3, 1, 1, false},  // 14×14: over dotTailCols
	} {
		o := (s.hw+2*s.pad-s.k)/s.stride + 1
		p := ops.ConvParams{N: s.n, C: s.c, H: s.hw, W: s.hw, OutC: s.oc, KH: s.k, KW: s.k, StrideH: s.stride, StrideW: s.stride,
			PadH: s.pad, PadW: s.pad, DilH: 1, DilW: 1, Groups: 1, OutH: o, OutW: o}
		name := fmt.Sprintf("%+v", s)
		x, w := make([]float32, p.N*p.C*p.H*p.W), make([]float32, p.OutC*p.C*p.KH*p.KW)
		for _, v := range [][]float32{x, w} {
			for i := range v {
				v[i] = float32(r.NormFloat64())
			}
		}
		ref, _, _, _ := convRef(p, x, w, make([]float32, p.OutC), make([]float32, p.N*p.OutC*o*o), false)
		f := ops.ConvFusion{Shift: make([]float32, p.OutC)}
		var first []float32
		for threads := 1; threads <= 3; threads++ {
			be := New(Options{Threads: threads})
			g := directGeomFor(p)
			for _, tl := range be.directTiles(g) {
				if dotTail(g, tl) != s.dots {
					t.Fatalf("%s, %d workers: tile %+v dotTail %v", name, threads, tl, !s.dots)
				}
			}
			y := ops.New(p.N, p.OutC, o, o)
			if err := be.Conv2dFused(p, &ops.Tensor{Data: x}, &ops.Tensor{Data: w}, y, f); err != nil {
				t.Fatal(err)
			}
			for i, v := range y.Data {
				if math.Abs(float64(v)-ref[i]) > 1e-5*math.Sqrt(float64(p.C*p.KH*p.KW))*(1+math.Abs(ref[i])) {
					t.Fatalf("%s, %d workers: y[%d] = %v, want %v", name, threads, i, v, ref[i])
				}
			}
			if first == nil {
				first = y.Data
			} else if !slices.Equal(first, y.Data) {
				t.Fatalf("%s: %d workers give other bits than 1", name, threads)
			}
		}
	}
}
