package opstest

import (
	"math"

	"github.com/qpipe/qpipe/ops"
)

// bigCases are shapes large enough that a parallel backend splits them:
// several chunks of 16K elements for elementwise loops, more than 16
// convolution tiles (and tiles of several images), more row runs than
// threads for the layer-norm parameter sums, more (batch, head) pairs,
// channels and planes than workers, products of 8M multiply-adds. A
// reduction that loses a thread's partial, or adds partials in the order
// threads finish, shows up here and not on the small shapes above.
//
// Gradients come from analytic float64 references where a product or a
// sum makes finite differences of every element too slow, and from finite
// differences at sampled elements elsewhere.
func bigCases() []tcase {
	return append(append(bigLinalgCases(), bigConvCases()...), bigRowCases()...)
}

// bigSample is how many elements of each input the large cases check by
// finite differences.
const bigSample = 48

func bigLinalgCases() []tcase {
	mm := func(name string, a, b []int) tcase {
		return tcase{name: name, inputs: []input{in(a...), in(b...)},
			run:     func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.MatMul(x[0], x[1], false, false) },
			ref:     func(x []arr) arr { return refMatMul(x[0], x[1], false, false) },
			refGrad: func(x []arr, r arr) []arr { return refMatMulGrads(x[0], x[1], r) },
			fwdTol:  Tolerance{Atol: 1e-4, Rtol: 1e-4}}
	}
	linear := func(name string, rows, width, out int) tcase {
		return tcase{name: name, inputs: []input{in(rows, width), in(out, width), in(out)},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.Linear(x[0], x[1], x[2]) },
			ref: func(x []arr) arr { return refLinear(x[0], x[1], &x[2]) },
			refGrad: func(x []arr, r arr) []arr {
				return []arr{refMatMul(r, x[1], false, false), refMatMul(r, x[0], true, false), refReduce(r, []int{0}, false).reshaped(r.shape[1])}
			},
			fwdTol: Tolerance{Atol: 1e-4, Rtol: 1e-4}}
	}
	return []tcase{
		mm("big_matmul_threads", []int{256, 256}, []int{256, 128}),
		mm("big_matmul_batched_heads", []int{16, 32, 32}, []int{16, 32, 24}),
		linear("big_linear", 512, 128, 256),
		// a few rows against a transposed weight: the dot-product path,
		// its columns split over threads
		linear("big_linear_few_rows", 3, 1024, 2048),
		{name: "big_attention_qkv", inputs: []input{in(4, 16, 3*4*8)}, sample: bigSample,
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return attentionNode(c, x[0], 4) },
			ref: func(x []arr) arr { return refQKVAttention(x[0], 4) }},
	}
}

func bigConvCases() []tcase {
	conv := func(name string, xs, ws []int, o ops.Conv2dOptions) tcase {
		g := convGeom{sh: max(o.Stride[0], 1), sw: max(o.Stride[1], 1), ph: o.Padding[0], pw: o.Padding[1],
			dh: 1, dw: 1, groups: max(o.Groups, 1)}
		return tcase{name: name, inputs: []input{in(xs...), in(ws...), in(ws[0])},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.Conv2d(x[0], x[1], x[2], o) },
			ref: func(x []arr) arr { return refConv2d(x[0], x[1], &x[2], g) },
			refGrad: func(x []arr, r arr) []arr {
				return refConv2dGrads(x[0], x[1], true, g, r)
			},
			gradTol: Tolerance{Atol: 1e-3, Rtol: 1e-3}}
	}
	pool := func(name string, isMax bool, o ops.PoolOptions) tcase {
		c := poolCase(name, []int{32, 16, 16, 16}, isMax, o)
		c.sample = bigSample
		return c
	}
	return []tcase{
		// one image per tile, 20 tiles: more than the 16 runs, so some
		// runs sum two tiles
		conv("big_conv2d_tiles", []int{20, 4, 48, 48}, []int{4, 4, 3, 3}, ops.Conv2dOptions{Padding: [2]int{1, 1}}),
		// seven images per tile, six tiles
		conv("big_conv2d_stride2_images_per_tile", []int{40, 8, 32, 32}, []int{8, 8, 3, 3}, ops.Conv2dOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}),
		pool("big_maxpool_2", true, ops.PoolOptions{Kernel: [2]int{2, 2}}),
		pool("big_avgpool_3s2p1", false, ops.PoolOptions{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}),
	}
}

func bigRowCases() []tcase {
	labels := make([]int, 2048)
	for i := range labels {
		labels[i] = i * 7 % 64
	}
	unary := func(name string, op ops.UnaryOp, f func(float64) float64) tcase {
		return tcase{name: name, inputs: []input{in(128, 1040)}, sample: bigSample,
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.Unary(op, x[0]) },
			ref: func(x []arr) arr { return refMap(x[0], f) }}
	}
	sum := func(name string, shape []int, axis int) tcase {
		return tcase{name: name, inputs: []input{in(shape...)},
			run:     func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.Sum(x[0], []int{axis}, true) },
			ref:     func(x []arr) arr { return refReduce(x[0], []int{axis}, false) },
			refGrad: func(x []arr, r arr) []arr { return []arr{broadcastBack(r, x[0].shape)} },
			fwdTol:  Tolerance{Atol: 1e-4, Rtol: 1e-4}}
	}
	return []tcase{
		unary("big_gelu", ops.UnaryGELU, geluErf),
		unary("big_relu", ops.UnaryReLU, func(x float64) float64 { return max(x, 0) }),
		unary("big_sigmoid", ops.UnarySigmoid, sigmoid),
		{name: "big_add_bias_rows", inputs: []input{in(512, 260), in(260)},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.Add(x[0], x[1]) },
			ref: func(x []arr) arr { return refAddRows(x[0], x[1]) },
			refGrad: func(x []arr, r arr) []arr {
				return []arr{r, refReduce(r, []int{0}, false).reshaped(r.shape[1])}
			}},
		sum("big_sum_rows_kept_columns", []int{64, 2048}, 0),
		sum("big_sum_last_axis", []int{2048, 64}, 1),
		{name: "big_softmax", inputs: []input{in(2048, 64)}, sample: bigSample,
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.Softmax(x[0], -1) },
			ref: func(x []arr) arr { return refSoftmax(x[0], -1, false) }},
		{name: "big_cross_entropy", inputs: []input{in(2048, 64)}, sample: bigSample,
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.CrossEntropy(x[0], labels) },
			ref: func(x []arr) arr { return refCrossEntropy(x[0], labels) }},
		{name: "big_layernorm", inputs: []input{in(4096, 32), inRange(0.5, 1.5, 32), in(32)}, sample: bigSample,
			run:     func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.LayerNorm(x[0], x[1], x[2], 1e-5) },
			ref:     func(x []arr) arr { return refLayerNorm(x[0], &x[1], &x[2], 1e-5) },
			gradTol: Tolerance{Atol: 1e-3, Rtol: 1e-3}},
		{name: "big_batchnorm_train", train: true, inputs: []input{in(16, 16, 8, 8), inRange(0.5, 1.5, 16), in(16)}, sample: bigSample,
			run: func(ctx *ops.Context, x []*ops.Tensor) *ops.Tensor {
				return ctx.BatchNorm(x[0], x[1], x[2], nil, nil, ops.BatchNormOptions{})
			},
			ref: func(x []arr) arr {
				m, v := refBatchStats(x[0])
				return refBatchNorm(x[0], x[1], x[2], m, v, 1e-5)
			},
			gradTol: Tolerance{Atol: 1e-3, Rtol: 2e-3}},
		{name: "big_permute", inputs: []input{in(64, 64, 32)},
			run:     func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.Permute(x[0], 2, 0, 1) },
			ref:     func(x []arr) arr { return refPermute(x[0], []int{2, 0, 1}) },
			refGrad: func(x []arr, r arr) []arr { return []arr{refPermute(r, []int{1, 2, 0})} }},
		{name: "big_slice_step", inputs: []input{in(64, 256, 16)},
			run:     func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.Slice(x[0], 1, 3, 250, 2) },
			ref:     func(x []arr) arr { return refSlice(x[0], 1, 3, 2, 124) },
			refGrad: func(x []arr, r arr) []arr { return []arr{refSliceGrad(x[0].shape, r, 1, 3, 2)} }},
		{name: "big_roll", inputs: []input{in(64, 128, 16)},
			run:     func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.Roll(x[0], []int{5}, []int{1}) },
			ref:     func(x []arr) arr { return refRoll(x[0], 5, 1) },
			refGrad: func(x []arr, r arr) []arr { return []arr{refRoll(r, -5, 1)} }},
		{name: "big_fake_quant_int8", inputs: []input{in(256, 520), constant(1)},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor {
				x[1].Data[0] = 0.02
				return c.FakeQuant(x[0], x[1], nil, ops.FakeQuantOptions{QMin: -127, QMax: 127})
			},
			ref: func(x []arr) arr {
				return refFakeQuant(x[0], f64([]float32{0.02}), arr{}, 0, -127, 127)
			},
			refGrad: func(x []arr, r arr) []arr {
				return fakeQuantGrads(x[0], f64([]float32{0.02}), arr{}, 0, -127, 127, r)
			}},
	}
}

// attentionNode runs multi-head self-attention on a fused qkv projection
// (B, N, 3C) the way a model runs it: one attention node of a graph, which
// a backend may hand to its ops.QKVAttentionBackend kernel.
func attentionNode(c *ops.Context, qkv *ops.Tensor, heads int) *ops.Tensor {
	b := ops.NewBuilder("attention", 1)
	y := b.Attention("attn", b.Input("qkv"), ops.Attrs{Heads: heads})
	m, err := b.Build(y)
	if err != nil {
		panic(err)
	}
	out, err := m.Forward1(c, qkv)
	if err != nil {
		panic(err)
	}
	return out
}

// refMatMulGrads returns the gradients of Σ (a·b)·r: r·bᵀ and aᵀ·r (both
// batched alike).
func refMatMulGrads(a, b, r arr) []arr {
	return []arr{refMatMul(r, b, false, true), refMatMul(a, r, true, false)}
}

// refSliceGrad scatters r, the gradient of refSlice's output, back into
// zeros of the input's shape.
func refSliceGrad(shape []int, r arr, axis, start, step int) arr {
	out := newArr(shape...)
	xs := strides(shape)
	for i, v := range r.data {
		idx := unravel(i, r.shape)
		idx[axis] = start + idx[axis]*step
		off := 0
		for a, s := range xs {
			off += idx[a] * s
		}
		out.data[off] += v
	}
	return out
}

// refAddRows adds the vector b to every row of a.
func refAddRows(a, b arr) arr {
	out := a.clone()
	n := len(b.data)
	for i := range out.data {
		out.data[i] += b.data[i%n]
	}
	return out
}

// broadcastBack spreads r (x's shape with summed axes of size 1) back over
// x's shape: the gradient of Σ sum(x)·r.
func broadcastBack(r arr, shape []int) arr {
	out := newArr(shape...)
	for i := range out.data {
		out.data[i] = r.bcastAt(unravel(i, shape))
	}
	return out
}

// refQKVAttention splits qkv (B, N, 3·H·d) into q, k, v (B, H, N, d),
// attends with scale 1/√d and merges the heads back into (B, N, H·d).
func refQKVAttention(qkv arr, heads int) arr {
	bsz, n, c := qkv.shape[0], qkv.shape[1], qkv.shape[2]/3
	d := c / heads
	part := func(which int) arr {
		p := newArr(bsz, heads, n, d)
		for b := range bsz {
			for h := range heads {
				for t := range n {
					for j := range d {
						p.data[((b*heads+h)*n+t)*d+j] = qkv.data[(b*n+t)*3*c+which*c+h*d+j]
					}
				}
			}
		}
		return p
	}
	att := refAttention(part(0), part(1), part(2), nil, nil, float64(float32(1/math.Sqrt(float64(d)))))
	out := newArr(bsz, n, c)
	for b := range bsz {
		for h := range heads {
			for t := range n {
				for j := range d {
					out.data[(b*n+t)*c+h*d+j] = att.data[((b*heads+h)*n+t)*d+j]
				}
			}
		}
	}
	return out
}
