package gemm

import "fmt"

// TransposeF32 writes the (rows, cols) row-major matrix src as (cols,
// rows) into dst: whole 16×16 blocks through the kernel's vector
// transpose when it has one, the edges in Go.
func TransposeF32(src []float32, rows, cols int, dst []float32) {
	TransposeRowsF32(src, rows, cols, dst, 0, rows)
}

// TransposeRowsF32 is TransposeF32 for rows lo..hi of src only (columns
// lo..hi of dst), so callers can split a transpose over workers; lo
// should be a multiple of 16.
func TransposeRowsF32(src []float32, rows, cols int, dst []float32, lo, hi int) {
	if rows*cols == 0 || lo >= hi {
		return
	}
	checkTranspose(len(src), len(dst), rows, cols)
	tr := curF32.Load().transpose
	r16, c16 := lo, 0
	if tr != nil && lo%16 == 0 {
		r16, c16 = lo+(hi-lo)&^15, cols&^15
		for r0 := lo; r0 < r16; r0 += 16 {
			for c0 := 0; c0 < c16; c0 += 16 {
				tr(&dst[c0*rows+r0], rows, &src[r0*cols+c0], cols)
			}
		}
	}
	edge := func(rlo, rhi, clo, chi int) {
		for r := rlo; r < rhi; r++ {
			s := src[r*cols:][:cols]
			for c := clo; c < chi; c++ {
				dst[c*rows+r] = s[c]
			}
		}
	}
	edge(lo, r16, c16, cols) // right strip of the block rows
	edge(r16, hi, 0, cols)   // bottom rows
}

// TransposeS8 is TransposeF32 for int8 codes: 8×8 blocks as eight
// 64-bit rows, transposed by three rounds of swaps, the edges in Go.
func TransposeS8(src []int8, rows, cols int, dst []int8) {
	TransposeRowsS8(src, rows, cols, dst, 0, rows)
}

// TransposeRowsS8 is TransposeRowsF32 for int8 codes (lo a multiple of
// 8).
func TransposeRowsS8(src []int8, rows, cols int, dst []int8, lo, hi int) {
	if rows*cols == 0 || lo >= hi {
		return
	}
	checkTranspose(len(src), len(dst), rows, cols)
	r8, c8 := lo, 0
	if lo%8 == 0 {
		r8, c8 = lo+(hi-lo)&^7, cols&^7
	}
	var x [8]uint64
	for r0 := lo; r0 < r8; r0 += 8 {
		for c0 := 0; c0 < c8; c0 += 8 {
			for i := range x {
				x[i] = load64(src[(r0+i)*cols+c0:])
			}
			transpose8x8(&x)
			for j := range x {
				store64(dst[(c0+j)*rows+r0:], x[j])
			}
		}
	}
	for r := lo; r < r8; r++ {
		s := src[r*cols:][:cols]
		for c := c8; c < cols; c++ {
			dst[c*rows+r] = s[c]
		}
	}
	for r := r8; r < hi; r++ {
		s := src[r*cols:][:cols]
		for c := range cols {
			dst[c*rows+r] = s[c]
		}
	}
}

// transpose8x8 transposes the 8×8 bytes of x (byte j of x[i] is element
// (i, j)) in place.
func transpose8x8(x *[8]uint64) {
	for _, s := range [3]struct {
		d    int
		mask uint64
	}{{1, 0x00ff00ff00ff00ff}, {2, 0x0000ffff0000ffff}, {4, 0x00000000ffffffff}} {
		sh := uint(8 * s.d)
		for i := range 8 {
			if i&s.d != 0 {
				continue
			}
			a, b := x[i], x[i+s.d]
			t := ((a >> sh) ^ b) & s.mask
			x[i], x[i+s.d] = a^(t<<sh), b^t
		}
	}
}

func load64(b []int8) uint64 {
	_ = b[7]
	return uint64(uint8(b[0])) | uint64(uint8(b[1]))<<8 | uint64(uint8(b[2]))<<16 | uint64(uint8(b[3]))<<24 |
		uint64(uint8(b[4]))<<32 | uint64(uint8(b[5]))<<40 | uint64(uint8(b[6]))<<48 | uint64(uint8(b[7]))<<56
}

func store64(b []int8, v uint64) {
	_ = b[7]
	b[0], b[1], b[2], b[3] = int8(v), int8(v>>8), int8(v>>16), int8(v>>24)
	b[4], b[5], b[6], b[7] = int8(v>>32), int8(v>>40), int8(v>>48), int8(v>>56)
}

// checkTranspose panics unless src and dst both hold rows·cols values. It
// compares lengths instead of touching their last elements: callers split
// one transpose over workers, and a read of dst's last element races with
// the worker that writes it.
func checkTranspose(src, dst, rows, cols int) {
	if src < rows*cols || dst < rows*cols {
		panic(fmt.Sprintf("gemm: transpose of %d×%d needs %d values, src has %d and dst %d", rows, cols, rows*cols, src, dst))
	}
}
