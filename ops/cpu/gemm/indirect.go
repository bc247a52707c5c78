package gemm

import (
	"fmt"
	"sync"
)

// idxArgs holds the kernel arguments of sgemmIndirect's calls: passed by
// pointer to a kernel through a function value they would escape, one
// heap object per call (resnet20's batch-1 forward makes 78 such calls).
var idxArgs = sync.Pool{New: func() any { return new(sgemmArgs) }}

// putIdxArgs clears p (it points into the caller's matrices) and pools it.
func putIdxArgs(p *sgemmArgs) {
	*p = sgemmArgs{}
	idxArgs.Put(p)
}

// SgemmIndirect computes C = A·B on the calling goroutine, for row-major A
// (m×k, row stride lda) and C (m×n, row stride ldc), where row p of B is
// the n floats b[off[p]:off[p]+n]. B is never stored: a convolution whose
// input is laid out so that every kernel tap is a shifted view of it (see
// ops/cpu's direct convolution) passes one offset per (channel, tap), and
// the kernel reads the image in place instead of an im2col matrix and its
// packed copy. C is overwritten (beta 0). It panics on inconsistent sizes,
// short slices or an offset whose row leaves b.
func SgemmIndirect(m, n, k int, a []float32, lda int, b []float32, off []int, c []float32, ldc int) {
	sgemmIndirect(m, n, k, a, lda, b, off, c, ldc, nil, nil)
}

// sgemmIndirect is SgemmIndirect with the epilogue ep (nil: none) and
// the dot-product columns tail (nil: none; SgemmIndirectDotTail), which
// run on each row tile of A after the kernel's, while the tile's rows are
// still in cache.
func sgemmIndirect(m, n, k int, a []float32, lda int, b []float32, off []int, c []float32, ldc int, ep *RowEpilogue, tail *tailCols) {
	checkMat("SgemmIndirect", "A", len(a), m, k, lda, false)
	checkMat("SgemmIndirect", "C", len(c), m, n, ldc, false)
	if len(off) < k {
		panic(fmt.Sprintf("gemm.SgemmIndirect: %d offsets for k = %d", len(off), k))
	}
	for p, o := range off[:k] {
		if o < 0 || o+n > len(b) {
			panic(fmt.Sprintf("gemm.SgemmIndirect: row %d of B at %d..%d leaves b (%d floats)", p, o, o+n, len(b)))
		}
	}
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		scaleC(m, n, 0, c, ldc)
		if ep != nil {
			ep.applyGo(m, n, c, ldc)
		}
		return
	}
	impl := curF32.Load()
	if badStride(lda, 4) {
		buf := getF32Buf(m * copyStride(k, 4))
		defer f32Bufs.Put(buf)
		a, lda = copyWholeA(false, impl, *buf, false, m, n, k, a, lda)
	}
	if impl.tileIdx == nil {
		indirectPacked(impl, m, n, k, a, lda, b, off, c, ldc)
		if ep != nil {
			ep.applyGo(m, n, c, ldc)
		}
		return
	}
	// Row tiles of near-equal height (16 = 8+8, 64 = 8·8, 20 = 7+7+6)
	// rather than full ones and a short, slow tail.
	tiles := ceilDiv(m, impl.idxMR)
	p := idxArgs.Get().(*sgemmArgs) // the kernels take it by pointer: from a pool, not the heap per call
	defer putIdxArgs(p)
	*p = sgemmArgs{alpha: 1, lda: lda, ldc: ldc}
	r := idxRun{impl: impl, kern: impl.tileIdx, p: p, k: k, n: n, a: a, b: b, off: off, c: c}
	if ep != nil {
		r.epi, r.lo, r.hi = ep.flags(), ep.Lo, ep.Hi
		r.scale, r.shift, r.res = ep.Scale, ep.Shift, ep.Res
	}
	if impl.tileIdxStream != nil && idxStreams(m, n, k, impl.idxNR) {
		r.kern = impl.tileIdxStream
	}
	if tail != nil {
		for t := range tiles {
			ir, rows := m*t/tiles, m*(t+1)/tiles-m*t/tiles
			for pc := 0; pc < k; pc += idxKC {
				r.block(pc)
				r.colBlocks(pc, m, tiles, t, t+1)
			}
			tail.rows(impl, ir, rows, k, a, lda, c, ldc, ep)
		}
		return
	}
	for pc := 0; pc < k; pc += idxKC {
		r.block(pc)
		r.colBlocks(pc, m, tiles, 0, tiles) // a block of B's columns stays in L1 across the row tiles
	}
}

// idxRun is one indirect product's kernel calls: its arguments p set
// per k block (block), per block of columns (cols) and per row tile
// (tiles), each at the loop level it changes at (a product as wide as
// MobileNetV2's stem, 12,656 columns, makes a thousand tiles, and
// setting every field per tile cost it 5-15%).
type idxRun struct {
	impl    *f32Impl
	kern    func(int, *sgemmArgs)
	p       *sgemmArgs
	k, n    int
	a, b, c []float32
	off     []int
	// the epilogue's flags (0: none), bounds and rows (RowEpilogue's,
	// copied: a pointer to it here would move the caller's to the heap)
	epi               int
	lo, hi            float32
	scale, shift, res []float32
}

// block sets the k block at pc: beta 1 past the first, the epilogue with
// the last.
func (r *idxRun) block(pc int) {
	p := r.p
	p.kc = min(idxKC, r.k-pc)
	p.beta = 0
	if pc > 0 {
		p.beta = 1
	}
	p.boff = &r.off[pc]
	p.epi = 0
	if pc+p.kc == r.k { // the last k block stores the final values
		p.epi, p.lo, p.hi = r.epi, r.lo, r.hi
	}
}

// colBlocks runs row tiles t0..t1-1 (tiles) on every block of columns
// in turn, at the k block at pc (block).
func (r *idxRun) colBlocks(pc, m, tiles, t0, t1 int) {
	for jr := 0; jr < r.n; jr += r.p.nr {
		r.tiles(pc, jr, r.cols(jr), m, tiles, t0, t1)
	}
}

// cols sets the block of columns at jr and returns the narrow kernel's
// vectors for it (0: the full kernel). The block is the full kernel's
// width, except where the columns left (n-jr) are more than that and at
// most one narrow vector more (49-64 with AVX-512): those run as two
// blocks of two narrow vectors (32 + 1-32) instead of a full block and a
// one-vector tail, whose single vector per broadcast of A ran at three
// quarters of the full kernel's rate (resnet20's 8×8 layers: 64
// columns). Each column's sum is the same either way (the kernels differ
// only in how many vectors they hold), so the bits do not change.
func (r *idxRun) cols(jr int) (vecs int) {
	p, impl := r.p, r.impl
	p.nr = min(impl.idxNR, r.n-jr)
	if rest := r.n - jr; idxPairs && impl.tileIdxNarrow != nil && rest > impl.idxNR && rest <= impl.idxNR+impl.idxNarrow {
		p.nr = 2 * impl.idxNarrow
	}
	p.b = &r.b[jr]
	if impl.tileIdxNarrow != nil && ceilDiv(p.nr, impl.idxNarrow)*impl.idxNarrow < impl.idxNR {
		vecs = ceilDiv(p.nr, impl.idxNarrow)
	}
	return vecs
}

// tiles runs the kernel on row tiles t0..t1-1 of the m rows cut in
// tiles, at the columns jr (cols) and the k block at pc (block).
func (r *idxRun) tiles(pc, jr, vecs, m, tiles, t0, t1 int) {
	p := r.p
	for t := t0; t < t1; t++ {
		ir, rows := m*t/tiles, m*(t+1)/tiles-m*t/tiles
		p.a = &r.a[ir*p.lda+pc]
		p.c = &r.c[ir*p.ldc+jr]
		if p.epi != 0 {
			p.scale, p.shift = &r.scale[ir], &r.shift[ir]
			if r.res != nil {
				p.res = &r.res[ir*p.ldc+jr]
			}
		}
		if vecs > 0 {
			r.impl.tileIdxNarrow(rows, vecs, p)
		} else {
			r.kern(rows, p)
		}
	}
}

// idxPairs, switched off by tests only, makes cols cut 49-64 columns as
// a full block and a one-vector tail, as before it cut them in two.
var idxPairs = true

// idxStreams reports whether the kernel reads an m×k A once from L3 or
// memory: A exceeds a core's L2 (dotsStream floats) and the n columns are
// one block of nr, so no later block reads A again from cache. Such a
// product takes the variant that prefetches A's rows
// (f32Impl.tileIdxStream): resnet18's 3×3 layers onto 7×7 (48 columns in
// the kernel, the 49th a dot product). Where later column blocks reread
// A from L2 (its 3×3 stride-2 128→256 layer onto 14×14: 196 columns)
// the prefetches cost 10-20 µs.
func idxStreams(m, n, k, nr int) bool { return m*k >= dotsStream && n <= nr }

// idxKC is the k block of the indirect kernel. B is read in place, not
// packed into a cache-sized panel, so k is cut only to keep a row tile of
// A (9 rows) in L1: one block covers every 3×3 convolution up to 85 input
// channels, where 256 made the 288- and 576-deep convolutions of small
// CNNs store and reload their outputs between blocks.
const idxKC = 768

// indirectPacked is SgemmIndirect for kernels without an indirect variant:
// B is copied block by block into a dense matrix for the ordinary GEMM.
func indirectPacked(impl *f32Impl, m, n, k int, a []float32, lda int, b []float32, off []int, c []float32, ldc int) {
	const cols = 512
	buf := getF32Buf(min(k, impl.kc) * min(n, cols))
	defer f32Bufs.Put(buf)
	for pc := 0; pc < k; pc += impl.kc {
		kc := min(impl.kc, k-pc)
		beta := float32(1)
		if pc == 0 {
			beta = 0
		}
		for j0 := 0; j0 < n; j0 += cols {
			w := min(cols, n-j0)
			dense := (*buf)[:kc*w]
			for p := range kc {
				copy(dense[p*w:][:w], b[off[pc+p]+j0:][:w])
			}
			sgemm(false, false, false, m, w, kc, 1, a[pc:], lda, dense, w, beta, c[j0:], ldc)
		}
	}
}

// IndirectNative reports whether SgemmIndirect runs a kernel of its own
// (AVX-512, 9×48) rather than copying B for the ordinary GEMM.
func IndirectNative() bool { return curF32.Load().tileIdx != nil }

// IndirectTile returns the rows and columns of C one call of the
// indirect kernel computes (9×48 with AVX-512): a product whose n is not a
// multiple of the columns pays for the last, partial, block in full.
// Without an indirect kernel of its own (AVX2, other CPUs, purego) it is
// the ordinary GEMM's tile, which SgemmIndirect then runs.
func IndirectTile() (mr, nr int) {
	im := curF32.Load()
	if im.tileIdx == nil {
		return im.mr, im.nr
	}
	return im.idxMR, im.idxNR
}
