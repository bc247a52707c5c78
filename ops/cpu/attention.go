package cpu

import (
	"sync/atomic"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// Multi-head self-attention straight from the fused qkv projection
// (ops.QKVAttentionBackend). For batch entry b and head h, q, k and v are
// N×d matrices inside qkv (B, N, 3, H, d) with row stride 3C, and the
// output block is an N×d window of out (B, N, C) with row stride C, so the
// GEMMs read and write them in place; each thread takes (b, h) pairs from a
// shared counter and keeps its N×N scores in cache:
//
//	forward:  P = softmax(scale·Q·Kᵀ),  O = P·V
//	backward: dV = Pᵀ·dO,  dP = dO·Vᵀ,  dS = P⊙(dP - rowsum(dP⊙P)),
//	          dQ = scale·dS·K,  dK = scale·dSᵀ·Q

// heads runs fn(b, h, scratch) for every (batch entry, head) pair on the
// worker pool; scratch is one thread's buffer of n floats.
func (b *Backend) heads(p ops.AttentionParams, n int, fn func(bi, h int, scratch []float32)) {
	pairs := p.Batch * p.Heads
	var next atomic.Int64
	b.w.For(min(b.w.n, pairs), 1, func(lo, hi int) {
		for range hi - lo {
			scratch := b.tmp.get(n)
			for i := int(next.Add(1)) - 1; i < pairs; i = int(next.Add(1)) - 1 {
				fn(i/p.Heads, i%p.Heads, scratch)
			}
			b.tmp.put(scratch)
		}
	})
}

// QKVAttention computes out = softmax(scale·q·kᵀ)·v per batch entry and
// head, keeping the softmax in probs when it is not nil.
func (b *Backend) QKVAttention(p ops.AttentionParams, qkv, out, probs *ops.Tensor) error {
	N, d := p.Tokens, p.HeadDim
	C := p.Heads * d
	b.heads(p, N*N, func(bi, h int, scratch []float32) {
		base := bi*N*3*C + h*d
		q, k, v := qkv.Data[base:], qkv.Data[base+C:], qkv.Data[base+2*C:]
		s := scratch[:N*N]
		if probs != nil {
			s = probs.Data[(bi*p.Heads+h)*N*N:][:N*N]
		}
		gemm.SgemmSerial(false, true, N, N, d, p.Scale, q, 3*C, k, 3*C, 0, s, N)
		for r := range N {
			row := s[r*N : (r+1)*N]
			scaleRow(row, 1/expShiftSum(row, row, maxRow(row)))
		}
		gemm.SgemmSerial(false, false, N, d, N, 1, s, N, v, 3*C, 0, out.Data[bi*N*C+h*d:], C)
	})
	return nil
}

// QKVAttentionBackward computes dqkv = beta·dqkv + d out/d qkv · dout.
func (b *Backend) QKVAttentionBackward(p ops.AttentionParams, qkv, probs, dout, dqkv *ops.Tensor, beta float32) error {
	N, d := p.Tokens, p.HeadDim
	C := p.Heads * d
	b.heads(p, 2*N*N, func(bi, h int, scratch []float32) {
		base := bi*N*3*C + h*d
		q, k, v := qkv.Data[base:], qkv.Data[base+C:], qkv.Data[base+2*C:]
		dq, dk, dv := dqkv.Data[base:], dqkv.Data[base+C:], dqkv.Data[base+2*C:]
		P := probs.Data[(bi*p.Heads+h)*N*N:][:N*N]
		do := dout.Data[bi*N*C+h*d:]
		dP, dS := scratch[:N*N], scratch[N*N:2*N*N]
		gemm.SgemmSerial(true, false, N, d, N, 1, P, N, do, C, beta, dv, 3*C)
		gemm.SgemmSerial(false, true, N, N, d, 1, do, C, v, 3*C, 0, dP, N)
		clear(dS)
		for r := range N {
			softmaxGradRow(P[r*N:(r+1)*N], dP[r*N:(r+1)*N], dS[r*N:(r+1)*N])
		}
		gemm.SgemmSerial(false, false, N, d, N, p.Scale, dS, N, k, 3*C, beta, dq, 3*C)
		gemm.SgemmSerial(true, false, N, d, N, p.Scale, dS, N, q, 3*C, beta, dk, 3*C)
	})
	return nil
}
