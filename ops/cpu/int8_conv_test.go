package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// convInt8Ref is the int8 convolution by its definition: int32 sums over
// (c, i, j) with zero padding, then the Go twin of the fused epilogue, NCHW.
func convInt8Ref(p ops.ConvParams, x, w []int8, ep ops.Int8Epilogue) ([]int8, []float32) {
	L := p.OutH * p.OutW
	q, f := make([]int8, p.N*p.OutC*L), make([]float32, p.N*p.OutC*L)
	acc := make([]int32, p.OutC)
	rq, rf := make([]int8, p.OutC), make([]float32, p.OutC)
	for img := range p.N {
		for oh := range p.OutH {
			for ow := range p.OutW {
				for oc := range p.OutC {
					var s int32
					for c := range p.C {
						for i := range p.KH {
							for j := range p.KW {
								ih, iw := oh*p.StrideH-p.PadH+i*p.DilH, ow*p.StrideW-p.PadW+j*p.DilW
								if ih >= 0 && ih < p.H && iw >= 0 && iw < p.W {
									s += int32(x[((img*p.C+c)*p.H+ih)*p.W+iw]) * int32(w[((oc*p.C+c)*p.KH+i)*p.KW+j])
								}
							}
						}
					}
					acc[oc] = s
				}
				gemm.RequantRow(rq, acc, gemmEpilogue(ep))
				gemm.DequantRow(rf, acc, gemmEpilogue(ep))
				for oc := range p.OutC {
					at := (img*p.OutC+oc)*L + oh*p.OutW + ow
					q[at], f[at] = rq[oc], rf[oc]
				}
			}
		}
	}
	return q, f
}

// TestConv2dInt8MatchesReference checks the implicit-GEMM int8 convolution
// bit for bit against the definition, int8 and float outputs, over the
// shapes the models use: 3x3 pad 1, stride 2, 1x1, the 7x7 stride-2 stem,
// dilation, one channel, channel counts off the VNNI group and kernel
// tile, output rows across the 14-row kernel tile, unpadded input, and
// batches spanning several tiles; on 1, 2 and 3 workers.
func TestConv2dInt8MatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	cases := []struct{ n, c, h, w, oc, k, stride, pad, dil int }{
		{2, 1, 28, 28, 32, 3, 1, 1, 1},
		{3, 32, 14, 14, 64, 3, 1, 1, 1},
		{2, 16, 9, 11, 24, 3, 2, 1, 1},
		{2, 24, 8, 8, 40, 1, 1, 0, 1},
		{2, 24, 8, 8, 40, 1, 2, 0, 1},
		{1, 3, 30, 30, 17, 7, 2, 3, 1},
		{2, 5, 10, 10, 8, 3, 1, 2, 2},
		{2, 7, 6, 5, 3, 2, 1, 0, 1},
		{9, 64, 8, 8, 64, 3, 1, 1, 1},
		{3, 3, 32, 32, 16, 3, 1, 1, 1}, // resnet20 stem: 9-byte kernel rows in 12
		{2, 32, 7, 9, 64, 3, 1, 0, 1},  // unpadded channel-last input
		{3, 5, 9, 7, 33, 3, 2, 1, 1},   // 15-byte kernel rows, odd sizes, stride 2
		{2, 16, 5, 31, 32, 3, 1, 1, 1}, // output rows over two 14-row tiles and a tail
		{1, 8, 12, 12, 16, 5, 2, 2, 3}, // dilated 5x5: patch rows
	}
	for _, cs := range cases {
		p := ops.ConvParams{N: cs.n, C: cs.c, H: cs.h, W: cs.w, OutC: cs.oc, KH: cs.k, KW: cs.k,
			StrideH: cs.stride, StrideW: cs.stride, PadH: cs.pad, PadW: cs.pad, DilH: cs.dil, DilW: cs.dil, Groups: 1}
		p.OutH = (p.H+2*p.PadH-p.DilH*(p.KH-1)-1)/p.StrideH + 1
		p.OutW = (p.W+2*p.PadW-p.DilW*(p.KW-1)-1)/p.StrideW + 1
		x, w := randInt8(r, p.N*p.C*p.H*p.W), randInt8(r, p.OutC*p.C*p.KH*p.KW)
		ep := ops.Int8Epilogue{Bias: make([]int32, p.OutC), Scale: make([]float32, p.OutC), ReLU: cs.k == 3}
		for j := range ep.Bias {
			ep.Bias[j], ep.Scale[j] = int32(r.IntN(2001)-1000), 1/float32(200+r.IntN(2000))
		}
		wantQ, wantF := convInt8Ref(p, x, w, ep)
		for _, threads := range []int{1, 2, 3} {
			name := fmt.Sprintf("%+v/threads=%d", cs, threads)
			b := New(Options{Threads: threads})
			pw, err := b.PackConv2dInt8(w, p.OutC, p.C, p.KH, p.KW)
			if err != nil {
				t.Fatal(err)
			}
			// int8 out is channel-last; NCHW and channel-last inputs
			xl := nhwcOf(x, p.N, p.C, p.H*p.W)
			for _, in := range []struct {
				x    []int8
				nhwc bool
			}{{x, false}, {xl, true}} {
				gotQ, gotF, gotFL := make([]int8, len(wantQ)), make([]float32, len(wantF)), make([]float32, len(wantF))
				if err := b.Conv2dInt8(p, in.x, in.nhwc, pw, ep, gotQ, nil, false); err != nil {
					t.Fatal(err)
				}
				if err := b.Conv2dInt8(p, in.x, in.nhwc, pw, ep, nil, gotF, false); err != nil {
					t.Fatal(err)
				}
				if err := b.Conv2dInt8(p, in.x, in.nhwc, pw, ep, nil, gotFL, true); err != nil {
					t.Fatal(err)
				}
				wq := nhwcOf(wantQ, p.N, p.OutC, p.OutH*p.OutW)
				wfl := nhwcOfF(wantF, p.N, p.OutC, p.OutH*p.OutW)
				for i := range wantQ {
					if gotQ[i] != wq[i] || gotF[i] != wantF[i] || gotFL[i] != wfl[i] {
						t.Fatalf("%s nhwc in %v: output %d: got %d / %v / channel-last %v, want %d / %v / %v", name, in.nhwc, i, gotQ[i], gotF[i], gotFL[i], wq[i], wantF[i], wfl[i])
					}
				}
			}
		}
	}
}

// TestConv2dInt8Pool2MatchesConvThenPool: the convolution with its 2×2
// max pool fused is bit for bit the convolution followed by the pool:
// odd output sizes (the last row and column dropped), bands of output
// rows on 1-3 workers, stride 2 (pooled from a temporary), channel-last
// and NCHW input.
func TestConv2dInt8Pool2MatchesConvThenPool(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, cs := range []struct{ n, c, h, w, oc, k, stride, pad int }{
		{3, 1, 28, 28, 32, 3, 1, 1}, {2, 32, 14, 14, 64, 3, 1, 1}, {3, 5, 9, 7, 33, 3, 1, 1},
		{2, 4, 11, 13, 16, 3, 1, 0}, {2, 8, 12, 12, 16, 3, 2, 1}, {1, 3, 5, 5, 8, 1, 1, 0},
	} {
		p := ops.ConvParams{N: cs.n, C: cs.c, H: cs.h, W: cs.w, OutC: cs.oc, KH: cs.k, KW: cs.k,
			StrideH: cs.stride, StrideW: cs.stride, PadH: cs.pad, PadW: cs.pad, DilH: 1, DilW: 1, Groups: 1}
		p.OutH = (p.H+2*p.PadH-p.KH)/p.StrideH + 1
		p.OutW = (p.W+2*p.PadW-p.KW)/p.StrideW + 1
		pp := ops.PoolParams{N: p.N, C: p.OutC, H: p.OutH, W: p.OutW, KH: 2, KW: 2, StrideH: 2, StrideW: 2, OutH: p.OutH / 2, OutW: p.OutW / 2}
		x, w := randInt8(r, p.N*p.C*p.H*p.W), randInt8(r, p.OutC*p.C*p.KH*p.KW)
		ep := ops.Int8Epilogue{Bias: make([]int32, p.OutC), Scale: make([]float32, p.OutC), ReLU: true}
		for j := range ep.Bias {
			ep.Bias[j], ep.Scale[j] = int32(r.IntN(2001)-1000), 1/float32(200+r.IntN(2000))
		}
		for _, threads := range []int{1, 2, 3} {
			b := New(Options{Threads: threads})
			pw, err := b.PackConv2dInt8(w, p.OutC, p.C, p.KH, p.KW)
			if err != nil {
				t.Fatal(err)
			}
			full := make([]int8, p.N*p.OutC*p.OutH*p.OutW)
			if err := b.Conv2dInt8(p, x, false, pw, ep, full, nil, false); err != nil {
				t.Fatal(err)
			}
			want := make([]int8, p.N*p.OutC*pp.OutH*pp.OutW)
			if err := b.MaxPool2dInt8(pp, full, want, true); err != nil {
				t.Fatal(err)
			}
			for _, in := range []struct {
				x    []int8
				nhwc bool
			}{{x, false}, {nhwcOf(x, p.N, p.C, p.H*p.W), true}} {
				got := make([]int8, len(want))
				if err := b.Conv2dInt8Pool2(p, in.x, in.nhwc, pw, ep, got); err != nil {
					t.Fatal(err)
				}
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%+v threads=%d nhwc in %v: pooled code %d = %d, want %d", cs, threads, in.nhwc, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestConv2dInt8RejectsForeignWeights: weights packed for the GEMM (or
// for another shape) are an error, not a wrong result.
func TestConv2dInt8RejectsForeignWeights(t *testing.T) {
	b := New(Options{})
	p := ops.ConvParams{N: 1, C: 3, H: 4, W: 4, OutC: 2, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: 1, OutH: 2, OutW: 2}
	pw, _ := b.PackInt8(make([]int8, 2*27), 2, 27)
	ep := ops.Int8Epilogue{Scale: []float32{1, 1}}
	if err := b.Conv2dInt8(p, make([]int8, 48), false, pw, ep, make([]int8, 8), nil, false); err == nil {
		t.Fatal("GEMM-packed weights accepted")
	}
	if _, err := b.PackConv2dInt8(make([]int8, 5), 2, 3, 3, 3); err == nil {
		t.Fatal("short weight accepted")
	}
}

func randInt8(r *rand.Rand, n int) []int8 {
	v := make([]int8, n)
	for i := range v {
		v[i] = int8(r.IntN(256) - 128)
	}
	return v
}

// TestMaxPool2dInt8MatchesFloatPool: pooling codes equals the float max
// pool of the codes, for the 2x2 fast path and padded, overlapping
// windows.
func TestMaxPool2dInt8MatchesFloatPool(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	b := New(Options{Threads: 2})
	for _, p := range []ops.PoolParams{
		{N: 2, C: 3, H: 8, W: 6, KH: 2, KW: 2, StrideH: 2, StrideW: 2, OutH: 4, OutW: 3},
		{N: 2, C: 3, H: 7, W: 7, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, OutH: 4, OutW: 4},
		{N: 1, C: 2, H: 5, W: 4, KH: 2, KW: 3, StrideH: 1, StrideW: 1, OutH: 4, OutW: 2},
		{N: 2, C: 70, H: 6, W: 6, KH: 2, KW: 2, StrideH: 2, StrideW: 2, OutH: 3, OutW: 3},
		{N: 1, C: 130, H: 7, W: 7, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, OutH: 4, OutW: 4},
	} {
		x := randInt8(r, p.N*p.C*p.H*p.W)
		xf, yf := ops.New(p.N, p.C, p.H, p.W), ops.New(p.N, p.C, p.OutH, p.OutW)
		for i, v := range x {
			xf.Data[i] = float32(v)
		}
		if err := b.MaxPool2d(p, xf, yf, make([]int32, yf.Numel())); err != nil {
			t.Fatal(err)
		}
		y, yl := make([]int8, yf.Numel()), make([]int8, yf.Numel())
		if err := b.MaxPool2dInt8(p, x, y, false); err != nil {
			t.Fatal(err)
		}
		if err := b.MaxPool2dInt8(p, nhwcOf(x, p.N, p.C, p.H*p.W), yl, true); err != nil {
			t.Fatal(err)
		}
		yl = nchwOf(yl, p.N, p.C, p.OutH*p.OutW)
		for i, v := range y {
			if float32(v) != yf.Data[i] || float32(yl[i]) != yf.Data[i] {
				t.Fatalf("%+v: output %d: %d (channel-last %d), want %v", p, i, v, yl[i], yf.Data[i])
			}
		}
	}
}

// nhwcOf returns (n, c, hw) codes as (n, hw, c).
func nhwcOf(x []int8, n, c, hw int) []int8 { return nhwcOfT(x, n, c, hw) }

// nhwcOfF is nhwcOf for floats.
func nhwcOfF(x []float32, n, c, hw int) []float32 { return nhwcOfT(x, n, c, hw) }

func nhwcOfT[T int8 | float32](x []T, n, c, hw int) []T {
	y := make([]T, len(x))
	for img := range n {
		for ch := range c {
			for i := range hw {
				y[(img*hw+i)*c+ch] = x[(img*c+ch)*hw+i]
			}
		}
	}
	return y
}

// nchwOf returns (n, hw, c) codes as (n, c, hw).
func nchwOf(x []int8, n, c, hw int) []int8 {
	y := make([]int8, len(x))
	for img := range n {
		for ch := range c {
			for i := range hw {
				y[(img*c+ch)*hw+i] = x[(img*hw+i)*c+ch]
			}
		}
	}
	return y
}

// BenchmarkConv2dInt8 times the int8 convolution at the zoo models'
// shapes, batch 64, int8 out:
//
//	go test ./ops/cpu -run '^$' -bench Conv2dInt8
func BenchmarkConv2dInt8(b *testing.B) {
	for _, cs := range []struct {
		name                           string
		n, c, h, w, oc, k, stride, pad int
	}{
		{"cnn-conv1", 64, 1, 28, 28, 32, 3, 1, 1},
		{"cnn-conv2", 64, 32, 14, 14, 64, 3, 1, 1},
		{"resnet20-s1", 64, 16, 32, 32, 16, 3, 1, 1},
		{"resnet20-s3", 64, 64, 8, 8, 64, 3, 1, 1},
	} {
		p := ops.ConvParams{N: cs.n, C: cs.c, H: cs.h, W: cs.w, OutC: cs.oc, KH: cs.k, KW: cs.k,
			StrideH: cs.stride, StrideW: cs.stride, PadH: cs.pad, PadW: cs.pad, DilH: 1, DilW: 1, Groups: 1}
		p.OutH = (p.H+2*p.PadH-p.KH)/p.StrideH + 1
		p.OutW = (p.W+2*p.PadW-p.KW)/p.StrideW + 1
		r := rand.New(rand.NewPCG(1, 2))
		x, w := randInt8(r, p.N*p.C*p.H*p.W), randInt8(r, p.OutC*p.C*p.KH*p.KW)
		ep := ops.Int8Epilogue{Bias: make([]int32, p.OutC), Scale: make([]float32, p.OutC), ReLU: true}
		for j := range ep.Scale {
			ep.Scale[j] = 1e-3
		}
		be := New(Options{})
		pw, err := be.PackConv2dInt8(w, p.OutC, p.C, p.KH, p.KW)
		if err != nil {
			b.Fatal(err)
		}
		out := make([]int8, p.N*p.OutC*p.OutH*p.OutW)
		b.Run(cs.name, func(b *testing.B) {
			for b.Loop() {
				if err := be.Conv2dInt8(p, x, true, pw, ep, out, nil, false); err != nil {
					b.Fatal(err)
				}
			}
			macs := float64(p.N * p.OutH * p.OutW * p.OutC * p.C * p.KH * p.KW)
			b.ReportMetric(macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}
