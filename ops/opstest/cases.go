package opstest

import (
	"math"

	"github.com/qpipe/qpipe/ops"
)

func in(shape ...int) input                  { return input{shape: shape} }
func inRange(lo, hi float64, s ...int) input { return input{shape: s, lo: lo, hi: hi} }
func constant(shape ...int) input            { return input{shape: shape, noGrad: true} }

func allCases() []tcase {
	var cs []tcase
	for _, group := range [][]tcase{linalgCases(), convCases(), elementwiseCases(), unaryCases(),
		reduceCases(), normCases(), softmaxCases(), layoutCases(), attentionCases(), quantCases(), bigCases()} {
		cs = append(cs, group...)
	}
	return cs
}

func linalgCases() []tcase {
	mm := func(name string, a, b []int, ta, tb bool) tcase {
		return tcase{name: name, inputs: []input{in(a...), in(b...)},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.MatMul(x[0], x[1], ta, tb) },
			ref: func(x []arr) arr { return refMatMul(x[0], x[1], ta, tb) }}
	}
	return []tcase{
		mm("matmul", []int{3, 4}, []int{4, 5}, false, false),
		mm("matmul_trans_a", []int{4, 3}, []int{4, 5}, true, false),
		mm("matmul_trans_b", []int{3, 4}, []int{5, 4}, false, true),
		mm("matmul_trans_ab", []int{4, 3}, []int{5, 4}, true, true),
		mm("matmul_batched", []int{2, 3, 3, 4}, []int{2, 3, 4, 2}, false, false),
		mm("matmul_batched_trans_b", []int{3, 3, 4}, []int{3, 5, 4}, false, true),
		mm("matmul_broadcast_b", []int{2, 3, 4}, []int{4, 5}, false, false),
		mm("matmul_broadcast_b_trans_a", []int{2, 4, 3}, []int{4, 5}, true, false),
		mm("matmul_broadcast_a", []int{3, 4}, []int{2, 4, 5}, false, false),
		{name: "linear", inputs: []input{in(2, 3, 5), in(4, 5), in(4)},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.Linear(x[0], x[1], x[2]) },
			ref: func(x []arr) arr { return refLinear(x[0], x[1], &x[2]) }},
		{name: "linear_no_bias", inputs: []input{in(6, 5), in(3, 5)},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.Linear(x[0], x[1], nil) },
			ref: func(x []arr) arr { return refLinear(x[0], x[1], nil) }},
	}
}

func convCases() []tcase {
	conv := func(name string, xs, ws []int, o ops.Conv2dOptions, bias bool) tcase {
		g := convGeom{sh: max(o.Stride[0], 1), sw: max(o.Stride[1], 1), ph: o.Padding[0], pw: o.Padding[1],
			dh: max(o.Dilation[0], 1), dw: max(o.Dilation[1], 1), groups: max(o.Groups, 1)}
		ins := []input{in(xs...), in(ws...)}
		if bias {
			ins = append(ins, in(ws[0]))
		}
		return tcase{name: name, inputs: ins,
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor {
				var b *ops.Tensor
				if bias {
					b = x[2]
				}
				return c.Conv2d(x[0], x[1], b, o)
			},
			ref: func(x []arr) arr {
				var b *arr
				if bias {
					b = &x[2]
				}
				return refConv2d(x[0], x[1], b, g)
			}}
	}
	pool := func(name string, isMax bool, o ops.PoolOptions) tcase {
		return poolCase(name, []int{2, 3, 6, 5}, isMax, o)
	}
	// depthwise with frozen weights and bias: the forward keeps no im2col
	// columns, so a CPU backend takes its direct depthwise kernel; the
	// input gradient is still checked
	frozen := func(c tcase) tcase {
		for i := 1; i < len(c.inputs); i++ {
			c.inputs[i].noGrad = true
		}
		return c
	}
	return []tcase{
		frozen(conv("conv2d_depthwise_s2_frozen", []int{2, 17, 9, 7}, []int{17, 1, 3, 3}, ops.Conv2dOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}, Groups: 17}, true)),
		frozen(conv("conv2d_depthwise_x2_frozen", []int{1, 3, 6, 11}, []int{6, 1, 3, 3}, ops.Conv2dOptions{Padding: [2]int{1, 1}, Groups: 3}, true)),
		conv("conv2d_pad1", []int{2, 3, 7, 6}, []int{4, 3, 3, 3}, ops.Conv2dOptions{Padding: [2]int{1, 1}}, true),
		conv("conv2d_stride2", []int{2, 3, 7, 6}, []int{4, 3, 3, 2}, ops.Conv2dOptions{Stride: [2]int{2, 2}}, true),
		conv("conv2d_depthwise", []int{2, 4, 5, 5}, []int{4, 1, 3, 3}, ops.Conv2dOptions{Padding: [2]int{1, 1}, Groups: 4}, true),
		conv("conv2d_groups2", []int{1, 4, 5, 5}, []int{6, 2, 3, 3}, ops.Conv2dOptions{Stride: [2]int{2, 1}, Padding: [2]int{1, 0}, Groups: 2}, false),
		conv("conv2d_dilation", []int{1, 2, 7, 7}, []int{3, 2, 3, 3}, ops.Conv2dOptions{Dilation: [2]int{2, 2}, Padding: [2]int{2, 1}}, true),
		conv("conv2d_1x1", []int{3, 4, 3, 3}, []int{5, 4, 1, 1}, ops.Conv2dOptions{}, false),
		conv("conv2d_patchify", []int{2, 3, 8, 8}, []int{6, 3, 4, 4}, ops.Conv2dOptions{Stride: [2]int{4, 4}}, true),
		pool("maxpool_2", true, ops.PoolOptions{Kernel: [2]int{2, 2}}),
		pool("maxpool_3s2p1", true, ops.PoolOptions{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}),
		pool("avgpool_2", false, ops.PoolOptions{Kernel: [2]int{2, 2}}),
		pool("avgpool_3s2p1", false, ops.PoolOptions{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}),
		pool("avgpool_3s2p1_count_pad", false, ops.PoolOptions{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}, CountIncludePad: true}),
		{name: "global_avgpool", inputs: []input{in(2, 3, 4, 5)},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.GlobalAvgPool(x[0]) },
			ref: func(x []arr) arr { return refReshape(refReduce(x[0], []int{2, 3}, true), 2, 3) }},
	}
}

// poolCase checks max or average pooling of an input of the given shape.
func poolCase(name string, shape []int, isMax bool, o ops.PoolOptions) tcase {
	g := poolGeom{kh: o.Kernel[0], kw: o.Kernel[1], sh: o.Stride[0], sw: o.Stride[1], ph: o.Padding[0], pw: o.Padding[1], countPad: o.CountIncludePad}
	if g.sh == 0 {
		g.sh, g.sw = g.kh, g.kw
	}
	return tcase{name: name, inputs: []input{in(shape...)},
		run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor {
			if isMax {
				return c.MaxPool2d(x[0], o)
			}
			return c.AvgPool2d(x[0], o)
		},
		ref: func(x []arr) arr { return refPool(x[0], g, isMax) }}
}

func elementwiseCases() []tcase {
	bin := func(name string, a, b input, f func(c *ops.Context, x, y *ops.Tensor) *ops.Tensor, g func(x, y float64) float64) tcase {
		return tcase{name: name, inputs: []input{a, b},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return f(c, x[0], x[1]) },
			ref: func(x []arr) arr { return refBinary(x[0], x[1], g) }}
	}
	add := func(c *ops.Context, x, y *ops.Tensor) *ops.Tensor { return c.Add(x, y) }
	sub := func(c *ops.Context, x, y *ops.Tensor) *ops.Tensor { return c.Sub(x, y) }
	mul := func(c *ops.Context, x, y *ops.Tensor) *ops.Tensor { return c.Mul(x, y) }
	div := func(c *ops.Context, x, y *ops.Tensor) *ops.Tensor { return c.Div(x, y) }
	fadd := func(x, y float64) float64 { return x + y }
	fsub := func(x, y float64) float64 { return x - y }
	fmul := func(x, y float64) float64 { return x * y }
	fdiv := func(x, y float64) float64 { return x / y }
	return []tcase{
		bin("add_same", in(2, 3, 4), in(2, 3, 4), add, fadd),
		bin("add_bias_row", in(2, 3, 4), in(4), add, fadd),
		bin("add_channel", in(2, 3, 2, 2), in(3, 1, 1), add, fadd),
		bin("add_outer", in(3, 1), in(1, 4), add, fadd),
		bin("add_scalar_tensor", in(3, 2), in(), add, fadd),
		bin("sub_broadcast_left", in(4), in(2, 3, 4), sub, fsub),
		bin("mul_broadcast_both", in(2, 1, 4), in(3, 1), mul, fmul),
		bin("mul_same", in(5, 3), in(5, 3), mul, fmul),
		bin("div_same", in(4, 3), inRange(0.5, 2, 4, 3), div, fdiv),
		bin("div_broadcast", in(2, 3, 4), inRange(0.5, 2, 3, 1), div, fdiv),
		{name: "affine", inputs: []input{in(3, 4)},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.Affine(x[0], -1.5, 0.25) },
			ref: func(x []arr) arr { return refMap(x[0], func(v float64) float64 { return -1.5*v + 0.25 }) }},
		{name: "broadcast_to", inputs: []input{in(1, 3, 2)},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.BroadcastTo(x[0], 4, 3, 2) },
			ref: func(x []arr) arr {
				return refBinary(x[0], newArr(4, 3, 2), fadd)
			}},
	}
}

func unaryCases() []tcase {
	type u struct {
		name string
		op   ops.UnaryOp
		f    func(float64) float64
		in   input
	}
	list := []u{
		{"relu", ops.UnaryReLU, func(x float64) float64 { return math.Max(x, 0) }, in(4, 5)},
		{"gelu", ops.UnaryGELU, geluErf, in(4, 5)},
		{"gelu_tanh", ops.UnaryGELUTanh, geluTanh, in(4, 5)},
		{"silu", ops.UnarySiLU, func(x float64) float64 { return x * sigmoid(x) }, in(4, 5)},
		{"hardswish", ops.UnaryHardswish, hardswish, inRange(-5, 5, 4, 5)},
		{"tanh", ops.UnaryTanh, math.Tanh, in(4, 5)},
		{"sigmoid", ops.UnarySigmoid, sigmoid, in(4, 5)},
		{"exp", ops.UnaryExp, math.Exp, in(4, 5)},
		{"log", ops.UnaryLog, math.Log, inRange(0.2, 3, 4, 5)},
		{"sqrt", ops.UnarySqrt, math.Sqrt, inRange(0.2, 3, 4, 5)},
		{"square", ops.UnarySquare, func(x float64) float64 { return x * x }, in(4, 5)},
		{"abs", ops.UnaryAbs, math.Abs, in(4, 5)},
		{"neg", ops.UnaryNeg, func(x float64) float64 { return -x }, in(4, 5)},
		{"recip", ops.UnaryRecip, func(x float64) float64 { return 1 / x }, inRange(0.5, 2, 4, 5)},
		{"identity", ops.UnaryIdentity, func(x float64) float64 { return x }, in(4, 5)},
	}
	var cs []tcase
	for _, e := range list {
		cs = append(cs, tcase{name: e.name, inputs: []input{e.in},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.Unary(e.op, x[0]) },
			ref: func(x []arr) arr { return refMap(x[0], e.f) }})
	}
	return cs
}

func reduceCases() []tcase {
	red := func(name string, shape, axes []int, keep, mean bool) tcase {
		return tcase{name: name, inputs: []input{in(shape...)},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor {
				if mean {
					return c.Mean(x[0], axes, keep)
				}
				return c.Sum(x[0], axes, keep)
			},
			ref: func(x []arr) arr {
				ax := axes
				if len(ax) == 0 {
					for i := range shape {
						ax = append(ax, i)
					}
				}
				for i, a := range ax {
					if a < 0 {
						ax[i] = a + len(shape)
					}
				}
				out := refReduce(x[0], ax, mean)
				if !keep {
					out.shape = dropAxes(shape, ax)
				}
				return out
			}}
	}
	return []tcase{
		red("sum_axis1", []int{2, 3, 4}, []int{1}, false, false),
		red("sum_axes02_keep", []int{2, 3, 4}, []int{0, 2}, true, false),
		red("sum_last", []int{3, 5}, []int{-1}, false, false),
		red("sum_first", []int{5, 3}, []int{0}, false, false),
		red("sum_all", []int{3, 4}, nil, false, false),
		red("mean_all", []int{2, 3, 4}, nil, false, true),
		red("mean_axis2_keep", []int{2, 3, 4}, []int{2}, true, true),
	}
}

func dropAxes(shape, axes []int) []int {
	out := []int{}
	for i, d := range shape {
		drop := false
		for _, a := range axes {
			drop = drop || a == i
		}
		if !drop {
			out = append(out, d)
		}
	}
	return out
}

func normCases() []tcase {
	bnTrain := func(name string, shape ...int) tcase {
		c := shape[1]
		return tcase{name: name, train: true, inputs: []input{in(shape...), inRange(0.5, 1.5, c), in(c)},
			run: func(ctx *ops.Context, x []*ops.Tensor) *ops.Tensor {
				return ctx.BatchNorm(x[0], x[1], x[2], nil, nil, ops.BatchNormOptions{})
			},
			ref: func(x []arr) arr {
				m, v := refBatchStats(x[0])
				return refBatchNorm(x[0], x[1], x[2], m, v, 1e-5)
			},
			gradTol: Tolerance{Atol: 2e-4, Rtol: 2e-3}}
	}
	return []tcase{
		bnTrain("batchnorm_train_4d", 4, 3, 2, 3),
		bnTrain("batchnorm_train_2d", 6, 4),
		{name: "batchnorm_eval", inputs: []input{in(3, 2, 2, 2), in(2), in(2), constant(2), {shape: []int{2}, lo: 0.5, hi: 2, noGrad: true}},
			run: func(ctx *ops.Context, x []*ops.Tensor) *ops.Tensor {
				return ctx.BatchNorm(x[0], x[1], x[2], x[3], x[4], ops.BatchNormOptions{Eps: 1e-3})
			},
			ref: func(x []arr) arr { return refBatchNorm(x[0], x[1], x[2], x[3], x[4], 1e-3) },
			refGrad: func(x []arr, r arr) []arr {
				return bnEvalGrads(x, r, 1e-3)
			}},
		{name: "layernorm", inputs: []input{in(2, 3, 8), in(8), in(8)},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.LayerNorm(x[0], x[1], x[2], 1e-5) },
			ref: func(x []arr) arr { return refLayerNorm(x[0], &x[1], &x[2], 1e-5) }},
		{name: "layernorm_plain", inputs: []input{in(5, 6)},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.LayerNorm(x[0], nil, nil, 1e-6) },
			ref: func(x []arr) arr { return refLayerNorm(x[0], nil, nil, 1e-6) }},
	}
}

// bnEvalGrads: with fixed statistics batch norm is affine per channel; the
// running variance (input 4) is a constant, so its slot is left empty.
func bnEvalGrads(x []arr, r arr, eps float64) []arr {
	xs, gamma := x[0], x[1]
	c := xs.shape[1]
	inner := len(xs.data) / (xs.shape[0] * c)
	dx, dg, db := newArr(xs.shape...), newArr(c), newArr(c)
	for i, v := range xs.data {
		ch := (i / inner) % c
		is := 1 / math.Sqrt(x[4].data[ch]+eps)
		dx.data[i] = r.data[i] * gamma.data[ch] * is
		dg.data[ch] += r.data[i] * (v - x[3].data[ch]) * is
		db.data[ch] += r.data[i]
	}
	return []arr{dx, dg, db, {}, {}}
}

func softmaxCases() []tcase {
	sm := func(name string, shape []int, axis int, log bool) tcase {
		return tcase{name: name, inputs: []input{in(shape...)},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor {
				if log {
					return c.LogSoftmax(x[0], axis)
				}
				return c.Softmax(x[0], axis)
			},
			ref: func(x []arr) arr { return refSoftmax(x[0], axis, log) }}
	}
	labels := []int{3, 0, 6, 2, 6}
	return []tcase{
		sm("softmax_last", []int{3, 5}, -1, false),
		sm("softmax_middle", []int{2, 3, 4}, 1, false),
		sm("log_softmax_last", []int{3, 5}, -1, true),
		sm("log_softmax_first", []int{4, 3}, 0, true),
		{name: "cross_entropy", inputs: []input{in(5, 7)},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.CrossEntropy(x[0], labels) },
			ref: func(x []arr) arr { return refCrossEntropy(x[0], labels) }},
		{name: "kl_div_t2", inputs: []input{in(4, 6), constant(4, 6)},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.KLDiv(x[0], x[1], 2) },
			ref: func(x []arr) arr { return refKL(x[0], x[1], 2) }},
		{name: "mse", inputs: []input{in(3, 4), in(3, 4)},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.MSE(x[0], x[1]) },
			ref: func(x []arr) arr {
				d := refBinary(x[0], x[1], func(a, b float64) float64 { return (a - b) * (a - b) })
				out := refReduce(d, []int{0, 1}, true)
				out.shape = []int{}
				return out
			}},
	}
}

func layoutCases() []tcase {
	one := func(name string, shape []int, run func(c *ops.Context, x *ops.Tensor) *ops.Tensor, ref func(x arr) arr) tcase {
		return tcase{name: name, inputs: []input{in(shape...)},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return run(c, x[0]) },
			ref: func(x []arr) arr { return ref(x[0]) }}
	}
	return []tcase{
		one("reshape", []int{2, 6}, func(c *ops.Context, x *ops.Tensor) *ops.Tensor { return c.Reshape(x, 3, -1) },
			func(x arr) arr { return refReshape(x, 3, 4) }),
		one("flatten", []int{2, 3, 2}, func(c *ops.Context, x *ops.Tensor) *ops.Tensor { return c.Flatten(x, 1) },
			func(x arr) arr { return refReshape(x, 2, 6) }),
		one("permute", []int{2, 3, 4}, func(c *ops.Context, x *ops.Tensor) *ops.Tensor { return c.Permute(x, 2, 0, 1) },
			func(x arr) arr { return refPermute(x, []int{2, 0, 1}) }),
		one("permute_inner_kept", []int{2, 3, 4, 2}, func(c *ops.Context, x *ops.Tensor) *ops.Tensor { return c.Permute(x, 1, 0, 2, 3) },
			func(x arr) arr { return refPermute(x, []int{1, 0, 2, 3}) }),
		one("transpose", []int{3, 5}, func(c *ops.Context, x *ops.Tensor) *ops.Tensor { return c.Transpose(x, 0, 1) },
			func(x arr) arr { return refPermute(x, []int{1, 0}) }),
		one("slice_step", []int{2, 7, 3}, func(c *ops.Context, x *ops.Tensor) *ops.Tensor { return c.Slice(x, 1, 1, 6, 2) },
			func(x arr) arr { return refSlice(x, 1, 1, 2, 3) }),
		one("slice_negative", []int{5, 4}, func(c *ops.Context, x *ops.Tensor) *ops.Tensor { return c.Slice(x, -1, -3, 100, 1) },
			func(x arr) arr { return refSlice(x, 1, 1, 1, 3) }),
		one("roll", []int{2, 4, 5}, func(c *ops.Context, x *ops.Tensor) *ops.Tensor { return c.Roll(x, []int{-1, 2}, []int{1, 2}) },
			func(x arr) arr { return refRoll(refRoll(x, -1, 1), 2, 2) }),
		one("window_partition", []int{2, 4, 6, 3}, func(c *ops.Context, x *ops.Tensor) *ops.Tensor { return c.WindowPartition(x, 2) },
			func(x arr) arr {
				p := refPermute(refReshape(x, 2, 2, 2, 3, 2, 3), []int{0, 1, 3, 2, 4, 5})
				return refReshape(p, 12, 4, 3)
			}),
		one("window_reverse", []int{12, 4, 3}, func(c *ops.Context, x *ops.Tensor) *ops.Tensor { return c.WindowReverse(x, 2, 4, 6) },
			func(x arr) arr {
				p := refPermute(refReshape(x, 2, 2, 3, 2, 2, 3), []int{0, 1, 3, 2, 4, 5})
				return refReshape(p, 2, 4, 6, 3)
			}),
		{name: "concat", inputs: []input{in(2, 1, 3), in(2, 3, 3), in(2, 2, 3)},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.Concat(1, x...) },
			ref: func(x []arr) arr { return refConcat(1, x...) }},
		{name: "concat_last", inputs: []input{in(3, 2), in(3, 4)},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.Concat(-1, x...) },
			ref: func(x []arr) arr { return refConcat(1, x...) }},
	}
}

var gatherIndex = []int32{0, 4, 4, 8, 2, 0, 7}

// testMask is a (2, 4, 4) shifted-window-like mask of 0 and -100.
func testMask() arr {
	m := newArr(2, 4, 4)
	for w := range 2 {
		for i := range 4 {
			for j := range 4 {
				if w == 1 && (i < 2) != (j < 2) {
					m.data[(w*4+i)*4+j] = -100
				}
			}
		}
	}
	return m
}

func attentionCases() []tcase {
	mask := testMask()
	return []tcase{
		{name: "gather", inputs: []input{in(9, 3)},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor { return c.Gather(x[0], gatherIndex) },
			ref: func(x []arr) arr { return refGather(x[0], gatherIndex) }},
		{name: "attention_plain", inputs: []input{in(2, 2, 3, 4), in(2, 2, 3, 4), in(2, 2, 3, 5)},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor {
				return c.ScaledDotProductAttention(x[0], x[1], x[2], ops.AttentionOptions{})
			},
			ref: func(x []arr) arr { return refAttention(x[0], x[1], x[2], nil, nil, 0.5) }},
		{name: "attention_bias_mask", inputs: []input{in(4, 2, 4, 3), in(4, 2, 4, 3), in(4, 2, 4, 3), in(2, 4, 4)},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor {
				o := ops.AttentionOptions{Scale: 0.7, Bias: x[3], Mask: toTensor(mask)}
				return c.ScaledDotProductAttention(x[0], x[1], x[2], o)
			},
			ref: func(x []arr) arr { return refAttention(x[0], x[1], x[2], &x[3], &mask, float64(float32(0.7))) }},
	}
}

func quantCases() []tcase {
	fq := func(name string, xs []int, scale []float32, zp []float32, axis int, qmin, qmax float32, lsq bool) tcase {
		sIn := constant(len(scale))
		if lsq {
			sIn.noGrad = false
		}
		return tcase{name: name, inputs: []input{in(xs...), sIn},
			run: func(c *ops.Context, x []*ops.Tensor) *ops.Tensor {
				copy(x[1].Data, scale)
				var z *ops.Tensor
				if zp != nil {
					z = ops.MustFromData(zp, len(zp))
				}
				return c.FakeQuant(x[0], x[1], z, ops.FakeQuantOptions{QMin: qmin, QMax: qmax, Axis: axis, LSQ: lsq})
			},
			ref: func(x []arr) arr {
				return refFakeQuant(x[0], f64(scale), f64(zp), axis, float64(qmin), float64(qmax))
			},
			refGrad: func(x []arr, r arr) []arr {
				return fakeQuantGrads(x[0], f64(scale), f64(zp), axis, float64(qmin), float64(qmax), r)
			}}
	}
	return []tcase{
		fq("fake_quant_int4_per_tensor", []int{4, 6}, []float32{0.2}, nil, 0, -7, 7, false),
		fq("fake_quant_int8_per_channel", []int{3, 5}, []float32{0.01, 0.02, 0.005}, nil, 0, -127, 127, false),
		fq("fake_quant_uint4_zero_point", []int{2, 3, 4}, []float32{0.25, 0.1, 0.3}, []float32{8, 3, 0}, 1, 0, 15, false),
		fq("fake_quant_lsq_scale", []int{5, 4}, []float32{0.3}, nil, 0, -4, 3, true),
		fq("fake_quant_lsq_per_channel", []int{4, 3}, []float32{0.3, 0.2, 0.5}, nil, 1, -8, 7, true),
	}
}

func f64(s []float32) arr {
	a := newArr(len(s))
	for i, v := range s {
		a.data[i] = float64(v)
	}
	return a
}

// fakeQuantGrads is the straight-through input gradient and the LSQ scale
// gradient scaled by 1/sqrt(N·QMax).
func fakeQuantGrads(x, scale, zp arr, axis int, qmin, qmax float64, r arr) []arr {
	dx, ds := newArr(x.shape...), newArr(len(scale.data))
	perScale := float64(len(x.data) / len(scale.data))
	gs := 1 / math.Sqrt(perScale*math.Max(qmax, 1))
	for i, v := range x.data {
		s, z := quantChannel(x, scale, zp, axis, i)
		q := math.RoundToEven(v/s) + z
		c := 0
		if len(scale.data) > 1 {
			c = unravel(i, x.shape)[axis]
		}
		switch {
		case q < qmin:
			ds.data[c] += r.data[i] * (qmin - z) * gs
		case q > qmax:
			ds.data[c] += r.data[i] * (qmax - z) * gs
		default:
			dx.data[i] = r.data[i]
			ds.data[c] += r.data[i] * (q - z - v/s) * gs
		}
	}
	return []arr{dx, ds}
}
