package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// TestConvWeightGradientIsDeterministic repeats one backward pass over many
// tiles and requires bit-identical weight and bias gradients: the sums over
// tiles must not depend on which thread ran which tile.
func TestConvWeightGradientIsDeterministic(t *testing.T) {
	p := ops.ConvParams{N: 64, C: 8, H: 16, W: 16, OutC: 8, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
		PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1, OutH: 16, OutW: 16}
	if tiles := (p.N + convTile(p) - 1) / convTile(p); tiles < 4 {
		t.Fatalf("geometry gives %d tiles; the test needs several per thread", tiles)
	}
	r := rand.New(rand.NewPCG(7, 8))
	fill := func(n int) *ops.Tensor {
		v := ops.New(n)
		for i := range v.Data {
			v.Data[i] = float32(r.NormFloat64())
		}
		return v
	}
	x, w, bias := fill(p.N*p.C*p.H*p.W), fill(p.OutC*p.C*p.KH*p.KW), fill(p.OutC)
	dy := fill(p.N * p.OutC * p.OutH * p.OutW)
	be := New(Options{Threads: 2})
	y := ops.New(p.N, p.OutC, p.OutH, p.OutW)
	if _, err := be.Conv2dAct(p, x, w, bias, y, false, false); err != nil {
		t.Fatal(err)
	}
	var first []float32
	for run := range 30 {
		dw, db := ops.New(w.Numel()), ops.New(p.OutC)
		if err := be.Conv2dActBackward(p, x, w, y, dy, nil, dw, db, false, nil); err != nil {
			t.Fatal(err)
		}
		got := append(dw.Data, db.Data...)
		if first == nil {
			first = got
			continue
		}
		for i := range got {
			if got[i] != first[i] {
				t.Fatalf("run %d: gradient %d is %v, first run gave %v", run, i, got[i], first[i])
			}
		}
	}
}

// TestConvForwardSameOnAnyWorkers: the forward of a batch with fewer
// tiles than workers (each tile's steps spread over the workers) gives
// bit-identical outputs on 1, 2 and 3 workers, for plain, grouped and
// depthwise convolutions and the fused ReLU + 2x2 max pool.
func TestConvForwardSameOnAnyWorkers(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, g := range []int{1, 4, 16} {
		p := ops.ConvParams{N: 1, C: 64, H: 56, W: 56, OutC: 64, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
			PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: g, OutH: 56, OutW: 56}
		if be := New(Options{Threads: 2}); g == 1 && !be.wide(p, convTile(p), 1) {
			t.Fatalf("%+v does not take the wide path", p)
		}
		x, w, bias := ops.New(p.N, p.C, p.H, p.W), ops.New(p.OutC, p.C/g, p.KH, p.KW), ops.New(p.OutC)
		for _, v := range []*ops.Tensor{x, w, bias} {
			for i := range v.Data {
				v.Data[i] = float32(r.NormFloat64())
			}
		}
		sameOnWorkers(t, fmt.Sprintf("groups %d", g), []int{1, 2, 3}, func(be *Backend) [][]float32 {
			y, yp := ops.New(p.N, p.OutC, p.OutH, p.OutW), ops.New(p.N, p.OutC, p.OutH/2, p.OutW/2)
			if _, err := be.Conv2dAct(p, x, w, bias, y, true, false); err != nil {
				t.Fatal(err)
			}
			if err := be.Conv2dReLUMaxPool2(p, x, w, bias, yp); err != nil {
				t.Fatal(err)
			}
			return [][]float32{y.Data, yp.Data}
		})
	}
}
