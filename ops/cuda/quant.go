package cuda

import (
	"fmt"

	"runtime"
	"sync"

	"github.com/qpipe/qpipe/ops"
)

// FakeQuant runs fakequant_f32.
func (b *Backend) FakeQuant(p ops.FakeQuantParams, x, scale, zp, y *ops.Tensor) error {
	o := b.begin("fake quant")
	px, ps, pz, py := o.in("x", x), o.in("scale", scale), o.in("zero point", zp), o.out("y", y)
	o.launch1("fakequant_f32", len(y.Data), px, ps, pz, py, i32(len(y.Data)), i32(p.Channels), i32(p.Inner), p.QMin, p.QMax)
	return o.done()
}

// FakeQuantBackward runs fakequant_bwd_dx_f32 and, for the LSQ scale
// gradient, fakequant_bwd_scale_f32 (one block per channel).
func (b *Backend) FakeQuantBackward(p ops.FakeQuantParams, x, scale, zp, dy, dx, dscale *ops.Tensor) error {
	o := b.begin("fake quant backward")
	px, ps, pz, pdy := o.in("x", x), o.in("scale", scale), o.in("zero point", zp), o.in("dy", dy)
	if dx != nil {
		pdx := o.inout("dx", dx)
		o.launch1("fakequant_bwd_dx_f32", len(x.Data), px, ps, pz, pdy, pdx, i32(len(x.Data)), i32(p.Channels), i32(p.Inner), p.QMin, p.QMax)
	}
	if dscale != nil && p.Channels > 0 {
		gs := p.GradScale
		if gs == 0 {
			gs = 1
		}
		pds := o.inout("dscale", dscale)
		o.launch("fakequant_bwd_scale_f32", Dim3{p.Channels, 1, 1}, Dim3{threads, 1, 1}, px, ps, pz, pdy, pds,
			i32(p.Outer), i32(p.Channels), i32(p.Inner), p.QMin, p.QMax, gs)
	}
	return o.done()
}

// QuantizeInt8 runs quantize_s8.
func (b *Backend) QuantizeInt8(x []float32, scale float32, q []int8) error {
	o := b.begin("quantize int8")
	px := o.buf("x", f32p(x), len(x), 4, true, false)
	pq := o.s8("q", q, false, true)
	o.launch1("quantize_s8", len(x), px, pq, i32(len(x)), 1/scale)
	return o.done()
}

// DequantizeInt8 runs dequantize_s8.
func (b *Backend) DequantizeInt8(q []int8, scale float32, y []float32) error {
	o := b.begin("dequantize int8")
	pq := o.s8("q", q, true, false)
	py := o.buf("y", f32p(y), len(y), 4, false, true)
	o.launch1("dequantize_s8", len(q), pq, py, i32(len(q)), scale)
	return o.done()
}

// packedS8 is a weight matrix resident on the device, rows padded to
// whole 32-bit words.
type packedS8 struct {
	b        *Backend
	p        Ptr
	n, k, kw int
	once     sync.Once
}

func (w *packedS8) free() {
	w.once.Do(func() {
		w.b.mu.Lock()
		w.b.dev.Free(w.p)
		w.b.mu.Unlock()
	})
}

// words is the padded row length in 32-bit words.
func words(k int) int { return (k + 3) / 4 }

// pad copies (rows, k) int8 into rows of 4·words(k) bytes.
func pad(a []int8, rows, k int) []int8 {
	ld := 4 * words(k)
	if ld == k {
		return a[:rows*k]
	}
	out := make([]int8, rows*ld)
	for r := range rows {
		copy(out[r*ld:r*ld+k], a[r*k:(r+1)*k])
	}
	return out
}

// PackInt8 uploads the (n, k) weight once; it stays on the device until
// the packed value is garbage.
func (b *Backend) PackInt8(w []int8, n, k int) (ops.PackedInt8, error) {
	if len(w) < n*k {
		return nil, fmt.Errorf("cuda pack int8: %d values for a (%d, %d) weight", len(w), n, k)
	}
	padded := pad(w, n, k)
	b.mu.Lock()
	p, err := b.dev.Alloc(len(padded))
	if err == nil {
		err = b.dev.CopyIn(p, s8p(padded), len(padded))
	}
	b.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("cuda pack int8 (%d, %d): %w", n, k, err)
	}
	pk := &packedS8{b: b, p: p, n: n, k: k, kw: words(k)}
	runtime.SetFinalizer(pk, (*packedS8).free)
	return pk, nil
}

// Int8Gemm runs gemm_s8 (dp4a, int32 accumulation) with the fused epilogue.
func (b *Backend) Int8Gemm(m int, a []int8, w ops.PackedInt8, ep ops.Int8Epilogue, outQ []int8, outF []float32) error {
	pw, ok := w.(*packedS8)
	if !ok || pw.b != b {
		return fmt.Errorf("cuda int8 gemm: the weights were not packed by this backend")
	}
	n, k := pw.n, pw.k
	if len(a) < m*k || len(ep.Bias) < n || len(ep.Scale) < n {
		return fmt.Errorf("cuda int8 gemm: A has %d values, bias %d, scale %d for m=%d n=%d k=%d", len(a), len(ep.Bias), len(ep.Scale), m, n, k)
	}
	o := b.begin("int8 gemm")
	pa := o.s8("A", pad(a, m, k), true, false)
	pb := o.i32("bias", ep.Bias[:n], false)
	ps := o.buf("scale", f32p(ep.Scale), n, 4, true, false)
	var pq, pf Ptr
	if outQ != nil {
		pq = o.s8("out", outQ[:m*n], false, true)
	} else {
		pf = o.buf("out", f32p(outF), m*n, 4, false, true)
	}
	if m > 0 && n > 0 {
		o.launch("gemm_s8", Dim3{(n + 63) / 64, (m + 63) / 64, 1}, Dim3{threads, 1, 1}, pa, pw.p, pb, ps, pq, pf,
			i32(m), i32(n), i32(pw.kw), b32(ep.ReLU))
	}
	return o.done()
}

// convQArg is kernels/quant.cu's ConvQ.
type convQArg struct {
	N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, LDK int32
}

// Im2ColInt8 runs im2col_s8 into (N·OutH·OutW, C·KH·KW) rows.
func (b *Backend) Im2ColInt8(p ops.ConvParams, x []int8, rows []int8) error {
	K := p.C * p.KH * p.KW
	n := p.N * p.OutH * p.OutW * K
	o := b.begin("im2col int8")
	px, pr := o.s8("x", x, true, false), o.s8("rows", rows[:n], false, true)
	o.launch1("im2col_s8", n, px, pr, convQArg{i32(p.N), i32(p.C), i32(p.H), i32(p.W), i32(p.KH), i32(p.KW),
		i32(p.StrideH), i32(p.StrideW), i32(p.PadH), i32(p.PadW), i32(max(p.DilH, 1)), i32(max(p.DilW, 1)),
		i32(p.OutH), i32(p.OutW), i32(K)})
	return o.done()
}

// maxAttnTokens matches QP_ATTN_MAXN in kernels/quant.cu.
const maxAttnTokens = 256

// Int8Attention runs attention_s8, one thread per (batch entry, head,
// query).
func (b *Backend) Int8Attention(p ops.Int8AttentionParams, qkv, out []int8) error {
	n, c, h := p.Tokens, p.Channels, p.Heads
	if h <= 0 || c%h != 0 {
		return fmt.Errorf("cuda int8 attention: %d channels over %d heads", c, h)
	}
	if n > maxAttnTokens {
		return fmt.Errorf("cuda int8 attention over %d tokens (the kernel holds %d): %w", n, maxAttnTokens, ops.ErrNotImplemented)
	}
	if len(qkv) < p.Batch*n*3*c || len(out) < p.Batch*n*c || p.NT <= 0 || len(p.Table) < p.NT*h*n*p.LDT {
		return fmt.Errorf("cuda int8 attention: buffers (%d, %d codes, table %d) do not fit batch %d × %d tokens × %d channels", len(qkv), len(out), len(p.Table), p.Batch, n, c)
	}
	o := b.begin("int8 attention")
	pq, pt := o.s8("qkv", qkv[:p.Batch*n*3*c], true, false), o.buf("table", f32p(p.Table), len(p.Table), 4, true, false)
	po := o.s8("out", out[:p.Batch*n*c], false, true)
	alpha, f := p.InScale*p.InScale*p.Scale, p.InScale/(255*p.OutScale)
	o.launch1("attention_s8", p.Batch*h*n, pq, pt, po, i32(p.Batch), i32(n), i32(c), i32(h), i32(p.NT), i32(p.LDT), alpha, f)
	return o.done()
}

var _ ops.Int8AttentionBackend = (*Backend)(nil)
