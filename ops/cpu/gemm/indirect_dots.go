package gemm

import "fmt"

// DotTailMax is the most columns past the indirect kernel's last full
// block that SgemmIndirectDotTail computes as dot products.
const DotTailMax = 4

// SgemmIndirectDotTail is SgemmIndirectEpilogue (SgemmIndirect where ep
// is nil) for a product whose columns past the kernel's last full block
// (48 columns with AVX-512) are at most four: a 7×7 image's 49 = 48 + 1,
// a 14×14 one's 196 = 4·48 + 4. Those columns would each cost a 16-column
// kernel tile that is mostly idle (for 49 columns a third more work than
// the 48 before them); here every one of them is a dot product of each
// row of A with the column gathered from B (the kernel that multiplies a
// few rows by a transposed B), then the epilogue. A dot product sums its
// terms in another order than the kernel's running sum, so those columns
// can differ from SgemmIndirect's in the last bits; which columns take
// it depends on n alone, so a product gives the same bits on every call.
// Other shapes, and CPUs without the kernels, go to SgemmIndirect's path.
func SgemmIndirectDotTail(m, n, k int, a []float32, lda int, b []float32, off []int, c []float32, ldc int, ep *RowEpilogue) {
	if ep != nil {
		ep.check(m, n, ldc)
		e := ep.withScale(m)
		ep = &e
	}
	impl := curF32.Load()
	full := n / max(impl.idxNR, 1) * impl.idxNR
	if impl.tileIdx == nil || impl.dots == nil || full == 0 || n-full > DotTailMax || k == 0 || m == 0 {
		sgemmIndirect(m, n, k, a, lda, b, off, c, ldc, ep, nil)
		return
	}
	checkMat("SgemmIndirectDotTail", "C", len(c), m, n, ldc, false)
	if len(off) < k {
		panic(fmt.Sprintf("gemm.SgemmIndirectDotTail: %d offsets for k = %d", len(off), k))
	}
	for p, o := range off[:k] {
		if o < 0 || o+n > len(b) {
			panic(fmt.Sprintf("gemm.SgemmIndirectDotTail: row %d of B at %d..%d leaves b (%d floats)", p, o, o+n, len(b)))
		}
	}
	buf := getF32Buf((n-full)*k + m)
	defer f32Bufs.Put(buf)
	tail := tailCols{j0: full, j1: n, cols: (*buf)[:(n-full)*k], out: (*buf)[(n-full)*k:][:m]}
	for j := full; j < n; j++ {
		col := tail.cols[(j-full)*k:][:k]
		for p, o := range off[:k] {
			col[p] = b[o+j]
		}
	}
	if m*k < dotsStream { // A stays in the core's L2 from the kernel's pass to the dots'
		sgemmIndirect(m, full, k, a, lda, b, off, c, ldc, ep, nil) // checks A, the offsets and B's first columns
		tail.rows(impl, 0, m, k, a, lda, c, ldc, ep)
		return
	}
	sgemmIndirect(m, full, k, a, lda, b, off, c, ldc, ep, &tail)
}

// tailCols holds the columns j0..j1-1 of SgemmIndirectDotTail's B,
// gathered (k floats each), and a scratch for one row tile's results.
type tailCols struct {
	j0, j1 int
	cols   []float32
	out    []float32
}

// rows computes the tail columns of C's rows ir..ir+rows-1 as dot
// products (each row's sum in the same order whatever the rows around it:
// the bits depend on k alone) and applies ep (nil: none). Where A exceeds
// a core's L2 (dotsStream), sgemmIndirect calls it on each row tile right
// after the kernel has run all of the tile's k blocks, so the tile's rows
// of A come from the core's cache: a second pass over all of A after the
// kernel's read it from memory again (resnet18's 512→512 3×3 layer on
// 7×7: 9.4 MB of weights, 14% of the layer's time on one thread). A
// smaller A is still in L2 after the kernel's pass, and one pass over its
// rows saves a call per tile (the 1×1 stride-2 256→512 downsample onto
// 7×7 took 13-18 µs more tile by tile).
func (tc *tailCols) rows(impl *f32Impl, ir, rows, k int, a []float32, lda int, c []float32, ldc int, ep *RowEpilogue) {
	for j := tc.j0; j < tc.j1; j++ {
		out := tc.out[:rows]
		impl.dots(&tc.cols[(j-tc.j0)*k], &a[ir*lda], lda, k, rows, &out[0])
		for i, v := range out {
			r := ir + i
			if ep != nil {
				var res float32
				if ep.Res != nil {
					res = ep.Res[r*ldc+j]
				}
				v = ep.apply(v, ep.Scale[r], ep.Shift[r], res)
			}
			c[r*ldc+j] = v
		}
	}
}
