package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// TestDirectOutMatchesGo checks the output pass (the vector kernel where
// there is one) against directOutGo bit for bit: every activation (none,
// ReLU, a clip, ReLU then a clip), with and without a residual, rows of
// 1..40 columns (masked tails) read from a strided source, NaN inputs
// included (they become the bound, as VMAXPS/VMINPS give it).
func TestDirectOutMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	fusions := []ops.ConvFusion{{}, {ReLU: true}, {Clip: true, Lo: 0, Hi: 6}, {Clip: true, Lo: -1, Hi: 0.5}, {ReLU: true, Clip: true, Lo: -2, Hi: 6}}
	for fi, f := range fusions {
		act := fusionAct(f)
		for cols := 1; cols <= 40; cols++ {
			for _, withRes := range []bool{false, true} {
				rows, lds := 3, cols+5
				src := make([]float32, rows*lds)
				for i := range src {
					src[i] = float32(r.NormFloat64() * 8)
				}
				src[0] = float32(math.NaN())
				var res []float32
				if withRes {
					res = make([]float32, rows*cols)
					for i := range res {
						res[i] = float32(r.NormFloat64())
					}
				}
				got, want := make([]float32, rows*cols), make([]float32, rows*cols)
				directOut(src, lds, got, res, rows, cols, 0.7, -0.3, act)
				directOutGo(src, lds, want, res, rows, cols, 0.7, -0.3, act)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("fusion %d %+v, cols %d, res %v: [%d] = %v, want %v", fi, f, cols, withRes, i, got[i], want[i])
					}
					if f.Clip && !math.IsNaN(float64(want[i])) && (want[i] < max(f.Lo, 0) && f.ReLU || want[i] > f.Hi) {
						t.Fatalf("fusion %+v: [%d] = %v outside the clip", f, i, want[i])
					}
				}
				if f.ReLU || f.Clip {
					if math.IsNaN(float64(want[0])) {
						t.Fatalf("fusion %+v: a NaN input stayed NaN under a bound", f)
					}
				} else if !math.IsNaN(float64(want[0])) {
					t.Fatalf("no activation: a NaN input became %v", want[0])
				}
			}
		}
	}
}

// TestConv2dFusedPointwise checks the 1×1 convolutions whose GEMM writes
// y through its epilogue (fusedOut.into) bit for bit against the output
// pass over the GEMM's result (fusedOut.out: the same operations in the
// same order), and against the float64 convolution: every activation,
// scale or none, residual or none, 1 and 2 threads (bands and channel
// ranges), k across the GEMM's k block, a NaN input. Dropping any part of
// the epilogue fails it. (A one-image 7×7 convolution's last column is a
// dot product, dotTail, in both.)
func TestConv2dFusedPointwise(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	fill := func(n int) []float32 { return normals(r, n) }
	fusions := []ops.ConvFusion{{}, {ReLU: true}, {Clip: true, Lo: 0, Hi: 6}, {Clip: true, Lo: -1, Hi: 0.5}, {ReLU: true, Clip: true, Lo: -2, Hi: 6}}
	for _, s := range [][5]int{{1, 24, 14, 14, 20}, {1, 800, 7, 7, 16}, {2, 16, 12, 12, 9}, {1, 8, 3, 5, 5}, {1, 32, 28, 28, 96}} { // N, C, H=OutH, W=OutW, OutC
		p := ops.ConvParams{N: s[0], C: s[1], H: s[2], W: s[3], OutC: s[4], KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: 1, OutH: s[2], OutW: s[3]}
		L := p.OutH * p.OutW
		x, w := fill(p.N*p.C*p.H*p.W), fill(p.OutC*p.C)
		x[5] = float32(math.NaN())
		conv, _, _, _ := convRef(p, x, w, make([]float32, p.OutC), make([]float32, p.N*p.OutC*L), false)
		for fi, f := range fusions {
			for variant := range 4 {
				f.Shift, f.Scale, f.Res = fill(p.OutC), nil, nil
				if variant&1 != 0 {
					f.Scale = fill(p.OutC)
				}
				if variant&2 != 0 {
					f.Res = &ops.Tensor{Data: fill(p.N * p.OutC * L)}
				}
				var first []float32
				for _, threads := range []int{1, 2} {
					be := New(Options{Threads: threads})
					g := directGeomFor(p)
					ts := be.directTiles(g)
					if !g.inPlace(ts[0]) {
						t.Fatalf("%v: tile %+v is not read in place", s, ts[0])
					}
					got, want := ops.New(p.N, p.OutC, p.OutH, p.OutW), ops.New(p.N, p.OutC, p.OutH, p.OutW)
					if err := be.Conv2dFused(p, &ops.Tensor{Data: x}, &ops.Tensor{Data: w}, got, f); err != nil {
						t.Fatal(err)
					}
					be.directForward(g, ts, x, w, newFusedOut(p, want.Data, f).out(g), nil)
					name := fmt.Sprintf("%v fusion %d scale %v res %v threads %d", s, fi, f.Scale != nil, f.Res != nil, threads)
					for i, v := range want.Data {
						if math.Float32bits(got.Data[i]) != math.Float32bits(v) {
							t.Fatalf("%s: y[%d] = %v, the output pass gives %v", name, i, got.Data[i], v)
						}
						if c := conv[i]; !math.IsNaN(c) {
							oc := i / L % p.OutC
							ref := fusionRef(f, c, oc, i)
							if math.Abs(float64(got.Data[i])-ref) > 1e-4*(1+math.Abs(ref))*math.Sqrt(float64(p.C)) {
								t.Fatalf("%s: y[%d] = %v, want %v", name, i, got.Data[i], ref)
							}
						}
					}
					if first == nil {
						first = got.Data
					} else if !slices.EqualFunc(first, got.Data, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
						t.Fatalf("%s: the bits depend on the thread count", name)
					}
				}
			}
		}
	}
}

// fusionRef is f's output for convolution value c at output i (channel
// oc) in float64.
func fusionRef(f ops.ConvFusion, c float64, oc, i int) float64 {
	v := c
	if f.Scale != nil {
		v *= float64(f.Scale[oc])
	}
	v += float64(f.Shift[oc])
	if f.Res != nil {
		v += float64(f.Res.Data[i])
	}
	if f.ReLU {
		v = math.Max(v, 0)
	}
	if f.Clip {
		v = math.Min(math.Max(v, float64(f.Lo)), float64(f.Hi))
	}
	return v
}
