package gemm

// packB copies op(B)[pc:pc+kc, jc:jc+nc] into dst as ceil(nc/nr) panels,
// each kc rows of nr floats (columns past nc are zero), with the kernel's
// assembly helpers where it has them.
func packB(dst, b []float32, ldb int, transB bool, pc, kc, jc, nc, nr int, im *f32Impl) {
	tr := im.transpose
	for jp := 0; jp < nc; jp += nr {
		w := min(nr, nc-jp)
		panel := dst[jp*kc : jp*kc+kc*nr]
		if !transB && im.packRows != nil {
			src := b[pc*ldb+jc+jp:]
			_ = src[(kc-1)*ldb+w-1] // the rows it reads are in b
			im.packRows(&panel[0], &src[0], ldb, kc, w)
			continue
		}
		if !transB {
			src := b[pc*ldb+jc+jp:]
			for p := 0; p < kc; p++ {
				d := panel[p*nr : p*nr+nr]
				copy(d, src[p*ldb:p*ldb+w])
				clear(d[w:])
			}
			continue
		}
		if w < nr {
			clear(panel)
		}
		j0 := 0
		if tr != nil && kc >= 16 {
			// B rows jc+jp+j (stored n×k) become panel columns j.
			for ; j0+16 <= w; j0 += 16 {
				src := b[(jc+jp+j0)*ldb+pc:]
				p := 0
				for ; p+16 <= kc; p += 16 {
					tr(&panel[p*nr+j0], nr, &src[p], ldb)
				}
				for j := j0; j < j0+16; j++ {
					for q, v := range b[(jc+jp+j)*ldb+pc+p : (jc+jp+j)*ldb+pc+kc] {
						panel[(p+q)*nr+j] = v
					}
				}
			}
		}
		for j := j0; j < w; j++ {
			src := b[(jc+jp+j)*ldb+pc:]
			src = src[:kc]
			for p, v := range src {
				panel[p*nr+j] = v
			}
		}
	}
}

// transposer transposes one 16×16 block: dst[i*lds+p] = src[p*lsrc+i].
type transposer func(dst *float32, lds int, src *float32, lsrc int)

// copyA writes op(A)[ic:ic+mc, pc:pc+kc] row-major into dst with row
// stride lds, for kernels that read A in place.
func copyA(dst, a []float32, lda int, transA bool, ic, mc, pc, kc, lds int, tr transposer) {
	if !transA {
		for i := 0; i < mc; i++ {
			copy(dst[i*lds:i*lds+kc], a[(ic+i)*lda+pc:])
		}
		return
	}
	// A is stored k×m: walk it in 16×16 blocks so both sides stay in cache.
	for p0 := 0; p0 < kc; p0 += 16 {
		p1 := min(p0+16, kc)
		for i0 := 0; i0 < mc; i0 += 16 {
			i1 := min(i0+16, mc)
			if tr != nil && p1-p0 == 16 && i1-i0 == 16 {
				tr(&dst[i0*lds+p0], lds, &a[(pc+p0)*lda+ic+i0], lda)
				continue
			}
			for p := p0; p < p1; p++ {
				src := a[(pc+p)*lda+ic+i0 : (pc+p)*lda+ic+i1]
				for i, v := range src {
					dst[(i0+i)*lds+p] = v
				}
			}
		}
	}
}

// copyStride returns the row stride (in elements of size bytes) for a copy
// of rows of n elements: n rounded up to 64 bytes, plus 64 bytes when the
// stride would be a multiple of 4 KiB (every row in the same cache sets).
func copyStride(n, size int) int {
	per := 64 / size
	s := ceilDiv(n, per) * per
	if s*size%4096 == 0 {
		s += per
	}
	return s
}

// badStride reports whether rows ld elements apart all land in the same
// L1 sets, so a kernel that walks MR rows in place would thrash.
func badStride(ld, size int) bool { return ld*size%4096 == 0 }
