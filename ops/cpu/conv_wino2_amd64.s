//go:build amd64 && !purego

#include "textflag.h"

// The row (horizontal) halves of the 2-D Winograd F(4×4,3×3) transforms
// (see conv_wino2.go), 16 tiles at a time, one tile per lane. A tile's
// columns are 4 apart, so each kernel de-interleaves (input) or
// interleaves (output) four column phases with VPERMT2PS instead of
// gathering. The arithmetic is winoIn16's and winoOut16's, in the same
// order, so each output is the same float32 sum as the Go forms compute.

// winoPerm holds the permutation indices: even and odd elements of two
// tables (de-interleave), a shift by one lane taking lane 0 or 1 of the
// next 16 columns, and the low and high halves of two tables interleaved.
// even: [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
DATA winoPerm<>+0(SB)/4, $0
DATA winoPerm<>+4(SB)/4, $2
DATA winoPerm<>+8(SB)/4, $4
DATA winoPerm<>+12(SB)/4, $6
DATA winoPerm<>+16(SB)/4, $8
DATA winoPerm<>+20(SB)/4, $10
DATA winoPerm<>+24(SB)/4, $12
DATA winoPerm<>+28(SB)/4, $14
DATA winoPerm<>+32(SB)/4, $16
DATA winoPerm<>+36(SB)/4, $18
DATA winoPerm<>+40(SB)/4, $20
DATA winoPerm<>+44(SB)/4, $22
DATA winoPerm<>+48(SB)/4, $24
DATA winoPerm<>+52(SB)/4, $26
DATA winoPerm<>+56(SB)/4, $28
DATA winoPerm<>+60(SB)/4, $30
// odd: [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31]
DATA winoPerm<>+64(SB)/4, $1
DATA winoPerm<>+68(SB)/4, $3
DATA winoPerm<>+72(SB)/4, $5
DATA winoPerm<>+76(SB)/4, $7
DATA winoPerm<>+80(SB)/4, $9
DATA winoPerm<>+84(SB)/4, $11
DATA winoPerm<>+88(SB)/4, $13
DATA winoPerm<>+92(SB)/4, $15
DATA winoPerm<>+96(SB)/4, $17
DATA winoPerm<>+100(SB)/4, $19
DATA winoPerm<>+104(SB)/4, $21
DATA winoPerm<>+108(SB)/4, $23
DATA winoPerm<>+112(SB)/4, $25
DATA winoPerm<>+116(SB)/4, $27
DATA winoPerm<>+120(SB)/4, $29
DATA winoPerm<>+124(SB)/4, $31
// sh0: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
DATA winoPerm<>+128(SB)/4, $1
DATA winoPerm<>+132(SB)/4, $2
DATA winoPerm<>+136(SB)/4, $3
DATA winoPerm<>+140(SB)/4, $4
DATA winoPerm<>+144(SB)/4, $5
DATA winoPerm<>+148(SB)/4, $6
DATA winoPerm<>+152(SB)/4, $7
DATA winoPerm<>+156(SB)/4, $8
DATA winoPerm<>+160(SB)/4, $9
DATA winoPerm<>+164(SB)/4, $10
DATA winoPerm<>+168(SB)/4, $11
DATA winoPerm<>+172(SB)/4, $12
DATA winoPerm<>+176(SB)/4, $13
DATA winoPerm<>+180(SB)/4, $14
DATA winoPerm<>+184(SB)/4, $15
DATA winoPerm<>+188(SB)/4, $16
// sh1: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17]
DATA winoPerm<>+192(SB)/4, $1
DATA winoPerm<>+196(SB)/4, $2
DATA winoPerm<>+200(SB)/4, $3
DATA winoPerm<>+204(SB)/4, $4
DATA winoPerm<>+208(SB)/4, $5
DATA winoPerm<>+212(SB)/4, $6
DATA winoPerm<>+216(SB)/4, $7
DATA winoPerm<>+220(SB)/4, $8
DATA winoPerm<>+224(SB)/4, $9
DATA winoPerm<>+228(SB)/4, $10
DATA winoPerm<>+232(SB)/4, $11
DATA winoPerm<>+236(SB)/4, $12
DATA winoPerm<>+240(SB)/4, $13
DATA winoPerm<>+244(SB)/4, $14
DATA winoPerm<>+248(SB)/4, $15
DATA winoPerm<>+252(SB)/4, $17
// lo: [0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23]
DATA winoPerm<>+256(SB)/4, $0
DATA winoPerm<>+260(SB)/4, $16
DATA winoPerm<>+264(SB)/4, $1
DATA winoPerm<>+268(SB)/4, $17
DATA winoPerm<>+272(SB)/4, $2
DATA winoPerm<>+276(SB)/4, $18
DATA winoPerm<>+280(SB)/4, $3
DATA winoPerm<>+284(SB)/4, $19
DATA winoPerm<>+288(SB)/4, $4
DATA winoPerm<>+292(SB)/4, $20
DATA winoPerm<>+296(SB)/4, $5
DATA winoPerm<>+300(SB)/4, $21
DATA winoPerm<>+304(SB)/4, $6
DATA winoPerm<>+308(SB)/4, $22
DATA winoPerm<>+312(SB)/4, $7
DATA winoPerm<>+316(SB)/4, $23
// hi: [8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31]
DATA winoPerm<>+320(SB)/4, $8
DATA winoPerm<>+324(SB)/4, $24
DATA winoPerm<>+328(SB)/4, $9
DATA winoPerm<>+332(SB)/4, $25
DATA winoPerm<>+336(SB)/4, $10
DATA winoPerm<>+340(SB)/4, $26
DATA winoPerm<>+344(SB)/4, $11
DATA winoPerm<>+348(SB)/4, $27
DATA winoPerm<>+352(SB)/4, $12
DATA winoPerm<>+356(SB)/4, $28
DATA winoPerm<>+360(SB)/4, $13
DATA winoPerm<>+364(SB)/4, $29
DATA winoPerm<>+368(SB)/4, $14
DATA winoPerm<>+372(SB)/4, $30
DATA winoPerm<>+376(SB)/4, $15
DATA winoPerm<>+380(SB)/4, $31
GLOBL winoPerm<>(SB), RODATA|NOPTR, $384

// func winoInH16(dst *float32, dstStride int, src *float32, srcStride int, masks *uint16, groups int)
// For each of the six rows k of src (at src + k·srcStride) and each of
// groups groups of 16 slots: the row transform v = d·B of each slot j,
// its six columns d being row k's columns 4j..4j+5, for the slots whose
// bit is set in the group's mask; those are packed (VCOMPRESSPS) and
// written one after the other from dst + (6k + m)·dstStride, m = 0..5,
// 16 floats at a time (a row of dst takes its count of slots + 16). A
// row of src is read in whole windows: it must hold 64·groups + 16
// floats.
TEXT ·winoInH16(SB), NOSPLIT, $0-48
	MOVL $0x40800000, AX // 4.0
	VPBROADCASTD AX, Z20
	LEAQ winoPerm<>(SB), AX
	VMOVDQU32 0(AX), Z24 // even
	VMOVDQU32 64(AX), Z25 // odd
	VMOVDQU32 128(AX), Z26 // shift, next lane 0
	VMOVDQU32 192(AX), Z27 // shift, next lane 1
	MOVQ dstStride+8(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R10 // 3 rows
	LEAQ (R9)(R9*4), R12 // 5 rows
	LEAQ (R10)(R10*1), R13 // 6 rows
	MOVQ srcStride+24(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ dst+0(FP), R11
	MOVQ masks+32(FP), R14
	MOVQ groups+40(FP), CX
	TESTQ CX, CX
	JLE ihdone
ihgroup:
	MOVWLZX (R14), BX
	KMOVW BX, K3
	POPCNTL BX, BX
	SHLQ $2, BX // bytes written per row
	MOVQ SI, AX
	MOVQ R11, DI
	MOVQ $6, DX
ihrow:
	VMOVUPS 0(AX), Z0
	VMOVUPS 64(AX), Z1
	VMOVUPS 128(AX), Z2
	VMOVUPS 192(AX), Z3
	VMOVUPS 256(AX), Z4
	VMOVAPS Z0, Z5
	VPERMT2PS Z1, Z24, Z5 // columns 0, 2, .. 30
	VMOVAPS Z0, Z6
	VPERMT2PS Z1, Z25, Z6 // 1, 3, .. 31
	VMOVAPS Z2, Z7
	VPERMT2PS Z3, Z24, Z7 // 32, 34, .. 62
	VMOVAPS Z2, Z8
	VPERMT2PS Z3, Z25, Z8 // 33, 35, .. 63
	VMOVAPS Z5, Z10
	VPERMT2PS Z7, Z24, Z10 // d0: 4j
	VPERMT2PS Z7, Z25, Z5 // d2: 4j + 2
	VMOVAPS Z6, Z11
	VPERMT2PS Z8, Z24, Z11 // d1: 4j + 1
	VPERMT2PS Z8, Z25, Z6 // d3: 4j + 3
	VMOVAPS Z10, Z14
	VPERMT2PS Z4, Z26, Z14 // d4: 4j + 4
	VMOVAPS Z11, Z15
	VPERMT2PS Z4, Z27, Z15 // d5: 4j + 5
	VSUBPS Z5, Z14, Z16 // e = d4 - d2
	VMOVAPS Z14, Z17
	VFNMADD231PS Z20, Z5, Z17 // t0 = d4 - 4·d2
	VMOVAPS Z6, Z18
	VFNMADD231PS Z20, Z11, Z18 // t1 = d3 - 4·d1
	VADDPS Z18, Z17, Z19 // v1 = t0 + t1
	VSUBPS Z18, Z17, Z21 // v2 = t0 - t1
	VSUBPS Z11, Z6, Z22
	VADDPS Z22, Z22, Z22 // t3 = 2·(d3 - d1)
	VADDPS Z22, Z16, Z23 // v3 = e + t3
	VSUBPS Z22, Z16, Z28 // v4 = e - t3
	VSUBPS Z5, Z10, Z29
	VFMADD213PS Z16, Z20, Z29 // v0 = 4·(d0 - d2) + e
	VSUBPS Z6, Z11, Z30
	VSUBPS Z6, Z15, Z31
	VFMADD213PS Z31, Z20, Z30 // v5 = 4·(d1 - d3) + (d5 - d3)
	VCOMPRESSPS.Z Z29, K3, Z29
	VCOMPRESSPS.Z Z19, K3, Z19
	VCOMPRESSPS.Z Z21, K3, Z21
	VCOMPRESSPS.Z Z23, K3, Z23
	VCOMPRESSPS.Z Z28, K3, Z28
	VCOMPRESSPS.Z Z30, K3, Z30
	VMOVUPS Z29, (DI)
	VMOVUPS Z19, (DI)(R9*1)
	VMOVUPS Z21, (DI)(R9*2)
	VMOVUPS Z23, (DI)(R10*1)
	VMOVUPS Z28, (DI)(R9*4)
	VMOVUPS Z30, (DI)(R12*1)
	ADDQ R8, AX
	ADDQ R13, DI
	DECQ DX
	JNZ ihrow
	ADDQ $256, SI // 64 columns: 16 slots
	ADDQ BX, R11
	ADDQ $2, R14
	DECQ CX
	JNZ ihgroup
ihdone:
	VZEROUPPER
	RET

// func winoOutH16(dst *float32, dstStride int, src *float32, srcStride int, masks *uint16, groups int)
// For each of the six rows i of the tiles' products and each of groups
// groups of 16 slots: the products 6i + m of the slots whose bit is set
// in the group's mask (one after the other from src + (6i + m)·srcStride,
// read 16 floats at a time: a row of src takes its count of slots + 16)
// are spread over their slots (VEXPANDPS, zeros elsewhere), and the row
// transform y = m·A of slot j goes to columns 4j..4j+3 of
// dst + i·dstStride (64·groups floats).
TEXT ·winoOutH16(SB), NOSPLIT, $0-48
	MOVL $0x40000000, AX // 2.0
	VPBROADCASTD AX, Z21
	MOVL $0x40800000, AX // 4.0
	VPBROADCASTD AX, Z20
	MOVL $0x41000000, AX // 8.0
	VPBROADCASTD AX, Z22
	LEAQ winoPerm<>(SB), AX
	VMOVDQU32 256(AX), Z26 // low halves interleaved
	VMOVDQU32 320(AX), Z27 // high halves
	MOVQ dstStride+8(FP), R9
	SHLQ $2, R9
	MOVQ srcStride+24(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R10 // 3 products
	LEAQ (R8)(R8*4), R12 // 5 products
	LEAQ (R10)(R10*1), R13 // 6 products
	MOVQ src+16(FP), SI
	MOVQ dst+0(FP), R11
	MOVQ masks+32(FP), R14
	MOVQ groups+40(FP), CX
	TESTQ CX, CX
	JLE ohdone
ohgroup:
	MOVWLZX (R14), BX
	KMOVW BX, K3
	POPCNTL BX, BX
	SHLQ $2, BX // bytes read per product row
	MOVQ SI, AX
	MOVQ R11, DI
	MOVQ $6, DX
ohrow:
	VMOVUPS (AX), Z0
	VMOVUPS (AX)(R8*1), Z1
	VMOVUPS (AX)(R8*2), Z2
	VMOVUPS (AX)(R10*1), Z3
	VMOVUPS (AX)(R8*4), Z4
	VMOVUPS (AX)(R12*1), Z5
	VEXPANDPS.Z Z0, K3, Z0
	VEXPANDPS.Z Z1, K3, Z1
	VEXPANDPS.Z Z2, K3, Z2
	VEXPANDPS.Z Z3, K3, Z3
	VEXPANDPS.Z Z4, K3, Z4
	VEXPANDPS.Z Z5, K3, Z5
	VADDPS Z2, Z1, Z6 // a = m1 + m2
	VSUBPS Z2, Z1, Z7 // b = m1 - m2
	VADDPS Z4, Z3, Z8 // c = m3 + m4
	VSUBPS Z4, Z3, Z9 // d = m3 - m4
	VADDPS Z6, Z0, Z10
	VADDPS Z8, Z10, Z10 // y0 = (m0 + a) + c
	VMOVAPS Z7, Z11
	VFMADD231PS Z21, Z9, Z11 // y1 = b + 2·d
	VMOVAPS Z6, Z12
	VFMADD231PS Z20, Z8, Z12 // y2 = a + 4·c
	VMOVAPS Z7, Z13
	VFMADD231PS Z22, Z9, Z13
	VADDPS Z5, Z13, Z13 // y3 = (b + 8·d) + m5
	VMOVAPS Z10, Z14
	VPERMT2PS Z12, Z26, Z14 // y0, y2 of slots 0..7
	VMOVAPS Z10, Z15
	VPERMT2PS Z12, Z27, Z15 // of slots 8..15
	VMOVAPS Z11, Z16
	VPERMT2PS Z13, Z26, Z16 // y1, y3 of slots 0..7
	VMOVAPS Z11, Z17
	VPERMT2PS Z13, Z27, Z17 // of slots 8..15
	VMOVAPS Z14, Z0
	VPERMT2PS Z16, Z26, Z0 // slots 0..3: y0 y1 y2 y3 each
	VPERMT2PS Z16, Z27, Z14 // slots 4..7
	VMOVAPS Z15, Z1
	VPERMT2PS Z17, Z26, Z1 // slots 8..11
	VPERMT2PS Z17, Z27, Z15 // slots 12..15
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z14, 64(DI)
	VMOVUPS Z1, 128(DI)
	VMOVUPS Z15, 192(DI)
	ADDQ R13, AX
	ADDQ R9, DI
	DECQ DX
	JNZ ohrow
	ADDQ BX, SI
	ADDQ $256, R11 // 64 columns
	ADDQ $2, R14
	DECQ CX
	JNZ ohgroup
ohdone:
	VZEROUPPER
	RET
