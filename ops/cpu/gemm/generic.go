package gemm

import "unsafe"

// genericF32 is the portable fp32 kernel: a 4×4 register tile in plain Go.
var genericF32 = &f32Impl{name: "generic", mr: 4, nr: 4, kc: 256, mc: 64, nc: 1024, tile: goSgemmTile}

// genericS8 is the portable int8 kernel (dot products over B's rows).
var genericS8 = &s8Impl{name: "generic", kind: kindGeneric, mr: 4, nr: 4}

// rowF32 returns row r (kc floats) of the A tile that p describes.
func rowF32(p *sgemmArgs, r int) []float32 {
	return unsafe.Slice((*float32)(unsafe.Add(unsafe.Pointer(p.a), r*p.lda*4)), p.kc)
}

// goSgemmTile is the Go micro-kernel: rows×4 tile, B packed kc×4.
func goSgemmTile(rows int, p *sgemmArgs) {
	kc := p.kc
	b := unsafe.Slice(p.b, kc*4)
	var acc [4][4]float32
	if rows == 4 {
		acc = goSgemm4x4(rowF32(p, 0), rowF32(p, 1), rowF32(p, 2), rowF32(p, 3), b)
	} else {
		for r := 0; r < rows; r++ {
			a := rowF32(p, r)
			for k, x := range a {
				bk := b[k*4 : k*4+4 : k*4+4]
				acc[r][0] += x * bk[0]
				acc[r][1] += x * bk[1]
				acc[r][2] += x * bk[2]
				acc[r][3] += x * bk[3]
			}
		}
	}
	c := unsafe.Slice(p.c, (rows-1)*p.ldc+p.nr)
	for r := 0; r < rows; r++ {
		cr := c[r*p.ldc : r*p.ldc+p.nr]
		for j := range cr {
			if p.beta == 0 {
				cr[j] = p.alpha * acc[r][j]
			} else {
				cr[j] = p.alpha*acc[r][j] + p.beta*cr[j]
			}
		}
	}
}

func goSgemm4x4(a0, a1, a2, a3, b []float32) (acc [4][4]float32) {
	// Two passes of 2 rows keep 8 accumulators, 4 B values and an A value
	// in registers (Go has 15 usable XMM registers).
	acc[0], acc[1] = goSgemm2x4(a0, a1, b)
	acc[2], acc[3] = goSgemm2x4(a2, a3, b)
	return acc
}

func goSgemm2x4(a0, a1, b []float32) (r0, r1 [4]float32) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	a1 = a1[:len(a0)]
	b = b[:len(a0)*4]
	for k, x := range a0 {
		bk := b[k*4 : k*4+4 : k*4+4]
		b0, b1, b2, b3 := bk[0], bk[1], bk[2], bk[3]
		c00 += x * b0
		c01 += x * b1
		c02 += x * b2
		c03 += x * b3
		y := a1[k]
		c10 += y * b0
		c11 += y * b1
		c12 += y * b2
		c13 += y * b3
	}
	return [4]float32{c00, c01, c02, c03}, [4]float32{c10, c11, c12, c13}
}

// goBlock is the portable int8 path: C[i0:i1, j0:j1] as dot products of A
// rows with B rows, four columns at a time, then the epilogue.
func (g *s8Problem) goBlock(i0, i1, j0, j1 int) {
	pb := g.pb
	k := pb.k
	acc := make([]int32, j1-j0)
	for i := i0; i < i1; i++ {
		var a []int8 // k == 0 allows an empty A
		if k > 0 {
			a = g.a[i*g.lda : i*g.lda+k]
		}
		j := j0
		for ; j+4 <= j1; j += 4 {
			acc[j-j0], acc[j-j0+1], acc[j-j0+2], acc[j-j0+3] = dot4S8(a, pb.s8[j*k:j*k+4*k])
		}
		for ; j < j1; j++ {
			acc[j-j0] = dotS8(a, pb.s8[j*k:j*k+k])
		}
		o := i*g.ldc + j0
		switch g.mode {
		case 0:
			copy(g.c32[o:o+j1-j0], acc)
		case 1:
			requantRow(g.c8[o:o+j1-j0], acc, g.ep, j0)
		default:
			dequantRow(g.cf[o:o+j1-j0], acc, g.ep, j0)
		}
	}
}

func dotS8(a, b []int8) int32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	q := 0
	for ; q+4 <= len(a); q += 4 {
		s0 += int32(a[q]) * int32(b[q])
		s1 += int32(a[q+1]) * int32(b[q+1])
		s2 += int32(a[q+2]) * int32(b[q+2])
		s3 += int32(a[q+3]) * int32(b[q+3])
	}
	for ; q < len(a); q++ {
		s0 += int32(a[q]) * int32(b[q])
	}
	return s0 + s1 + s2 + s3
}

// dot4S8 returns the dot products of a with the four rows of b (stride len(a)).
func dot4S8(a, b []int8) (s0, s1, s2, s3 int32) {
	k := len(a)
	b0, b1, b2, b3 := b[:k], b[k:2*k], b[2*k:3*k], b[3*k:4*k]
	for q, v := range a {
		x := int32(v)
		s0 += x * int32(b0[q])
		s1 += x * int32(b1[q])
		s2 += x * int32(b2[q])
		s3 += x * int32(b3[q])
	}
	return
}
