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
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	a1, a2, a3 = a1[:len(a0)], a2[:len(a0)], a3[:len(a0)]
	for k, x0 := range a0 {
		bk := b[k*4 : k*4+4 : k*4+4]
		b0, b1, b2, b3 := bk[0], bk[1], bk[2], bk[3]
		x1, x2, x3 := a1[k], a2[k], a3[k]
		c00, c01, c02, c03 = c00+x0*b0, c01+x0*b1, c02+x0*b2, c03+x0*b3
		c10, c11, c12, c13 = c10+x1*b0, c11+x1*b1, c12+x1*b2, c13+x1*b3
		c20, c21, c22, c23 = c20+x2*b0, c21+x2*b1, c22+x2*b2, c23+x2*b3
		c30, c31, c32, c33 = c30+x3*b0, c31+x3*b1, c32+x3*b2, c33+x3*b3
	}
	return [4][4]float32{{c00, c01, c02, c03}, {c10, c11, c12, c13}, {c20, c21, c22, c23}, {c30, c31, c32, c33}}
}
