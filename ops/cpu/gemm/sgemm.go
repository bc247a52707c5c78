package gemm

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices,
// op(X) = X or X^T. A is m×k (k×m if transA), B is k×n (n×k if transB), C
// is m×n; lda, ldb and ldc are the row strides. With beta == 0, C is not
// read (NaNs in it do not propagate). It runs on up to Threads()
// goroutines and panics only on inconsistent sizes or short slices.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkMat("Sgemm", "A", len(a), m, k, lda, transA)
	checkMat("Sgemm", "B", len(b), k, n, ldb, transB)
	checkMat("Sgemm", "C", len(c), m, n, ldc, false)
	sgemm(true, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmSerial is Sgemm on the calling goroutine alone, for callers that
// already spread their work over threads (one image tile per thread).
func SgemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkMat("SgemmSerial", "A", len(a), m, k, lda, transA)
	checkMat("SgemmSerial", "B", len(b), k, n, ldb, transB)
	checkMat("SgemmSerial", "C", len(c), m, n, ldc, false)
	sgemm(false, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmBatch computes batch independent products C_i = alpha*op(A_i)*op(B_i)
// + beta*C_i with Sgemm's conventions, where X_i starts at X[i*strideX]. A
// stride of 0 for A or B shares one matrix (a weight) across the batch; the
// C_i must not overlap. Small products (attention heads, windows) run whole
// on separate threads; large ones one after another, each on all threads.
func SgemmBatch(batch int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda, strideA int, b []float32, ldb, strideB int, beta float32, c []float32, ldc, strideC int) {
	if batch < 0 || strideA < 0 || strideB < 0 || strideC < 0 {
		panic(fmt.Sprintf("gemm.SgemmBatch: negative batch %d or stride (%d, %d, %d)", batch, strideA, strideB, strideC))
	}
	if batch == 0 {
		return
	}
	last := batch - 1
	checkMat("SgemmBatch", "A", len(a)-last*strideA, m, k, lda, transA)
	checkMat("SgemmBatch", "B", len(b)-last*strideB, k, n, ldb, transB)
	checkMat("SgemmBatch", "C", len(c)-last*strideC, m, n, ldc, false)
	if batch > 1 && m > 0 && n > 0 && strideC < (m-1)*ldc+n {
		panic(fmt.Sprintf("gemm.SgemmBatch: C stride %d makes the %d×%d outputs overlap", strideC, m, n))
	}
	item := func(i int, par bool) {
		sgemm(par, transA, transB, m, n, k, alpha, a[i*strideA:], lda, b[i*strideB:], ldb, beta, c[i*strideC:], ldc)
	}
	ops := m * n * k
	if threadsFor(ops) > 1 {
		for i := 0; i < batch; i++ {
			item(i, true)
		}
		return
	}
	t := min(threadsFor(ops*batch), batch)
	var next atomic.Int32
	parallel(t, true, func(int, int) {
		for i := int(next.Add(1)) - 1; i < batch; i = int(next.Add(1)) - 1 {
			item(i, false)
		}
	})
}

// sgemm computes a checked product, on the calling goroutine alone unless
// par is set.
func sgemm(par, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	impl := curF32.Load()
	if transB && m <= dotRowsMax && impl.dots != nil {
		sgemmDots(par, impl, transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if transA || badStride(lda, 4) {
		// The kernels read A in place, row by row: copy a transposed A, or
		// one whose rows all map to the same cache sets, once per call.
		buf := getF32Buf(m * copyStride(k, 4))
		defer f32Bufs.Put(buf)
		a, lda = copyWholeA(par, impl, *buf, transA, m, n, k, a, lda)
		transA = false
	}
	g := &sgemmProblem{impl: impl, transB: transB, m: m, n: n, k: k,
		alpha: alpha, beta: beta, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc}
	if !par {
		g.block(0, m, 0, n)
		return
	}
	// Each thread packs its columns of B (about as costly per element as 16
	// multiply-adds) and reads its rows of A in place.
	runChunks(m, n, k, impl.mr, impl.nr, gridCost{perRow: 2, perCol: 16}, g.block)
}

// copyWholeA copies op(A) (m×k) row-major into buf, in parallel by rows
// when par, and returns it with its row stride.
func copyWholeA(par bool, im *f32Impl, buf []float32, transA bool, m, n, k int, a []float32, lda int) ([]float32, int) {
	lds := copyStride(k, 4)
	t := 1
	if par {
		t = min(threadsFor(m*n*k), ceilDiv(m, 16))
	}
	parallel(t, false, func(part, _ int) {
		i0, i1 := span(m, 16, t, part)
		if i0 < i1 {
			copyA(buf[i0*lds:], a, lda, transA, i0, i1-i0, 0, k, lds, im.transpose)
		}
	})
	return buf, lds
}

var f32Bufs sync.Pool

func getF32Buf(n int) *[]float32 {
	b, _ := f32Bufs.Get().(*[]float32)
	if b == nil || cap(*b) < n {
		s := make([]float32, n)
		return &s
	}
	*b = (*b)[:n]
	return b
}

// checkMat panics unless a rows×cols matrix (cols×rows stored if trans) with
// row stride ld fits in n elements.
func checkMat(fn, name string, n, rows, cols, ld int, trans bool) {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("gemm.%s: negative size %d×%d for %s", fn, rows, cols, name))
	}
	if trans {
		rows, cols = cols, rows
	}
	if ld < max(cols, 1) {
		panic(fmt.Sprintf("gemm.%s: leading dimension of %s is %d, less than its %d columns", fn, name, ld, cols))
	}
	if rows > 0 && cols > 0 && n < (rows-1)*ld+cols {
		panic(fmt.Sprintf("gemm.%s: %s has %d elements, needs %d (%d×%d, ld %d)", fn, name, n, (rows-1)*ld+cols, rows, cols, ld))
	}
}

func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

type sgemmProblem struct {
	impl          *f32Impl
	transB        bool
	m, n, k       int
	alpha, beta   float32
	a, b, c       []float32
	lda, ldb, ldc int
}

// f32Work holds one thread's B panel buffer.
type f32Work struct{ b []float32 }

var f32Pool sync.Pool

func getF32Work(nb int) *f32Work {
	w, _ := f32Pool.Get().(*f32Work)
	if w == nil {
		w = new(f32Work)
	}
	if cap(w.b) < nb {
		w.b = make([]float32, nb)
	}
	w.b = w.b[:nb]
	return w
}

// block computes C[i0:i1, j0:j1] with the GotoBLAS loop nest (see doc.go);
// A is read in place.
func (g *sgemmProblem) block(i0, i1, j0, j1 int) {
	im := g.impl
	kcMax := min(im.kc, g.k)
	ncMax := min(im.nc, ceilDiv(j1-j0, im.nr)*im.nr)
	w := getF32Work(kcMax * ncMax)
	defer f32Pool.Put(w)
	p := sgemmArgs{alpha: g.alpha, ldc: g.ldc, lda: g.lda}
	for jc := j0; jc < j1; jc += im.nc {
		nc := min(im.nc, j1-jc)
		for pc := 0; pc < g.k; pc += im.kc {
			kc := min(im.kc, g.k-pc)
			p.kc, p.beta = kc, g.beta
			if pc > 0 {
				p.beta = 1
			}
			packB(w.b, g.b, g.ldb, g.transB, pc, kc, jc, nc, im.nr, im)
			for ic := i0; ic < i1; ic += im.mc {
				g.panels(&p, g.a[ic*g.lda+pc:], w.b, ic, min(im.mc, i1-ic), jc, nc, kc)
			}
		}
	}
}

// panels runs the micro-kernel over the mc×nc block at (ic, jc).
func (g *sgemmProblem) panels(p *sgemmArgs, a, bp []float32, ic, mc, jc, nc, kc int) {
	im := g.impl
	for jr := 0; jr < nc; jr += im.nr {
		p.nr = min(im.nr, nc-jr)
		p.b = &bp[jr*kc]
		for ir := 0; ir < mc; ir += im.mr {
			rows := min(im.mr, mc-ir)
			p.a = &a[ir*p.lda]
			p.c = &g.c[(ic+ir)*g.ldc+jc+jr]
			im.tile(rows, p)
		}
	}
}

// dotRowsMax is the most rows of A that take the dot-product path when B
// is transposed: each row then reads B once, which beats packing B.
const dotRowsMax = 3

// dotsStream is the floats of B (n×k) from which sgemmDots takes every
// thread whatever its multiply-adds: a core's L2 cache (1 MiB). A product
// of a few rows reads each float of B once, so a B larger than that
// streams from L3 or memory at what one core can load; a second core
// loads the other half. resnet18's classifier at batch 1 (1 × 1000 × 512,
// 2 MB of weights, 512K multiply-adds: one thread by threadsFor) took
// 121-124 µs on one thread and 72-73 on two in the model's two-thread
// forward (docs/performance.md, s13-r18).
const dotsStream = 1 << 18

// dotsThreads is how many threads sgemmDots uses for m rows against an
// n×k B: by multiply-adds (threadsFor), or all of them where B streams
// (dotsStream); at most one per 64 columns.
func dotsThreads(m, n, k int) int {
	t := threadsFor(m * n * k)
	if n*k >= dotsStream {
		t = Threads()
	}
	return max(1, min(t, ceilDiv(n, 64)))
}

// sgemmDots computes C for a few rows against a transposed B (n×k, rows
// contiguous in k): every C element is a dot product of two contiguous
// rows. The threads take pieces of whole 64-column units from a shared
// counter (chunksPerThread per thread), so a worker that is descheduled
// or still waking up holds nothing up: the caller takes its pieces. The
// 4-column groups of the dot kernel start at the same columns on any
// number of threads, so the bits do not depend on them.
func sgemmDots(par bool, im *f32Impl, transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	t := 1
	if par {
		t = dotsThreads(m, n, k)
	}
	pieces := 1
	if t > 1 {
		pieces = min(ceilDiv(n, 64), t*chunksPerThread)
	}
	j := dotsJobs.Get().(*dotsJob)
	j.im, j.transA, j.m, j.n, j.k, j.pieces = im, transA, m, n, k, pieces
	j.alpha, j.a, j.lda, j.b, j.ldb, j.beta, j.c, j.ldc = alpha, a, lda, b, ldb, beta, c, ldc
	j.next.Store(0)
	parallel(t, true, j.run)
	j.a, j.b, j.c, j.im = nil, nil, nil, nil // parallel returns once no thread runs j.run: j is free again
	dotsJobs.Put(j)
}

// dotsJob is one sgemmDots call's operands and piece counter, pooled with
// its work method bound once, so that a call allocates nothing.
type dotsJob struct {
	im              *f32Impl
	transA          bool
	m, n, k, pieces int
	alpha, beta     float32
	a, b, c         []float32
	lda, ldb, ldc   int
	next            atomic.Int32
	run             func(t, slot int) // work
}

var dotsJobs = sync.Pool{New: func() any {
	j := &dotsJob{}
	j.run = j.work
	return j
}}

// work takes pieces until none is left (one thread's part of sgemmDots).
func (j *dotsJob) work(int, int) {
	var row, tmp []float32
	for p := int(j.next.Add(1)) - 1; p < j.pieces; p = int(j.next.Add(1)) - 1 {
		j0, j1 := span(j.n, 64, j.pieces, p)
		if j0 >= j1 {
			continue
		}
		if j.transA && row == nil {
			row = make([]float32, j.k)
		}
		if j.beta != 0 && len(tmp) < j1-j0 { // with beta 0 the dots are written to C itself
			tmp = make([]float32, ceilDiv(ceilDiv(j.n, 64), j.pieces)*64)
		}
		dotsCols(j.im, j.transA, j.m, j.k, j0, j1, j.alpha, j.a, j.lda, j.b, j.ldb, j.beta, j.c, j.ldc, row, tmp)
	}
}

// dotsCols is sgemmDots for columns j0..j1-1: row a buffer of k floats
// for a transposed A, tmp one of j1-j0 where beta is not 0.
func dotsCols(im *f32Impl, transA bool, m, k, j0, j1 int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, row, tmp []float32) {
	for i := 0; i < m; i++ {
		ai := a[i*lda:]
		if transA {
			for p := range row {
				row[p] = a[p*lda+i]
			}
			ai = row
		}
		cr := c[i*ldc+j0 : i*ldc+j1]
		if beta == 0 {
			im.dots(&ai[0], &b[j0*ldb], ldb, k, j1-j0, &cr[0])
			if alpha != 1 {
				for j, v := range cr {
					cr[j] = alpha * v
				}
			}
			continue
		}
		t := tmp[:j1-j0]
		im.dots(&ai[0], &b[j0*ldb], ldb, k, j1-j0, &t[0])
		for j, v := range t {
			cr[j] = alpha*v + beta*cr[j]
		}
	}
}
