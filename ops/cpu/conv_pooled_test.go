package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// TestConv2dFusedPooledStateSameBits: Conv2dFused takes its per-call
// state from pools (tileLoop, fusedCall, directJob, winoJob), so a call
// runs on what the previous one, of another geometry, fusion and path,
// left there. resnet20-like layers (Winograd, the direct 3×3 stride 2,
// the 1×1 stride-2 downsample, the 8×8 indirect GEMM; with and without a
// scale, a residual, a ReLU) run interleaved on one backend, twice, must
// give each layer's bits from a backend of its own, on 1 and 2 workers.
// (That a frozen forward allocates none of that state:
// bench.TestFrozenForwardAllocations.)
func TestConv2dFusedPooledStateSameBits(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 19))
	type layer struct {
		p    ops.ConvParams
		x, w []float32
		f    ops.ConvFusion
	}
	conv := func(n, c, h, oc, k, s, pad int) ops.ConvParams {
		o := (h+2*pad-k)/s + 1
		return ops.ConvParams{N: n, C: c, H: h, W: h, OutC: oc, KH: k, KW: k, StrideH: s, StrideW: s, PadH: pad, PadW: pad,
			DilH: 1, DilW: 1, Groups: 1, OutH: o, OutW: o}
	}
	var layers []layer
	for i, p := range []ops.ConvParams{
		conv(1, 16, 32, 16, 3, 1, 1), conv(1, 16, 32, 32, 3, 2, 1), conv(1, 16, 32, 32, 1, 2, 0),
		conv(1, 64, 8, 64, 3, 1, 1), conv(1, 32, 16, 32, 3, 1, 1), conv(2, 3, 32, 16, 3, 1, 1),
	} {
		L := p.N * p.OutC * p.OutH * p.OutW
		f := ops.ConvFusion{Shift: normals(r, p.OutC), ReLU: i%2 == 0}
		if i%3 != 1 {
			f.Scale = normals(r, p.OutC)
		}
		if i%2 == 1 {
			f.Res = &ops.Tensor{Data: normals(r, L)}
		}
		layers = append(layers, layer{p: p, x: normals(r, p.N*p.C*p.H*p.W), w: normals(r, p.OutC*p.C*p.KH*p.KW), f: f})
	}
	run := func(be *Backend, l layer) []float32 {
		y := ops.New(l.p.N, l.p.OutC, l.p.OutH, l.p.OutW)
		if err := be.Conv2dFused(l.p, &ops.Tensor{Data: l.x}, &ops.Tensor{Data: l.w}, y, l.f); err != nil {
			t.Fatal(err)
		}
		return y.Data
	}
	for _, threads := range []int{1, 2} {
		want := make([][]float32, len(layers))
		for i, l := range layers {
			want[i] = run(New(Options{Threads: threads}), l)
		}
		be := New(Options{Threads: threads})
		for round := range 2 {
			for k := range layers {
				i := (k*5 + round) % len(layers) // another order each round
				got := run(be, layers[i])
				for j, v := range want[i] {
					if math.Float32bits(got[j]) != math.Float32bits(v) {
						t.Fatalf("%s: y[%d] = %v, alone %v", fmt.Sprintf("threads %d round %d layer %d %+v", threads, round, i, layers[i].p), j, got[j], v)
					}
				}
			}
		}
	}
}
