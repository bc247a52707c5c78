package gemm

import (
	"fmt"
	"unsafe"
)

// ImplicitS8 is the A operand of an implicit GEMM (a convolution read in
// place): row r of A, r < M, is the concatenation over s < Segs of the
// SegLen bytes at A[r·Lda + s·SegStride:]. SegLen is a multiple of 4 (one
// VNNI group) and Segs·SegLen is the packed weight's K. For a channel-last
// image, a segment is one kernel row's KW·C codes (rounded up to 4 bytes;
// the weight is zero past KW·C), Lda steps one output pixel and SegStride
// one input row, so no patch row is ever written.
//
// With U8 the bytes of A are a+128 (a ^ 0x80, so a zero code is 0x80):
// the VNNI kernel then reads them as unsigned against the plain s8
// weights and folds the offset into the bias (-128 times each column's
// weight sum), so it needs no per-row sums of A; other kernels flip the
// gathered rows back.
type ImplicitS8 struct {
	A                               []int8
	M, Lda, Segs, SegLen, SegStride int
	U8                              bool
}

func (a ImplicitS8) check(fn string, pb *PackedS8) {
	if a.M <= 0 {
		return
	}
	if a.SegLen <= 0 || a.SegLen%4 != 0 || a.Segs <= 0 || a.Segs*a.SegLen != pb.k || a.Lda < 0 || a.SegStride < 0 {
		panic(fmt.Sprintf("gemm.%s: %d segments of %d bytes for K = %d (segment length must be a positive multiple of 4)", fn, a.Segs, a.SegLen, pb.k))
	}
	if need := (a.M-1)*a.Lda + (a.Segs-1)*a.SegStride + a.SegLen; len(a.A) < need {
		panic(fmt.Sprintf("gemm.%s: A has %d bytes, its rows reach %d", fn, len(a.A), need))
	}
}

// GemmS8ImplicitRequant computes out(int8, M×n, row stride ldo) =
// requant(A·Bᵀ + Bias) (see Epilogue) for an implicit A, on the calling
// goroutine: the caller spreads its rows over workers. The accumulators
// are exact, so the result is that of GemmS8PackedRequant on the gathered
// rows.
func GemmS8ImplicitRequant(a ImplicitS8, pb *PackedS8, ep Epilogue, out []int8, ldo int) {
	a.check("GemmS8ImplicitRequant", pb)
	checkMat("GemmS8ImplicitRequant", "out", len(out), a.M, pb.n, ldo, false)
	w := s8Pool.Get().(*s8Work)
	w.prob = s8Problem{mode: 1, ep: checkEpilogue("GemmS8ImplicitRequant", ep, pb.n), c8: out}
	w.prob.implicit(a, pb, ldo, w)
	w.prob = s8Problem{}
	s8Pool.Put(w)
}

// GemmS8ImplicitDequant is GemmS8ImplicitRequant with float32 output
// (GemmS8PackedDequant's epilogue).
func GemmS8ImplicitDequant(a ImplicitS8, pb *PackedS8, ep Epilogue, out []float32, ldo int) {
	a.check("GemmS8ImplicitDequant", pb)
	checkMat("GemmS8ImplicitDequant", "out", len(out), a.M, pb.n, ldo, false)
	w := s8Pool.Get().(*s8Work)
	w.prob = s8Problem{mode: 2, ep: checkEpilogue("GemmS8ImplicitDequant", ep, pb.n), cf: out}
	w.prob.implicit(a, pb, ldo, w)
	w.prob = s8Problem{}
	s8Pool.Put(w)
}

// implicit runs g on one goroutine with w's scratch (g and the kernel
// arguments live in w, so a call allocates nothing): the VNNI kernel
// reads the segments in place; other kernels get the rows gathered into
// scratch first.
func (g *s8Problem) implicit(a ImplicitS8, pb *PackedS8, ldc int, w *s8Work) {
	if a.M == 0 || pb.n == 0 {
		return
	}
	im := pb.impl
	if im.kind != kindVNNI || badStride(a.Lda, 1) {
		k := pb.k
		w.gather = grow(w.gather, a.M*k)
		for r := range a.M {
			row := w.gather[r*k:][:k]
			for s := range a.Segs {
				copy(row[s*a.SegLen:][:a.SegLen], a.A[r*a.Lda+s*a.SegStride:])
			}
			if a.U8 {
				for i, v := range row {
					row[i] = v ^ -128
				}
			}
		}
		g.m, g.a, g.lda, g.pb, g.ldc = a.M, w.gather, k, pb, ldc
		g.scratch = im.kind == kindS16 && g.mode != 0
		if im.kind == kindGeneric || pb.k == 0 {
			g.goBlock(0, a.M, 0, pb.n)
		} else {
			g.block(0, a.M, 0, pb.n)
		}
		return
	}
	g.m, g.pb, g.ldc = a.M, pb, ldc
	w.corr = grow(w.corr, a.M)
	base := unsafe.Pointer(&a.A[0])
	var raw []int8
	if a.U8 {
		g.u8, raw = true, pb.rawPanels()
		clear(w.corr)
		w.bias = grow(w.bias, pb.n)
		for j, b := range g.ep.Bias[:pb.n] {
			w.bias[j] = b - 128*pb.colSum[j]
		}
		g.ep.Bias = w.bias
	} else {
		w.corr2 = grow(w.corr2, a.M)
		for s := range a.Segs {
			dst := w.corr
			if s > 0 {
				dst = w.corr2
			}
			rowCorrVNNI((*int8)(unsafe.Add(base, s*a.SegStride)), a.Lda, a.M, a.SegLen, &dst[0])
			if s > 0 {
				for i, v := range w.corr2 {
					w.corr[i] += v
				}
			}
		}
	}
	p := &w.args
	*p = s8Args{k: a.SegLen / 4, lda: a.Lda, segs: a.Segs, segSkip: a.SegStride - a.SegLen}
	for j := 0; j < pb.n; j += im.nr {
		p.nr = min(im.nr, pb.n-j)
		if raw != nil {
			p.b = unsafe.Pointer(&raw[j/im.nr*pb.panel])
		} else {
			p.b = pb.panelPtr(j / im.nr)
		}
		for ir := 0; ir < a.M; ir += im.mr {
			p.a = unsafe.Add(base, ir*a.Lda)
			p.corr = &w.corr[ir]
			g.tile(im, p, w, ir, j, min(im.mr, a.M-ir))
		}
	}
	*p = s8Args{}
}
