package gemm

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"
)

// PackedS8 is an int8 weight matrix B (n×k, the [out,in] layout) packed for
// the int8 kernel that was current when PackS8 ran, plus its per-column
// sums. Pack once, reuse for every call; it is read-only and safe to share.
type PackedS8 struct {
	n, k   int
	impl   *s8Impl
	steps  int     // k groups per panel: k/4 (VNNI), k/2 (AVX2), k (Go)
	panel  int     // elements per panel
	u8     []uint8 // VNNI panels, b+128
	s16    []int16 // AVX2 panels
	s8     []int8  // Go: B rows, stride k
	colSum []int32
	raw    atomic.Pointer[[]int8] // VNNI panels as plain s8, made on first use (ImplicitS8.U8)
}

// rawPanels returns the VNNI panels as plain s8 codes (the u8VNNI
// kernels' B), made once.
func (p *PackedS8) rawPanels() []int8 {
	if r := p.raw.Load(); r != nil {
		return *r
	}
	r := make([]int8, len(p.u8))
	for i, v := range p.u8 {
		r[i] = int8(v ^ 0x80)
	}
	p.raw.Store(&r)
	return r
}

// N and K report the packed matrix's shape.
func (p *PackedS8) N() int { return p.n }
func (p *PackedS8) K() int { return p.k }

// ColSums returns sum_k B[j,k] for each column j of C (a zero-point
// correction for asymmetric activations). Do not modify it.
func (p *PackedS8) ColSums() []int32 { return p.colSum }

// PackS8 packs B (n×k int8, row stride ldb) for GemmS8Packed and friends.
func PackS8(n, k int, b []int8, ldb int) *PackedS8 {
	checkMat("PackS8", "B", len(b), n, k, ldb, false)
	p := new(PackedS8)
	p.pack(curS8.Load(), n, k, b, ldb)
	return p
}

func (p *PackedS8) pack(im *s8Impl, n, k int, b []int8, ldb int) {
	p.n, p.k, p.impl = n, k, im
	p.raw.Store(nil)
	p.colSum = grow(p.colSum, n)
	if k == 0 { // nothing to pack; every product is 0 (s8Run takes the Go path)
		clear(p.colSum)
		p.steps, p.panel = 0, 0
		return
	}
	for j := 0; j < n; j++ {
		var s int32
		for _, v := range b[j*ldb : j*ldb+k] {
			s += int32(v)
		}
		p.colSum[j] = s
	}
	panels := ceilDiv(n, im.nr)
	switch im.kind {
	case kindVNNI:
		p.steps = ceilDiv(k, 4)
		p.panel = p.steps * 4 * im.nr
		p.u8 = grow(p.u8, panels*p.panel)
		clear(p.u8)
		step := 4 * im.nr // bytes per k group in a panel
		for j := 0; j < n; j++ {
			dst := p.u8[j/im.nr*p.panel+j%im.nr*4:]
			row := b[j*ldb : j*ldb+k]
			q := 0
			for ; q+4 <= k; q += 4 {
				// 4 bytes of a row are one k group: flip the sign bits together.
				x := binary.LittleEndian.Uint32(unsafe.Slice((*byte)(unsafe.Pointer(&row[q])), 4))
				binary.LittleEndian.PutUint32(dst[q/4*step:q/4*step+4], x^0x80808080)
			}
			for ; q < k; q++ {
				dst[q/4*step+q%4] = uint8(row[q]) ^ 0x80
			}
		}
	case kindS16:
		p.steps = ceilDiv(k, 2)
		p.panel = p.steps * 2 * im.nr
		p.s16 = grow(p.s16, panels*p.panel)
		clear(p.s16)
		for j := 0; j < n; j++ {
			dst := p.s16[j/im.nr*p.panel+j%im.nr*2:]
			for q, v := range b[j*ldb : j*ldb+k] {
				dst[q/2*2*im.nr+q%2] = int16(v)
			}
		}
	default:
		p.steps, p.panel = k, k*im.nr
		p.s8 = grow(p.s8, n*k)
		for j := 0; j < n; j++ {
			copy(p.s8[j*k:j*k+k], b[j*ldb:])
		}
	}
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// Epilogue is the fused output stage of GemmS8PackedRequant and
// GemmS8PackedDequant. For a quantizer with symmetric per-tensor activation
// scale s_a, per-channel weight scales s_w[j] and output scale s_o
// (real = scale * int):
//
//	Bias[j]  = round(bias_real[j] / (s_a*s_w[j]))   (int32, may be nil)
//	Scale[j] = s_a*s_w[j]/s_o   for Requant (int8 out)
//	Scale[j] = s_a*s_w[j]       for Dequant (float32 out, real units)
//
// Each output is v = float32(acc[i,j] + Bias[j]) * Scale[j] in float32
// arithmetic, then max(v, 0) if ReLU, then min(v, Hi) if Hi > 0 (a fused
// clip such as ReLU6, in output units: codes for Requant, real values for
// Dequant); Requant rounds half to even and saturates to [-128, 127].
// Scale must hold at least n finite values.
type Epilogue struct {
	Bias  []int32
	Scale []float32
	ReLU  bool
	Hi    float32
}

// bounds returns the clamp of the epilogue's outputs before rounding:
// [lo, hi] in output units (mode 1: codes; else real values).
func (ep Epilogue) bounds(requant bool) (lo, hi float32) {
	lo, hi = float32(negInf), float32(posInf)
	if requant {
		lo, hi = -128, 127
	}
	if ep.ReLU {
		lo = 0
	}
	if ep.Hi > 0 {
		hi = min(hi, ep.Hi)
	}
	return lo, hi
}

// GemmS8S8 computes C = A * B^T exactly: A is m×k int8 (row stride lda), B
// is n×k int8 (the weight layout [out,in], row stride ldb), C is m×n int32.
// It packs B on every call; use PackS8 and GemmS8Packed for fixed weights.
func GemmS8S8(m, n, k int, a []int8, lda int, b []int8, ldb int, c []int32, ldc int) {
	checkMat("GemmS8S8", "B", len(b), n, k, ldb, false)
	pb := packPool.Get().(*PackedS8)
	pb.pack(curS8.Load(), n, k, b, ldb)
	GemmS8Packed(m, a, lda, pb, c, ldc)
	packPool.Put(pb)
}

var packPool = sync.Pool{New: func() any { return new(PackedS8) }}

// GemmS8Packed computes C(int32, m×n) = A(int8, m×k) * B^T exactly, B packed.
func GemmS8Packed(m int, a []int8, lda int, pb *PackedS8, c []int32, ldc int) {
	checkMat("GemmS8Packed", "C", len(c), m, pb.n, ldc, false)
	s8Run(&s8Problem{mode: 0, c32: c}, m, a, lda, pb, ldc)
}

// GemmS8PackedRequant computes out(int8, m×n) = requant(A*B^T + Bias) with
// the fused epilogue described at Epilogue.
func GemmS8PackedRequant(m int, a []int8, lda int, pb *PackedS8, ep Epilogue, out []int8, ldo int) {
	checkMat("GemmS8PackedRequant", "out", len(out), m, pb.n, ldo, false)
	s8Run(&s8Problem{mode: 1, ep: checkEpilogue("GemmS8PackedRequant", ep, pb.n), c8: out}, m, a, lda, pb, ldo)
}

// GemmS8PackedDequant computes out(float32, m×n) = (A*B^T + Bias) * Scale,
// then ReLU if asked: see Epilogue.
func GemmS8PackedDequant(m int, a []int8, lda int, pb *PackedS8, ep Epilogue, out []float32, ldo int) {
	checkMat("GemmS8PackedDequant", "out", len(out), m, pb.n, ldo, false)
	s8Run(&s8Problem{mode: 2, ep: checkEpilogue("GemmS8PackedDequant", ep, pb.n), cf: out}, m, a, lda, pb, ldo)
}

func checkEpilogue(fn string, ep Epilogue, n int) Epilogue {
	if len(ep.Scale) < n {
		panic(fmt.Sprintf("gemm.%s: Epilogue.Scale has %d values, needs %d", fn, len(ep.Scale), n))
	}
	if ep.Bias != nil && len(ep.Bias) < n {
		panic(fmt.Sprintf("gemm.%s: Epilogue.Bias has %d values, needs %d (or nil)", fn, len(ep.Bias), n))
	}
	if ep.Bias == nil && n > 0 {
		ep.Bias = make([]int32, n)
	}
	return ep
}

// s8Problem is one int8 call: which output and epilogue.
type s8Problem struct {
	mode    int // 0 int32, 1 int8 requantized, 2 float32 dequantized
	ep      Epilogue
	c32     []int32
	c8      []int8
	cf      []float32
	m       int
	a       []int8
	lda     int
	pb      *PackedS8
	ldc     int
	scratch bool // kernel writes int32 to a tile; Go applies the epilogue
	u8      bool // A holds a+128 and B its plain codes (ImplicitS8.U8 on VNNI)
}

func s8Run(g *s8Problem, m int, a []int8, lda int, pb *PackedS8, ldc int) {
	checkMat("GemmS8", "A", len(a), m, pb.k, lda, false)
	if m == 0 || pb.n == 0 {
		return
	}
	g.m, g.a, g.lda, g.pb, g.ldc = m, a, lda, pb, ldc
	im := pb.impl
	g.scratch = im.kind == kindS16 && g.mode != 0
	block := g.block
	if im.kind == kindGeneric || pb.k == 0 {
		block = g.goBlock
	}
	runChunks(m, pb.n, max(pb.k, 1), im.mr, im.nr, gridCost{perRow: 2, perCol: 2}, block)
}

// s8Work is one thread's scratch.
type s8Work struct {
	a8   []int8
	a16  []int16
	corr []int32
	tile []int32
	// implicit GEMM: a second segment's row sums, gathered rows (non-VNNI),
	// the bias with the u8 correction, the call and the kernel arguments
	// (kept here so a call allocates nothing)
	corr2  []int32
	gather []int8
	bias   []int32
	prob   s8Problem
	args   s8Args
}

var s8Pool = sync.Pool{New: func() any { return new(s8Work) }}

// block runs an assembly kernel over C[i0:i1, j0:j1] in row blocks that
// fit in L2; each block's rows are read in place when the kernel allows.
func (g *s8Problem) block(i0, i1, j0, j1 int) {
	pb, im := g.pb, g.pb.impl
	k := pb.k
	w := s8Pool.Get().(*s8Work)
	defer s8Pool.Put(w)
	var stride, size int // row stride of the copy in elements, element size
	direct := im.kind == kindVNNI && k%4 == 0 && !badStride(g.lda, 1)
	if im.kind == kindVNNI {
		stride, size = copyStride(pb.steps*4, 1), 1
	} else {
		stride, size = copyStride(pb.steps*2, 2), 2
	}
	rowBytes := max(k, stride*size)
	mc := max(im.mr, (192<<10)/rowBytes/im.mr*im.mr)
	mc = min(mc, i1-i0)
	w.corr = grow(w.corr, mc)
	if !direct {
		if size == 1 {
			w.a8 = grow(w.a8, mc*stride)
		} else {
			w.a16 = grow(w.a16, mc*stride)
		}
	}
	if g.scratch {
		w.tile = grow(w.tile, im.mr*im.nr)
	}
	p := s8Args{k: pb.steps}
	for ic := i0; ic < i1; ic += mc {
		rows := min(mc, i1-ic)
		var base unsafe.Pointer
		switch {
		case direct:
			base, p.lda = unsafe.Pointer(&g.a[ic*g.lda]), g.lda
		case size == 1:
			copyRows8(w.a8, stride, g.a[ic*g.lda:], g.lda, rows, k)
			base, p.lda = unsafe.Pointer(&w.a8[0]), stride
		default:
			widenRows(w.a16, stride, g.a[ic*g.lda:], g.lda, rows, k)
			base, p.lda = unsafe.Pointer(&w.a16[0]), stride*2
		}
		if im.kind == kindVNNI {
			rowCorrVNNI((*int8)(base), p.lda, rows, k, &w.corr[0])
		}
		for j := j0; j < j1; j += im.nr {
			p.nr = min(im.nr, j1-j)
			p.b = pb.panelPtr(j / im.nr)
			for ir := 0; ir < rows; ir += im.mr {
				r := min(im.mr, rows-ir)
				p.a = unsafe.Add(base, ir*p.lda)
				p.corr = &w.corr[ir]
				g.tile(im, &p, w, ic+ir, j, r)
			}
		}
	}
}

func (pb *PackedS8) panelPtr(jp int) unsafe.Pointer {
	if pb.impl.kind == kindVNNI {
		return unsafe.Pointer(&pb.u8[jp*pb.panel])
	}
	return unsafe.Pointer(&pb.s16[jp*pb.panel])
}

// tile runs the kernel for rows r of C starting at (i, j), with the output
// and epilogue fields of p set for the mode.
func (g *s8Problem) tile(im *s8Impl, p *s8Args, w *s8Work, i, j, r int) {
	p.mode, p.ldc = g.mode, g.ldc
	switch {
	case g.scratch:
		p.mode, p.ldc, p.c = 0, im.nr, unsafe.Pointer(&w.tile[0])
		g.run(im, r, p)
		for x := 0; x < r; x++ {
			acc := w.tile[x*im.nr : x*im.nr+p.nr]
			o := (i+x)*g.ldc + j
			if g.mode == 1 {
				requantRow(g.c8[o:o+p.nr], acc, g.ep, j)
			} else {
				dequantRow(g.cf[o:o+p.nr], acc, g.ep, j)
			}
		}
		return
	case g.mode == 0:
		p.c = unsafe.Pointer(&g.c32[i*g.ldc+j])
	case g.mode == 1:
		p.c = unsafe.Pointer(&g.c8[i*g.ldc+j])
		p.lo, p.hi = g.ep.bounds(true)
	default:
		p.c = unsafe.Pointer(&g.cf[i*g.ldc+j])
		p.lo, p.hi = g.ep.bounds(false)
	}
	if g.mode != 0 {
		p.bias, p.scale = &g.ep.Bias[j], &g.ep.Scale[j]
	}
	g.run(im, r, p)
}

// run calls the kernel: the u8-A VNNI kernel for an implicit U8 call.
func (g *s8Problem) run(im *s8Impl, r int, p *s8Args) {
	if g.u8 {
		im.tileU8(r, p)
		return
	}
	im.tile(r, p)
}

// copyRows8 copies rows×k bytes into dst (row stride s), zero padded.
func copyRows8(dst []int8, s int, a []int8, lda, rows, k int) {
	for i := 0; i < rows; i++ {
		d := dst[i*s : i*s+s]
		clear(d[copy(d[:k], a[i*lda:]):])
	}
}

// widenRows sign-extends rows×k bytes into int16 rows of stride s, zero padded.
func widenRows(dst []int16, s int, a []int8, lda, rows, k int) {
	for i := 0; i < rows; i++ {
		d := dst[i*s : i*s+s]
		for q, v := range a[i*lda : i*lda+k] {
			d[q] = int16(v)
		}
		clear(d[k:])
	}
}
