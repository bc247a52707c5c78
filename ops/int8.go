package ops

import (
	"fmt"
	"math"
	"strconv"
	"sync"
)

// Integer inference.
//
// A qlinear/qconv2d node computes its layer with int8 operands and int32
// accumulation: activations are quantized per tensor with the node's
// InScale s_a (symmetric, [-128, 127]), weights per output channel with
// s_w[j] = max|W_j|/127 (or the node's "weight_scale" parameter) to
// [-127, 127]. The epilogue adds the bias, pre-divided into the int32
// accumulator's units (round(b_j/(s_a·s_w[j]))), applies ReLU when
// FusedReLU is set, and either requantizes to int8 with OutScale (the next
// int8 layer's InScale) or dequantizes to float32. Int8 values travel
// between nodes inside a Tensor (see Tensor.Int8); any other node reads
// them dequantized, which is exactly the GELU path: dequantize, GELU in
// float, requantize in the next layer.

// Int8Epilogue is the fused output stage of Int8Backend.Int8Gemm: each
// output is v = float32(acc[i,j] + Bias[j])·Scale[j], then max(v, 0) when
// ReLU, then min(v, Hi) when Hi > 0; int8 outputs round half to even and
// saturate to [-128, 127].
type Int8Epilogue struct {
	Bias  []int32
	Scale []float32
	ReLU  bool
	// Hi > 0 clamps outputs to at most Hi (a fused clip such as ReLU6),
	// in output units: codes for int8 outputs, real values for float.
	Hi float32
}

// PackedInt8 is a backend's prepared int8 weight matrix.
type PackedInt8 any

// Int8Backend is implemented by backends with integer inference kernels
// (Capabilities.Int8).
type Int8Backend interface {
	// QuantizeInt8 writes q = clamp(roundHalfEven(x/scale), -128, 127).
	QuantizeInt8(x []float32, scale float32, q []int8) error
	// DequantizeInt8 writes y = q·scale.
	DequantizeInt8(q []int8, scale float32, y []float32) error
	// PackInt8 prepares an (n, k) int8 weight matrix (the [out, in] layout).
	PackInt8(w []int8, n, k int) (PackedInt8, error)
	// Int8Gemm computes acc = A·Wᵀ exactly for A (m, k) int8 and packed W,
	// then the epilogue, into outQ (int8) or, when outQ is nil, outF.
	Int8Gemm(m int, a []int8, w PackedInt8, ep Int8Epilogue, outQ []int8, outF []float32) error
	// Im2ColInt8 writes the convolution patches of int8 NCHW x as rows:
	// (N·OutH·OutW, C·KH·KW), zero in the padding.
	Im2ColInt8(p ConvParams, x []int8, rows []int8) error
}

// Int8ConvBackend is implemented by backends with a direct int8
// convolution (an implicit GEMM in the backend's own weight layout);
// qconv2d uses it when the backend has it, else Im2ColInt8 and Int8Gemm.
type Int8ConvBackend interface {
	// PackConv2dInt8 prepares an (outC, C, KH, KW) int8 weight.
	PackConv2dInt8(w []int8, outC, c, kh, kw int) (PackedInt8, error)
	// Conv2dInt8 convolves the int8 codes x (NCHW, or channel-last
	// (N, H, W, C) with nhwcIn; groups 1) with the packed weight, then the
	// epilogue, into channel-last outQ (int8) or, when outQ is nil, outF
	// (NCHW, or channel-last with nhwcOut); the int32 accumulators are
	// those of Im2ColInt8 followed by Int8Gemm, so the results are
	// identical.
	Conv2dInt8(p ConvParams, x []int8, nhwcIn bool, w PackedInt8, ep Int8Epilogue, outQ []int8, outF []float32, nhwcOut bool) error
}

// Int8 returns the int8 values and scale of a quantized activation (real
// value = q·scale); ok is false for an ordinary float tensor.
// Codes an int8 convolution left channel-last are moved to NCHW order
// first (once: the tensor keeps them so).
func (t *Tensor) Int8() (q []int8, scale float32, ok bool) {
	if t.qnhwc {
		c := t.Shape[1]
		if t.qflat > 0 {
			c = t.qflat
		}
		t.q, t.qnhwc, t.qflat = codesToNCHW(t.q, t.Shape[0], c), false, 0
	}
	return t.q, t.qscale, t.q != nil
}

// int8Raw returns the codes as stored and whether they are channel-last.
func (t *Tensor) int8Raw() (q []int8, scale float32, nhwc bool) {
	return t.q, t.qscale, t.qnhwc
}

// newInt8NHWC wraps channel-last codes of an NCHW shape.
func newInt8NHWC(q []int8, scale float32, shape ...int) *Tensor {
	t := NewInt8(q, scale, shape...)
	t.qnhwc = true
	return t
}

// codesToNCHW returns the channel-last codes of n images of c channels
// in NCHW order.
func codesToNCHW(q []int8, n, c int) []int8 {
	hw := len(q) / max(n*c, 1)
	out := make([]int8, len(q))
	for img := range n {
		src, dst := q[img*hw*c:][:hw*c], out[img*hw*c:][:hw*c]
		for i := range hw {
			for ch, v := range src[i*c : (i+1)*c] {
				dst[ch*hw+i] = v
			}
		}
	}
	return out
}

// floatToNCHW returns a channel-last float tensor in NCHW order.
func (c *Context) floatToNCHW(t *Tensor) *Tensor {
	y := c.empty(t.Shape)
	n, ch := t.Shape[0], t.Shape[1]
	hw := len(t.Data) / max(n*ch, 1)
	for img := range n {
		src, dst := t.Data[img*hw*ch:][:hw*ch], y.Data[img*hw*ch:][:hw*ch]
		for i := range hw {
			for k, v := range src[i*ch : (i+1)*ch] {
				dst[k*hw+i] = v
			}
		}
	}
	return y
}

// NewInt8 wraps int8 values with their scale as a tensor of the given
// shape; Data is nil until Dequantize is called.
func NewInt8(q []int8, scale float32, shape ...int) *Tensor {
	return &Tensor{Shape: append([]int(nil), shape...), q: q, qscale: scale, leaf: true}
}

// int8Backend returns the context's int8 kernels or panics with
// ErrNotImplemented.
func (c *Context) int8Backend(op string) Int8Backend {
	ib, ok := c.b.(Int8Backend)
	if !ok || !c.b.Capabilities().Int8 {
		panic(&OpError{Op: op, Err: fmt.Errorf("int8 kernels on backend %s: %w", c.b.Name(), ErrNotImplemented)})
	}
	return ib
}

// Dequantize returns t as float32 in NCHW order (t itself when it
// already is).
func (c *Context) Dequantize(t *Tensor) *Tensor {
	if t.fnhwc {
		return c.floatToNCHW(t)
	}
	q, s, ok := t.Int8()
	if !ok {
		return t
	}
	y := c.empty(t.Shape)
	check("dequantize", c.int8Backend("dequantize").DequantizeInt8(q, s, y.Data), t)
	return y
}

// QuantizeInt8 returns x quantized per tensor with scale: an int8 tensor
// when x is float, or x requantized when its scale differs.
func (c *Context) QuantizeInt8(x *Tensor, scale float32) *Tensor {
	if scale <= 0 || math.IsNaN(float64(scale)) {
		shapeErr("quantize", fmt.Sprintf("scale %v must be positive", scale), x)
	}
	if _, s, ok := x.Int8(); ok && s == scale {
		return x
	}
	x = c.Dequantize(x)
	q := make([]int8, x.Numel())
	check("quantize", c.int8Backend("quantize").QuantizeInt8(x.Data, scale, q), x)
	return NewInt8(q, scale, x.Shape...)
}

// QuantizeWeightsInt8 quantizes an (out, ...) weight per output channel:
// s[j] = max|W_j|/127 (1 for an all-zero row), q = round(W/s) in [-127, 127].
func QuantizeWeightsInt8(w *Tensor) (q []int8, scales []float32) {
	n := w.Shape[0]
	k := w.Numel() / max(n, 1)
	q, scales = make([]int8, w.Numel()), make([]float32, n)
	for j := range n {
		row := w.Data[j*k : (j+1)*k]
		var m float32
		for _, v := range row {
			m = max(m, float32(math.Abs(float64(v))))
		}
		s := m / 127
		if s == 0 {
			s = 1
		}
		scales[j] = s
		for i, v := range row {
			q[j*k+i] = int8(min(max(math.RoundToEven(float64(v/s)), -127), 127))
		}
	}
	return q, scales
}

// quantizeWithScales quantizes an (out, ...) weight with given per-channel
// scales (from QAT), keeping the full int8 range [-128, 127] so codes learnt
// with that range survive.
func quantizeWithScales(w *Tensor, scales []float32) []int8 {
	n := w.Shape[0]
	k := w.Numel() / max(n, 1)
	q := make([]int8, w.Numel())
	for j := range n {
		for i, v := range w.Data[j*k : (j+1)*k] {
			q[j*k+i] = int8(min(max(math.RoundToEven(float64(v/scales[j])), -128), 127))
		}
	}
	return q
}

// int8Layer is a qlinear/qconv2d node's prepared weights and epilogue.
type int8Layer struct {
	packed PackedInt8
	ep     Int8Epilogue
	outC   int
}

// prepareInt8 quantizes and packs a node's weights once per model version.
func (e *exec) prepareInt8(n *Node, in []*Tensor, op string) *int8Layer {
	return e.prepareInt8For(n, in, op, 0)
}

// prepareInt8For is prepareInt8 for a qlinear whose input is a flatten
// of channel-last codes with nhwcC channels (0: the input as it is): the
// weight's columns are permuted from (c, h, w) to (h, w, c) order once,
// so the layer reads the codes as they lie.
func (e *exec) prepareInt8For(n *Node, in []*Tensor, op string, nhwcC int) *int8Layer {
	a := n.Attrs
	if a.InScale <= 0 {
		shapeErr(op, "in_scale must be positive (calibrate activations first)")
	}
	ib := e.c.int8Backend(op)
	key := "int8/" + strconv.Itoa(n.ID) + "/" + e.c.b.Name() // no Sprintf: it runs every forward
	if nhwcC > 0 {
		key += "/nhwc" + strconv.Itoa(nhwcC)
	}
	return e.m.cached(key, func() any {
		w, b := e.mustParam(n, in, "weight"), e.param(n, in, "bias")
		var q []int8
		var sw []float32
		if ws := e.param(n, in, "weight_scale"); ws != nil {
			sw = ws.Data
			q = quantizeWithScales(w, sw)
		} else {
			q, sw = QuantizeWeightsInt8(w)
		}
		outC, k := w.Shape[0], w.Numel()/w.Shape[0]
		if nhwcC > 0 {
			q = columnsToNHWC(q, outC, k, nhwcC)
		}
		var packed PackedInt8
		var err error
		if n.Kind == OpQConv2d && orOne(a.Groups) != 1 {
			packed, err = packDepthwiseInt8(ib, q, w.Shape) // int8_dw.go
		} else if cb, ok := ib.(Int8ConvBackend); ok && n.Kind == OpQConv2d && w.Dims() == 4 {
			packed, err = cb.PackConv2dInt8(q, outC, w.Shape[1], w.Shape[2], w.Shape[3])
		} else {
			packed, err = ib.PackInt8(q, outC, k)
		}
		check(op, err, w)
		ep := Int8Epilogue{Bias: make([]int32, outC), Scale: make([]float32, outC), ReLU: a.FusedReLU}
		for j := range outC {
			acc := a.InScale * sw[j]
			if b != nil {
				ep.Bias[j] = int32(math.RoundToEven(float64(b.Data[j] / acc)))
			}
			ep.Scale[j] = acc
			if a.OutScale > 0 {
				ep.Scale[j] = acc / a.OutScale
			}
		}
		return &int8Layer{packed: packed, ep: ep, outC: outC}
	}).(*int8Layer)
}

// int8Epilogue is the layer's epilogue, with the clip [0, Hi] that Forward
// fused into it (e.int8Hi, real units) when there is one.
func (e *exec) int8Epilogue(n *Node, l *int8Layer) Int8Epilogue {
	ep := l.ep
	if hi := e.int8Hi; hi > 0 {
		ep.ReLU, ep.Hi = true, hi
		if s := n.Attrs.OutScale; s > 0 {
			ep.Hi = hi / s
		}
	}
	return ep
}

// columnsToNHWC returns the (outC, k) weight codes q with each row's
// columns moved from (c, hw) to (hw, c) order for c channels.
func columnsToNHWC(q []int8, outC, k, c int) []int8 {
	hw := k / c
	out := make([]int8, len(q))
	for o := range outC {
		src, dst := q[o*k:][:k], out[o*k:][:k]
		for ch := range c {
			for i := range hw {
				dst[i*c+ch] = src[ch*hw+i]
			}
		}
	}
	return out
}

// int8Gemm allocates a node's output (int8 with OutScale, else float32)
// and runs the layer's GEMM into it.
func (e *exec) int8Gemm(n *Node, l *int8Layer, rows int, a []int8, shape []int) *Tensor {
	ib := e.c.int8Backend(string(n.Kind))
	if s := n.Attrs.OutScale; s > 0 {
		q := make([]int8, rows*l.outC)
		check(string(n.Kind), ib.Int8Gemm(rows, a, l.packed, e.int8Epilogue(n, l), q, nil))
		return NewInt8(q, s, shape...)
	}
	y := e.c.empty(shape)
	check(string(n.Kind), ib.Int8Gemm(rows, a, l.packed, e.int8Epilogue(n, l), nil, y.Data))
	return y
}

// int8ScratchPool holds int8 buffers that live only inside one node's
// run (a layer's quantized float input, im2col rows), so a forward does
// not allocate them afresh for every layer.
var int8ScratchPool sync.Pool

// int8Scratch returns a pooled buffer of length n (contents undefined).
func int8Scratch(n int) *[]int8 {
	if p, ok := int8ScratchPool.Get().(*[]int8); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	b := make([]int8, n)
	return &b
}

// quantizeInput returns x's int8 codes with scale: its own when it already
// carries them, else x quantized into a pooled buffer that done returns.
// A node with a code range narrower than int8 (Attrs.QMin/QMax, set for
// low-bit layers) gets its codes clamped to it, in a copy when x owns them.
func (e *exec) quantizeInput(x *Tensor, n *Node, op string) (q []int8, done func()) {
	scale := n.Attrs.InScale
	if scale <= 0 || math.IsNaN(float64(scale)) {
		shapeErr(op, fmt.Sprintf("scale %v must be positive", scale), x)
	}
	lo, hi := int8(-128), int8(127)
	if n.Attrs.QMin != 0 || n.Attrs.QMax != 0 {
		lo, hi = int8(n.Attrs.QMin), int8(n.Attrs.QMax)
	}
	if q, s, ok := x.Int8(); ok && s == scale {
		if !outside(q, lo, hi) {
			return q, func() {}
		}
		p := int8Scratch(len(q))
		clampInt8(q, *p, lo, hi)
		return *p, func() { int8ScratchPool.Put(p) }
	}
	xf := e.c.Dequantize(x)
	p := int8Scratch(xf.Numel())
	check(op, e.c.int8Backend(op).QuantizeInt8(xf.Data, scale, *p), x)
	if lo != -128 || hi != 127 {
		clampInt8(*p, *p, lo, hi)
	}
	return *p, func() { int8ScratchPool.Put(p) }
}

func outside(q []int8, lo, hi int8) bool {
	if lo == -128 && hi == 127 {
		return false
	}
	for _, v := range q {
		if v < lo || v > hi {
			return true
		}
	}
	return false
}

// clampInt8 writes clamp(src, lo, hi) to dst (which may be src).
func clampInt8(src, dst []int8, lo, hi int8) {
	for i, v := range src {
		dst[i] = min(max(v, lo), hi)
	}
}

// runQLinear: in[0] (..., in) → (..., out) through the int8 GEMM.
func runQLinear(e *exec, n *Node, in []*Tensor) *Tensor {
	x := in[0]
	w := e.mustParam(n, in, "weight")
	k := w.Shape[1]
	if x.Dims() < 1 || x.Dim(-1) != k {
		shapeErr("qlinear", "want x (..., in) and weight (out, in)", x, w)
	}
	if q, s, nhwc := x.int8Raw(); nhwc && x.qflat > 0 && x.Dims() == 2 && s == n.Attrs.InScale && n.Attrs.QMin == 0 && n.Attrs.QMax == 0 {
		// a flatten of channel-last codes: the weight takes their order
		l := e.prepareInt8For(n, in, "qlinear", x.qflat)
		return e.int8Gemm(n, l, x.Shape[0], q, []int{x.Shape[0], l.outC})
	}
	l := e.prepareInt8(n, in, "qlinear")
	q, done := e.quantizeInput(x, n, "qlinear")
	defer done()
	shape := append(append([]int(nil), x.Shape[:x.Dims()-1]...), l.outC)
	return e.int8Gemm(n, l, x.Numel()/k, q, shape)
}

// runQConv2d: NCHW in[0] through int8 im2col and GEMM, output NCHW.
func runQConv2d(e *exec, n *Node, in []*Tensor) *Tensor {
	l := e.prepareInt8(n, in, "qconv2d")
	a := n.Attrs
	w := e.mustParam(n, in, "weight")
	p, err := ConvGeometry(in[0], w, Conv2dOptions{Stride: pair(a.Stride, 1), Padding: pair(a.Padding, 0), Dilation: pair(a.Dilation, 1), Groups: a.Groups})
	if err != nil {
		shapeErr("qconv2d", err.Error(), in[0], w)
	}
	if p.Groups != 1 {
		return e.int8Depthwise(n, l, p, in[0]) // int8_dw.go
	}
	if cb, ok := e.c.int8Backend("qconv2d").(Int8ConvBackend); ok {
		return e.int8Conv(cb, n, l, p, in[0])
	}
	q, done := e.quantizeInput(in[0], n, "qconv2d")
	defer done()
	L := p.OutH * p.OutW
	rp := int8Scratch(p.N * L * p.C * p.KH * p.KW)
	defer int8ScratchPool.Put(rp)
	rows := *rp
	check("qconv2d", e.c.int8Backend("qconv2d").Im2ColInt8(p, q, rows), in[0])
	flat := e.int8Gemm(n, l, p.N*L, rows, []int{p.N, L, p.OutC})
	return e.nhwcToNCHW(flat, p)
}

// int8Conv runs qconv2d on the backend's direct int8 convolution.
// Channel-last int8 input in the layer's scale (a previous int8 conv's,
// through pools) is read as it is; int8 output stays channel-last.
func (e *exec) int8Conv(cb Int8ConvBackend, n *Node, l *int8Layer, p ConvParams, x *Tensor) *Tensor {
	q, s, nhwc := x.int8Raw()
	if !nhwc || s != n.Attrs.InScale || n.Attrs.QMin != 0 || n.Attrs.QMax != 0 {
		var done func()
		q, done = e.quantizeInput(x, n, "qconv2d")
		defer done()
		nhwc = false
	}
	shape := []int{p.N, p.OutC, p.OutH, p.OutW}
	if s := n.Attrs.OutScale; s > 0 && e.fusePool { // the next node, a 2×2 max pool, is fused (Forward)
		out := e.c.int8s(p.N * p.OutC * (p.OutH / 2) * (p.OutW / 2)) // every code is written
		check("qconv2d", cb.(Int8ConvPoolBackend).Conv2dInt8Pool2(p, q, nhwc, l.packed, e.int8Epilogue(n, l), out))
		return newInt8NHWC(out, s, p.N, p.OutC, p.OutH/2, p.OutW/2)
	}
	if s := n.Attrs.OutScale; s > 0 {
		out := e.c.int8s(p.N * p.OutC * p.OutH * p.OutW) // every code is written
		check("qconv2d", cb.Conv2dInt8(p, q, nhwc, l.packed, e.int8Epilogue(n, l), out, nil, false))
		return newInt8NHWC(out, s, shape...)
	}
	y := e.c.empty(shape)
	y.fnhwc = e.floatChannelLast(n)
	check("qconv2d", cb.Conv2dInt8(p, q, nhwc, l.packed, e.int8Epilogue(n, l), nil, y.Data, y.fnhwc))
	return y
}

// nhwcToNCHW moves a (N, L, C) result to (N, C, OutH, OutW).
func (e *exec) nhwcToNCHW(t *Tensor, p ConvParams) *Tensor {
	shape := []int{p.N, p.OutC, p.OutH, p.OutW}
	if q, s, ok := t.Int8(); ok {
		out := make([]int8, len(q))
		L := p.OutH * p.OutW
		for img := range p.N {
			for i := range L {
				for ch := range p.OutC {
					out[(img*p.OutC+ch)*L+i] = q[(img*L+i)*p.OutC+ch]
				}
			}
		}
		return NewInt8(out, s, shape...)
	}
	y := e.c.empty([]int{p.N, p.OutC, p.OutH * p.OutW})
	check("qconv2d", e.c.b.Permute(t, y, []int{0, 2, 1}), t)
	y.Shape = shape
	return y
}
