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
		sgemmIndirect(m, n, k, a, lda, b, off, c, ldc, ep)
		return
	}
	checkMat("SgemmIndirectDotTail", "C", len(c), m, n, ldc, false)
	if len(off) >= k {
		for p, o := range off[:k] {
			if o+n > len(b) {
				panic(fmt.Sprintf("gemm.SgemmIndirectDotTail: row %d of B at %d..%d leaves b (%d floats)", p, o, o+n, len(b)))
			}
		}
	}
	sgemmIndirect(m, full, k, a, lda, b, off, c, ldc, ep) // checks A, the offsets and B's first columns
	dotColumns(impl, m, k, full, n, a, lda, b, off, c, ldc, ep)
}

// dotColumns computes columns j0..j1-1 of C = A·B (B row p at b[off[p]:])
// as dot products and applies ep (nil: none).
func dotColumns(impl *f32Impl, m, k, j0, j1 int, a []float32, lda int, b []float32, off []int, c []float32, ldc int, ep *RowEpilogue) {
	buf := getF32Buf(k + m)
	defer f32Bufs.Put(buf)
	col, out := (*buf)[:k], (*buf)[k:][:m]
	for j := j0; j < j1; j++ {
		for p, o := range off[:k] {
			col[p] = b[o+j]
		}
		impl.dots(&col[0], &a[0], lda, k, m, &out[0])
		for i, v := range out {
			if ep != nil {
				var r float32
				if ep.Res != nil {
					r = ep.Res[i*ldc+j]
				}
				v = ep.apply(v, ep.Scale[i], ep.Shift[i], r)
			}
			c[i*ldc+j] = v
		}
	}
}
