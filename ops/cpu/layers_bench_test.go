package cpu

import (
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// resnet20Layers is every distinct convolution of resnet20's batch-1
// forward on 3×32×32 with its fused output pass (batch norm's scale and
// shift, ReLU, the residual of a block's second convolution). In the
// model the two 1×1 stride-2 downsamples run after conv2 and take the
// block's add and ReLU (conv2's output is their residual): the _res rows
// time them so, the others without the residual read.
var resnet20Layers = []struct {
	name            string
	c, oc, hw, k, s int
	res             bool
}{
	{"stem_3to16x32", 3, 16, 32, 3, 1, false},
	{"16x32", 16, 16, 32, 3, 1, false},
	{"16x32_res", 16, 16, 32, 3, 1, true},
	{"s2_16to32x16", 16, 32, 32, 3, 2, false},
	{"1x1s2_16to32x16", 16, 32, 32, 1, 2, false},
	{"1x1s2_16to32x16_res", 16, 32, 32, 1, 2, true},
	{"32x16", 32, 32, 16, 3, 1, false},
	{"32x16_res", 32, 32, 16, 3, 1, true},
	{"s2_32to64x8", 32, 64, 16, 3, 2, false},
	{"1x1s2_32to64x8", 32, 64, 16, 1, 2, false},
	{"1x1s2_32to64x8_res", 32, 64, 16, 1, 2, true},
	{"64x8", 64, 64, 8, 3, 1, false},
	{"64x8_res", 64, 64, 8, 3, 1, true},
}

// BenchmarkResNet20LayersThreads times each resnet20 batch-1 convolution
// (Conv2dFused, the path the cost model picks) on one and on two workers
// in the same loop, alternating every 50 calls so both see the same load:
// it reports each one's minimum and median µs over the alternations and
// t2/t1, the median of the per-alternation ratios (0.5 is a perfect
// split; 1 means the second worker gains nothing).
func BenchmarkResNet20LayersThreads(b *testing.B) { layersThreads(b, 1, 50) }

// BenchmarkResNet20LayersThreadsB64 is BenchmarkResNet20LayersThreads at
// batch 64 (image runs instead of parts of one image), alternating every
// 2 calls: set against ONNX Runtime's per-node times of the same layers
// (scripts/ort/profile.js at 64,3,32,32).
func BenchmarkResNet20LayersThreadsB64(b *testing.B) { layersThreads(b, 64, 2) }

// benchOperands are a benchmark convolution's input, weights, output and
// fused batch norm (scale and shift) with ReLU, p's shapes filled with a
// fixed pattern.
func benchOperands(p ops.ConvParams) (x, w, y *ops.Tensor, f ops.ConvFusion) {
	x, w, y = ops.New(p.N, p.C, p.H, p.W), ops.New(p.OutC, p.C/p.Groups, p.KH, p.KW), ops.New(p.N, p.OutC, p.OutH, p.OutW)
	for i := range w.Data {
		w.Data[i] = float32(i%5-2) / 8
	}
	for i := range x.Data {
		x.Data[i] = float32(i%7) - 3
	}
	f = ops.ConvFusion{Scale: make([]float32, p.OutC), Shift: make([]float32, p.OutC), ReLU: true}
	for i := range f.Scale {
		f.Scale[i], f.Shift[i] = 1+float32(i%3)/8, float32(i%4)/8
	}
	return x, w, y, f
}

// layersThreads times resnet20Layers at batch n on one and two workers,
// alternating every per calls.
func layersThreads(b *testing.B, n, per int) {
	for _, l := range resnet20Layers {
		b.Run(l.name, func(b *testing.B) {
			pad := l.k / 2
			out := (l.hw+2*pad-l.k)/l.s + 1
			p := ops.ConvParams{N: n, C: l.c, H: l.hw, W: l.hw, OutC: l.oc, KH: l.k, KW: l.k, StrideH: l.s, StrideW: l.s,
				PadH: pad, PadW: pad, DilH: 1, DilW: 1, Groups: 1, OutH: out, OutW: out}
			x, w, y, f := benchOperands(p)
			if l.res {
				f.Res = ops.New(n, p.OutC, out, out)
			}
			var be [2]*Backend
			for i := range be {
				be[i] = New(Options{Threads: i + 1})
			}
			t1, t2, ratio := AlternateThreads(b, per, func(i int) {
				if err := be[i].Conv2dFused(p, x, w, y, f); err != nil {
					b.Fatal(err)
				}
			})
			b.ReportMetric(minOf(t1), "t1-min-µs")
			b.ReportMetric(minOf(t2), "t2-min-µs")
			b.ReportMetric(MedianOf(t1), "t1-µs")
			b.ReportMetric(MedianOf(t2), "t2-µs")
			b.ReportMetric(MedianOf(ratio), "t2/t1")
		})
	}
}

// minOf returns the smallest of v (0 when empty).
func minOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	m := v[0]
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

// BenchmarkResNet20LayersColdB64 times each resnet20 convolution at
// batch 64 on two workers with hot operands (the same input, output and
// residual every call, as BenchmarkResNet20LayersThreadsB64) and with
// cold ones (coldSets sets of them in turn, 48 MB and more of inputs, so
// that each call reads its input from memory as a layer of the model
// does), alternating every 4 calls: the cold median is what the
// model's step costs (ZooLayers), the hot one the layer's own work.
func BenchmarkResNet20LayersColdB64(b *testing.B) {
	for _, l := range resnet20Layers {
		b.Run(l.name, func(b *testing.B) {
			pad := l.k / 2
			out := (l.hw+2*pad-l.k)/l.s + 1
			p := ops.ConvParams{N: 64, C: l.c, H: l.hw, W: l.hw, OutC: l.oc, KH: l.k, KW: l.k, StrideH: l.s, StrideW: l.s,
				PadH: pad, PadW: pad, DilH: 1, DilW: 1, Groups: 1, OutH: out, OutW: out}
			var xs, ys []*ops.Tensor
			var fs []ops.ConvFusion
			var w *ops.Tensor
			for range coldSets + 1 {
				x, wi, y, f := benchOperands(p)
				if l.res {
					f.Res = ops.New(p.N, p.OutC, out, out)
				}
				xs, ys, fs, w = append(xs, x), append(ys, y), append(fs, f), wi
			}
			be := New(Options{Threads: 2})
			next := 0
			hot, cold, ratio := AlternateThreads(b, 4, func(i int) {
				s := 0 // hot: set 0; cold: sets 1..coldSets in turn
				if i == 1 {
					next = next%coldSets + 1
					s = next
				}
				if err := be.Conv2dFused(p, xs[s], w, ys[s], fs[s]); err != nil {
					b.Fatal(err)
				}
			})
			b.ReportMetric(MedianOf(hot), "hot-µs")
			b.ReportMetric(MedianOf(cold), "cold-µs")
			b.ReportMetric(MedianOf(ratio), "cold/hot")
		})
	}
}

// coldSets is how many operand sets BenchmarkResNet20LayersColdB64's cold
// calls take in turn: 12 inputs of 2-4 MB are more than the caches keep.
const coldSets = 12
