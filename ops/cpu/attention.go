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
	b.w.ForSlots(min(b.w.n, pairs), 1, func(lo, hi, slot int) {
		for range hi - lo {
			scratch := b.tmp.get(slot, n)
			for i := int(next.Add(1)) - 1; i < pairs; i = int(next.Add(1)) - 1 {
				fn(i/p.Heads, i%p.Heads, scratch)
			}
			b.tmp.put(slot, scratch)
		}
	})
}

// QKVAttention computes out = softmax(scale·q·kᵀ)·v per batch entry and
// head, keeping the softmax in probs when it is not nil.
func (b *Backend) QKVAttention(p ops.AttentionParams, qkv, out, probs *ops.Tensor) error {
	N, d := p.Tokens, p.HeadDim
	C := p.Heads * d
	b.heads(p, N*N+d*N, func(bi, h int, scratch []float32) {
		base := bi*N*3*C + h*d
		q, k, v := qkv.Data[base:], qkv.Data[base+C:], qkv.Data[base+2*C:]
		s, kt := scratch[:N*N], scratch[N*N:N*N+d*N]
		if probs != nil {
			s = probs.Data[(bi*p.Heads+h)*N*N:][:N*N]
		}
		transposeTo(kt, k, N, d, 3*C)
		headGemm(false, N, N, d, p.Scale, q, 3*C, kt, N, 0, s, N)
		for r := range N {
			row := s[r*N : (r+1)*N]
			scaleRow(row, 1/expShiftSum(row, row, maxRow(row)))
		}
		headGemm(false, N, d, N, 1, s, N, v, 3*C, 0, out.Data[bi*N*C+h*d:], C)
	})
	return nil
}

// QKVAttentionBackward computes dqkv = beta·dqkv + d out/d qkv · dout.
func (b *Backend) QKVAttentionBackward(p ops.AttentionParams, qkv, probs, dout, dqkv *ops.Tensor, beta float32) error {
	N, d := p.Tokens, p.HeadDim
	C := p.Heads * d
	b.heads(p, 2*N*N+d*N, func(bi, h int, scratch []float32) {
		base := bi*N*3*C + h*d
		q, k, v := qkv.Data[base:], qkv.Data[base+C:], qkv.Data[base+2*C:]
		dq, dk, dv := dqkv.Data[base:], dqkv.Data[base+C:], dqkv.Data[base+2*C:]
		P := probs.Data[(bi*p.Heads+h)*N*N:][:N*N]
		do := dout.Data[bi*N*C+h*d:]
		dP, dS, vt := scratch[:N*N], scratch[N*N:2*N*N], scratch[2*N*N:2*N*N+d*N]
		headGemm(true, N, d, N, 1, P, N, do, C, beta, dv, 3*C)
		transposeTo(vt, v, N, d, 3*C)
		headGemm(false, N, N, d, 1, do, C, vt, N, 0, dP, N)
		clear(dS)
		for r := range N {
			softmaxGradRow(P[r*N:(r+1)*N], dP[r*N:(r+1)*N], dS[r*N:(r+1)*N])
		}
		headGemm(false, N, d, N, p.Scale, dS, N, k, 3*C, beta, dq, 3*C)
		headGemm(true, N, d, N, p.Scale, dS, N, q, 3*C, beta, dk, 3*C)
	})
	return nil
}

// transposeTo writes the (rows × cols, row stride ld) matrix src
// transposed into dst (cols × rows, contiguous).
func transposeTo(dst, src []float32, rows, cols, ld int) {
	for i := range rows {
		row := src[i*ld : i*ld+cols]
		for j, v := range row {
			dst[j*rows+i] = v
		}
	}
}

// headGemm computes C = alpha·op(A)·B + beta·C (op transposes A when
// transA) for one head's small matrices, B row-major: with AVX-512 and at
// most 64 columns one row of C at a time in registers (smallGemm16), with
// none of a general GEMM's packing; otherwise gemm.SgemmSerial.
func headGemm(transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !vec16 || n > 64 || m == 0 || n == 0 || k == 0 {
		gemm.SgemmSerial(transA, false, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	sai, sat := lda, 1
	if transA {
		sai, sat = 1, lda
	}
	// bounds of the strided reads and writes (the kernel checks none)
	_, _, _ = a[(m-1)*sai+(k-1)*sat], b[(k-1)*ldb+n-1], c[(m-1)*ldc+n-1]
	smallGemm16(m, n, k, alpha, &a[0], sai, sat, &b[0], ldb, beta, &c[0], ldc)
}
