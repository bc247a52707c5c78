//go:build amd64 && !purego

#include "textflag.h"

// Winograd F(2×2,3×3) transforms for one 8×8 image (see conv_wino22.go):
// a vector lane per 2×2 output tile (16 tiles), the same additions in
// the same order as wino22InGo / wino22OutGo, so bit for bit.

// permutation indices: w22A/w22B gather even/odd columns of two row pairs
// (even rows: A, odd rows: B); w22R/w22L shift a tile row's lanes by one
// tile right/left (zeroed at the edge by K1/K2), w22D/w22U by one tile
// row down/up (K3/K4); w22O/w22O2 interleave two output-column phases
// back into rows (tile rows 0-1 and 2-3).
DATA w22A<>+0(SB)/4, $0
DATA w22A<>+4(SB)/4, $2
DATA w22A<>+8(SB)/4, $4
DATA w22A<>+12(SB)/4, $6
DATA w22A<>+16(SB)/4, $16
DATA w22A<>+20(SB)/4, $18
DATA w22A<>+24(SB)/4, $20
DATA w22A<>+28(SB)/4, $22
DATA w22A<>+32(SB)/4, $1
DATA w22A<>+36(SB)/4, $3
DATA w22A<>+40(SB)/4, $5
DATA w22A<>+44(SB)/4, $7
DATA w22A<>+48(SB)/4, $17
DATA w22A<>+52(SB)/4, $19
DATA w22A<>+56(SB)/4, $21
DATA w22A<>+60(SB)/4, $23
GLOBL w22A<>(SB), RODATA|NOPTR, $64

DATA w22R<>+0(SB)/4, $0
DATA w22R<>+4(SB)/4, $0
DATA w22R<>+8(SB)/4, $1
DATA w22R<>+12(SB)/4, $2
DATA w22R<>+16(SB)/4, $3
DATA w22R<>+20(SB)/4, $4
DATA w22R<>+24(SB)/4, $5
DATA w22R<>+28(SB)/4, $6
DATA w22R<>+32(SB)/4, $7
DATA w22R<>+36(SB)/4, $8
DATA w22R<>+40(SB)/4, $9
DATA w22R<>+44(SB)/4, $10
DATA w22R<>+48(SB)/4, $11
DATA w22R<>+52(SB)/4, $12
DATA w22R<>+56(SB)/4, $13
DATA w22R<>+60(SB)/4, $14
GLOBL w22R<>(SB), RODATA|NOPTR, $64

DATA w22L<>+0(SB)/4, $1
DATA w22L<>+4(SB)/4, $2
DATA w22L<>+8(SB)/4, $3
DATA w22L<>+12(SB)/4, $4
DATA w22L<>+16(SB)/4, $5
DATA w22L<>+20(SB)/4, $6
DATA w22L<>+24(SB)/4, $7
DATA w22L<>+28(SB)/4, $8
DATA w22L<>+32(SB)/4, $9
DATA w22L<>+36(SB)/4, $10
DATA w22L<>+40(SB)/4, $11
DATA w22L<>+44(SB)/4, $12
DATA w22L<>+48(SB)/4, $13
DATA w22L<>+52(SB)/4, $14
DATA w22L<>+56(SB)/4, $15
DATA w22L<>+60(SB)/4, $15
GLOBL w22L<>(SB), RODATA|NOPTR, $64

DATA w22D<>+0(SB)/4, $0
DATA w22D<>+4(SB)/4, $0
DATA w22D<>+8(SB)/4, $0
DATA w22D<>+12(SB)/4, $0
DATA w22D<>+16(SB)/4, $0
DATA w22D<>+20(SB)/4, $1
DATA w22D<>+24(SB)/4, $2
DATA w22D<>+28(SB)/4, $3
DATA w22D<>+32(SB)/4, $4
DATA w22D<>+36(SB)/4, $5
DATA w22D<>+40(SB)/4, $6
DATA w22D<>+44(SB)/4, $7
DATA w22D<>+48(SB)/4, $8
DATA w22D<>+52(SB)/4, $9
DATA w22D<>+56(SB)/4, $10
DATA w22D<>+60(SB)/4, $11
GLOBL w22D<>(SB), RODATA|NOPTR, $64

DATA w22U<>+0(SB)/4, $4
DATA w22U<>+4(SB)/4, $5
DATA w22U<>+8(SB)/4, $6
DATA w22U<>+12(SB)/4, $7
DATA w22U<>+16(SB)/4, $8
DATA w22U<>+20(SB)/4, $9
DATA w22U<>+24(SB)/4, $10
DATA w22U<>+28(SB)/4, $11
DATA w22U<>+32(SB)/4, $12
DATA w22U<>+36(SB)/4, $13
DATA w22U<>+40(SB)/4, $14
DATA w22U<>+44(SB)/4, $15
DATA w22U<>+48(SB)/4, $15
DATA w22U<>+52(SB)/4, $15
DATA w22U<>+56(SB)/4, $15
DATA w22U<>+60(SB)/4, $15
GLOBL w22U<>(SB), RODATA|NOPTR, $64

DATA w22O<>+0(SB)/4, $0
DATA w22O<>+4(SB)/4, $16
DATA w22O<>+8(SB)/4, $1
DATA w22O<>+12(SB)/4, $17
DATA w22O<>+16(SB)/4, $2
DATA w22O<>+20(SB)/4, $18
DATA w22O<>+24(SB)/4, $3
DATA w22O<>+28(SB)/4, $19
DATA w22O<>+32(SB)/4, $4
DATA w22O<>+36(SB)/4, $20
DATA w22O<>+40(SB)/4, $5
DATA w22O<>+44(SB)/4, $21
DATA w22O<>+48(SB)/4, $6
DATA w22O<>+52(SB)/4, $22
DATA w22O<>+56(SB)/4, $7
DATA w22O<>+60(SB)/4, $23
GLOBL w22O<>(SB), RODATA|NOPTR, $64

DATA w22B<>+0(SB)/4, $8
DATA w22B<>+4(SB)/4, $10
DATA w22B<>+8(SB)/4, $12
DATA w22B<>+12(SB)/4, $14
DATA w22B<>+16(SB)/4, $24
DATA w22B<>+20(SB)/4, $26
DATA w22B<>+24(SB)/4, $28
DATA w22B<>+28(SB)/4, $30
DATA w22B<>+32(SB)/4, $9
DATA w22B<>+36(SB)/4, $11
DATA w22B<>+40(SB)/4, $13
DATA w22B<>+44(SB)/4, $15
DATA w22B<>+48(SB)/4, $25
DATA w22B<>+52(SB)/4, $27
DATA w22B<>+56(SB)/4, $29
DATA w22B<>+60(SB)/4, $31
GLOBL w22B<>(SB), RODATA|NOPTR, $64

DATA w22O2<>+0(SB)/4, $8
DATA w22O2<>+4(SB)/4, $24
DATA w22O2<>+8(SB)/4, $9
DATA w22O2<>+12(SB)/4, $25
DATA w22O2<>+16(SB)/4, $10
DATA w22O2<>+20(SB)/4, $26
DATA w22O2<>+24(SB)/4, $11
DATA w22O2<>+28(SB)/4, $27
DATA w22O2<>+32(SB)/4, $12
DATA w22O2<>+36(SB)/4, $28
DATA w22O2<>+40(SB)/4, $13
DATA w22O2<>+44(SB)/4, $29
DATA w22O2<>+48(SB)/4, $14
DATA w22O2<>+52(SB)/4, $30
DATA w22O2<>+56(SB)/4, $15
DATA w22O2<>+60(SB)/4, $31
GLOBL w22O2<>(SB), RODATA|NOPTR, $64

// VCOLUMN stores point column b's four points along the columns from
// the even rows' (he) and odd rows' (ho) transforms along the rows, at
// R10 (point b) + a·R9: d0 - d2, d1 + d2, d2 - d1, d1 - d3 with d0 the
// odd row of the tile row above, d3 the even row of the one below.
#define VCOLUMN(he, ho) \
	VPERMPS.Z ho, Z28, K3, Z12 \
	VPERMPS.Z he, Z29, K4, Z13 \
	VSUBPS ho, Z12, Z0 \
	VADDPS ho, he, Z1 \
	VSUBPS he, ho, Z2 \
	VSUBPS Z13, he, Z3 \
	VMOVUPS Z0, (R10) \
	VMOVUPS Z1, (R10)(R9*1) \
	VMOVUPS Z2, (R10)(R9*2) \
	VMOVUPS Z3, (R10)(R12*1)

// MROW loads products 4a..4a+3 at SI and leaves row a of M·A:
// s0 = (m0 + m1) + m2, s1 = (m1 - m2) - m3.
#define MROW(s0, s1) \
	VMOVUPS (SI), Z4 \
	VMOVUPS (SI)(R8*1), Z5 \
	VMOVUPS (SI)(R8*2), Z6 \
	VMOVUPS (SI)(R10*1), Z7 \
	VADDPS Z5, Z4, s0 \
	VADDPS Z6, s0, s0 \
	VSUBPS Z6, Z5, s1 \
	VSUBPS Z7, s1, s1

// OUTPROLOGUE loads wino22Out16's and wino22OutSide16's arguments
// (dst DI, res R11, scale Z23, shift Z24, lo Z27, hi Z28, flags DX, the
// interleaving permutes Z30, Z31) and makes the four output phases of
// the 16 tiles from the 16 products: y00 Z8, y10 Z9, y01 Z10, y11 Z11.
#define OUTPROLOGUE \
	MOVQ dst+0(FP), DI \
	MOVQ src+8(FP), SI \
	MOVQ srcStride+16(FP), R8 \
	SHLQ $2, R8 \
	LEAQ (R8)(R8*2), R10 \
	LEAQ (R8*4), R9 \
	MOVQ res+24(FP), R11 \
	VBROADCASTSS scale+32(FP), Z23 \
	VBROADCASTSS shift+36(FP), Z24 \
	VBROADCASTSS lo+40(FP), Z27 \
	VBROADCASTSS hi+44(FP), Z28 \
	MOVBLZX flags+48(FP), DX \
	VMOVUPS w22O<>(SB), Z30 \
	VMOVUPS w22O2<>(SB), Z31 \
	MROW(Z16, Z20) \
	ADDQ R9, SI \
	MROW(Z17, Z21) \
	ADDQ R9, SI \
	MROW(Z18, Z22) \
	ADDQ R9, SI \
	MROW(Z19, Z25) \
	VADDPS Z17, Z16, Z8 \
	VADDPS Z18, Z8, Z8 \
	VSUBPS Z18, Z17, Z9 \
	VSUBPS Z19, Z9, Z9 \
	VADDPS Z21, Z20, Z10 \
	VADDPS Z22, Z10, Z10 \
	VSUBPS Z22, Z21, Z11 \
	VSUBPS Z25, Z11, Z11

// OUTEPILOGUE applies the epilogue to four output vectors Z0..Z3 (the
// 64 floats at DI, DI+64, DI+128, DI+192; res likewise at R11) and
// stores them: y·scale + shift, + res (flags 4), floor lo (1), ceiling
// hi (2). nores, nolo, nohi name the labels of one use.
#define OUTEPILOGUE(nores, nolo, nohi) \
	VFMADD213PS Z24, Z23, Z0 \
	VFMADD213PS Z24, Z23, Z1 \
	VFMADD213PS Z24, Z23, Z2 \
	VFMADD213PS Z24, Z23, Z3 \
	TESTQ $4, DX \
	JZ nores \
	VADDPS (R11), Z0, Z0 \
	VADDPS 64(R11), Z1, Z1 \
	VADDPS 128(R11), Z2, Z2 \
	VADDPS 192(R11), Z3, Z3 \
nores: \
	TESTQ $1, DX \
	JZ nolo \
	VMAXPS Z27, Z0, Z0 \
	VMAXPS Z27, Z1, Z1 \
	VMAXPS Z27, Z2, Z2 \
	VMAXPS Z27, Z3, Z3 \
nolo: \
	TESTQ $2, DX \
	JZ nohi \
	VMINPS Z28, Z0, Z0 \
	VMINPS Z28, Z1, Z1 \
	VMINPS Z28, Z2, Z2 \
	VMINPS Z28, Z3, Z3 \
nohi: \
	VMOVUPS Z0, (DI) \
	VMOVUPS Z1, 64(DI) \
	VMOVUPS Z2, 128(DI) \
	VMOVUPS Z3, 192(DI)

// func wino22In16(dst, src *float32, C, vs int)
// For each of C channels of 8×8 planes at src (64 floats apart): point
// k = 4a + b of the 16 tiles' Bᵀ·d·B at dst + k·vs + c·16 floats.
TEXT ·wino22In16(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ C+16(FP), CX
	MOVQ vs+24(FP), R8
	SHLQ $2, R8 // bytes between points
	LEAQ (R8)(R8*2), R13 // 3 points
	LEAQ (R8*4), R9 // 4 points: the next a
	LEAQ (R9)(R9*2), R12 // 12 points
	VMOVUPS w22A<>(SB), Z24
	VMOVUPS w22B<>(SB), Z25
	VMOVUPS w22R<>(SB), Z26
	VMOVUPS w22L<>(SB), Z27
	VMOVUPS w22D<>(SB), Z28
	VMOVUPS w22U<>(SB), Z29
	MOVL $0xEEEE, AX
	KMOVW AX, K1 // tx > 0
	MOVL $0x7777, AX
	KMOVW AX, K2 // tx < 3
	MOVL $0xFFF0, AX
	KMOVW AX, K3 // ty > 0
	MOVL $0x0FFF, AX
	KMOVW AX, K4 // ty < 3
inloop:
	VMOVUPS (SI), Z0 // rows 0, 1
	VMOVUPS 64(SI), Z1
	VMOVUPS 128(SI), Z2
	VMOVUPS 192(SI), Z3
	VMOVAPS Z0, Z4
	VPERMT2PS Z1, Z24, Z4 // even rows of tile rows 0, 1: even columns, odd columns
	VMOVAPS Z2, Z5
	VPERMT2PS Z3, Z24, Z5 // tile rows 2, 3
	VMOVAPS Z0, Z6
	VPERMT2PS Z1, Z25, Z6 // odd rows
	VMOVAPS Z2, Z7
	VPERMT2PS Z3, Z25, Z7
	VSHUFF32X4 $0x44, Z5, Z4, Z8 // EE: x[2ty][2tx]
	VSHUFF32X4 $0xEE, Z5, Z4, Z9 // EO: x[2ty][2tx+1]
	VSHUFF32X4 $0x44, Z7, Z6, Z10 // OE: x[2ty+1][2tx]
	VSHUFF32X4 $0xEE, Z7, Z6, Z11 // OO: x[2ty+1][2tx+1]
	VPERMPS.Z Z9, Z26, K1, Z12 // x[2ty][2tx-1]
	VPERMPS.Z Z8, Z27, K2, Z13 // x[2ty][2tx+2]
	VSUBPS Z9, Z12, Z14 // even rows along the row: d0 - d2
	VADDPS Z9, Z8, Z15 // d1 + d2
	VSUBPS Z8, Z9, Z16 // d2 - d1
	VSUBPS Z13, Z8, Z17 // d1 - d3
	VPERMPS.Z Z11, Z26, K1, Z12
	VPERMPS.Z Z10, Z27, K2, Z13
	VSUBPS Z11, Z12, Z18 // odd rows
	VADDPS Z11, Z10, Z19
	VSUBPS Z10, Z11, Z20
	VSUBPS Z13, Z10, Z21
	MOVQ DI, R10
	VCOLUMN(Z14, Z18)
	ADDQ R8, R10
	VCOLUMN(Z15, Z19)
	ADDQ R8, R10
	VCOLUMN(Z16, Z20)
	ADDQ R8, R10
	VCOLUMN(Z17, Z21)
	ADDQ $256, SI
	ADDQ $64, DI
	DECQ CX
	JNZ inloop
	VZEROUPPER
	RET

// func wino22Out16(dst, src *float32, srcStride int, res *float32, scale, shift, lo, hi float32, flags uint8)
// The 8×8 plane dst = act(Aᵀ·M·A·scale + shift + res) from product k's
// 16 tiles at src + k·srcStride floats (flags: 1 floor lo, 2 ceiling hi,
// 4 add res), directOut16's epilogue.
TEXT ·wino22Out16(SB), NOSPLIT, $0-49
	OUTPROLOGUE
	VMOVAPS Z8, Z12
	VPERMT2PS Z10, Z30, Z12 // rows 0, 2
	VMOVAPS Z8, Z13
	VPERMT2PS Z10, Z31, Z13 // rows 4, 6
	VMOVAPS Z9, Z14
	VPERMT2PS Z11, Z30, Z14 // rows 1, 3
	VMOVAPS Z9, Z15
	VPERMT2PS Z11, Z31, Z15 // rows 5, 7
	VSHUFF32X4 $0x44, Z14, Z12, Z0 // rows 0, 1
	VSHUFF32X4 $0xEE, Z14, Z12, Z1 // rows 2, 3
	VSHUFF32X4 $0x44, Z15, Z13, Z2 // rows 4, 5
	VSHUFF32X4 $0xEE, Z15, Z13, Z3 // rows 6, 7
	OUTEPILOGUE(outnores, outnolo, outnohi)
	VZEROUPPER
	RET

// A 16×16 plane (wino22InSide16, wino22OutSide16): 64 tiles, four
// vectors of two tile rows. The input transform goes along the rows
// first into row buffers at h, by point b and row parity, 288 bytes
// each (9 rows of 8 tiles): hE_b (the even input rows 2i at row i, a
// zero row at 8) at h + b·576 bytes and hO_b (the odd rows 2i-1 at row
// i, a zero row at 0) 288 bytes on. Then along the columns: vector j's
// tile rows 2j, 2j+1 take their window rows 2ty-1, 2ty, 2ty+1, 2ty+2 in
// one load each from hO_b and hE_b at rows 2j and 2j+1.

// w22Ev/w22Od gather the even/odd floats of two vectors (two input rows
// of 16).
DATA w22Ev<>+0(SB)/4, $0
DATA w22Ev<>+4(SB)/4, $2
DATA w22Ev<>+8(SB)/4, $4
DATA w22Ev<>+12(SB)/4, $6
DATA w22Ev<>+16(SB)/4, $8
DATA w22Ev<>+20(SB)/4, $10
DATA w22Ev<>+24(SB)/4, $12
DATA w22Ev<>+28(SB)/4, $14
DATA w22Ev<>+32(SB)/4, $16
DATA w22Ev<>+36(SB)/4, $18
DATA w22Ev<>+40(SB)/4, $20
DATA w22Ev<>+44(SB)/4, $22
DATA w22Ev<>+48(SB)/4, $24
DATA w22Ev<>+52(SB)/4, $26
DATA w22Ev<>+56(SB)/4, $28
DATA w22Ev<>+60(SB)/4, $30
GLOBL w22Ev<>(SB), RODATA|NOPTR, $64

DATA w22Od<>+0(SB)/4, $1
DATA w22Od<>+4(SB)/4, $3
DATA w22Od<>+8(SB)/4, $5
DATA w22Od<>+12(SB)/4, $7
DATA w22Od<>+16(SB)/4, $9
DATA w22Od<>+20(SB)/4, $11
DATA w22Od<>+24(SB)/4, $13
DATA w22Od<>+28(SB)/4, $15
DATA w22Od<>+32(SB)/4, $17
DATA w22Od<>+36(SB)/4, $19
DATA w22Od<>+40(SB)/4, $21
DATA w22Od<>+44(SB)/4, $23
DATA w22Od<>+48(SB)/4, $25
DATA w22Od<>+52(SB)/4, $27
DATA w22Od<>+56(SB)/4, $29
DATA w22Od<>+60(SB)/4, $31
GLOBL w22Od<>(SB), RODATA|NOPTR, $64

// HROW transforms two input rows (32 floats) in Z0, Z1 along the rows: with
// E = x[2tx], O = x[2tx+1] and tile neighbours zeroed by K1 (tx > 0) and
// K2 (tx < 7), Z14..Z17 = Oprev - O, E + O, O - E, E - Enext
// (d0 - d2, d1 + d2, d2 - d1, d1 - d3).
#define HROW \
	VMOVAPS Z0, Z8 \
	VPERMT2PS Z1, Z24, Z8 \
	VMOVAPS Z0, Z9 \
	VPERMT2PS Z1, Z25, Z9 \
	VPERMPS.Z Z9, Z26, K1, Z12 \
	VPERMPS.Z Z8, Z27, K2, Z13 \
	VSUBPS Z9, Z12, Z14 \
	VADDPS Z9, Z8, Z15 \
	VSUBPS Z8, Z9, Z16 \
	VSUBPS Z13, Z8, Z17

// HCOL transforms point column b (hE_b at eoff(R11), hO_b at ooff(R11))
// along the columns and stores points b, 4+b, 8+b, 12+b at R15 + a·R9:
// p - s, q + s, s - q, q - t with p, s the odd rows 2ty-1, 2ty+1 and
// q, t the even rows 2ty, 2ty+2 (the next tile row 32 bytes on).
#define HCOL(eoff, ooff) \
	VMOVUPS ooff(R11), Z0 \
	VMOVUPS eoff(R11), Z1 \
	VMOVUPS ooff+32(R11), Z2 \
	VMOVUPS eoff+32(R11), Z3 \
	VSUBPS Z2, Z0, Z4 \
	VADDPS Z2, Z1, Z5 \
	VSUBPS Z1, Z2, Z6 \
	VSUBPS Z3, Z1, Z7 \
	VMOVUPS Z4, (R15) \
	VMOVUPS Z5, (R15)(R9*1) \
	VMOVUPS Z6, (R15)(R9*2) \
	VMOVUPS Z7, (R15)(R12*1)

// func wino22InSide16(dst, src, h *float32, C, j0, nv, vs int)
// For each of C channels of 16×16 planes at src: point k of tile t of
// the vectors j0..j0+nv-1 at dst + (16·(t/16 - j0) + k)·vs + c·16 +
// t%16 floats; h the row buffers (2304 bytes).
TEXT ·wino22InSide16(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ h+16(FP), BX
	MOVQ C+24(FP), CX
	MOVQ vs+48(FP), R8
	SHLQ $2, R8 // bytes between points
	LEAQ (R8*4), R9 // 4 points: the next a
	LEAQ (R9)(R9*2), R12 // 12 points
	MOVQ R9, R14
	SHLQ $2, R14 // 16 points: the next vector
	MOVL $0xFEFE, AX
	KMOVW AX, K1 // tx > 0
	MOVL $0x7F7F, AX
	KMOVW AX, K2 // tx < 7
	VMOVUPS w22Ev<>(SB), Z24
	VMOVUPS w22Od<>(SB), Z25
	VMOVUPS w22R<>(SB), Z26
	VMOVUPS w22L<>(SB), Z27
	VPXORD Y0, Y0, Y0 // the zero rows: hE_b's row 8, hO_b's row 0
	VMOVUPS Y0, 256(BX)
	VMOVUPS Y0, 288(BX)
	VMOVUPS Y0, 832(BX)
	VMOVUPS Y0, 864(BX)
	VMOVUPS Y0, 1408(BX)
	VMOVUPS Y0, 1440(BX)
	VMOVUPS Y0, 1984(BX)
	VMOVUPS Y0, 2016(BX)
in16chan:
	MOVQ BX, R11
	MOVQ $8, AX // row pairs
in16rows:
	VMOVUPS (SI), Z0 // rows 2i, 2i+1
	VMOVUPS 64(SI), Z1
	HROW
	VMOVUPS Y14, (R11)
	VMOVUPS Y15, 576(R11)
	VMOVUPS Y16, 1152(R11)
	VMOVUPS Y17, 1728(R11)
	VEXTRACTF32X8 $1, Z14, Y18 // row 2i+1: hO_b's row i+1
	VEXTRACTF32X8 $1, Z15, Y19
	VEXTRACTF32X8 $1, Z16, Y20
	VEXTRACTF32X8 $1, Z17, Y21
	VMOVUPS Y18, 320(R11)
	VMOVUPS Y19, 896(R11)
	VMOVUPS Y20, 1472(R11)
	VMOVUPS Y21, 2048(R11)
	ADDQ $128, SI
	ADDQ $32, R11
	DECQ AX
	JNZ in16rows
	MOVQ j0+32(FP), R11
	SHLQ $6, R11 // vector j0's tile rows in h
	ADDQ BX, R11
	MOVQ DI, R10
	MOVQ nv+40(FP), AX // vectors
in16vec:
	MOVQ R10, R15
	HCOL(0, 288)
	ADDQ R8, R15
	HCOL(576, 864)
	ADDQ R8, R15
	HCOL(1152, 1440)
	ADDQ R8, R15
	HCOL(1728, 2016)
	ADDQ R14, R10
	ADDQ $64, R11
	DECQ AX
	JNZ in16vec
	ADDQ $64, DI
	DECQ CX
	JNZ in16chan
	VZEROUPPER
	RET

// func wino22OutSide16(dst, src *float32, srcStride int, res *float32, scale, shift, lo, hi float32, flags uint8)
// wino22Out16 for the 64 outputs (rows 2j..2j+3) of vector j of a 16×16
// plane's tiles: y00, y01 interleaved by w22O, w22O2 make rows 2ty (at
// dst) and 2ty+2 (128 bytes on), y10, y11 rows 2ty+1 and 2ty+3.
TEXT ·wino22OutSide16(SB), NOSPLIT, $0-49
	OUTPROLOGUE
	VMOVAPS Z8, Z0
	VPERMT2PS Z10, Z30, Z0 // row 2ty
	VMOVAPS Z8, Z2
	VPERMT2PS Z10, Z31, Z2 // row 2ty+2
	VMOVAPS Z9, Z1
	VPERMT2PS Z11, Z30, Z1 // row 2ty+1
	VMOVAPS Z9, Z3
	VPERMT2PS Z11, Z31, Z3 // row 2ty+3
	OUTEPILOGUE(outwnores, outwnolo, outwnohi)
	VZEROUPPER
	RET

// GZERO16/GZERO8 clear the accumulators Z0..Z15 / Z0..Z7, GFMA16/GFMA8
// add U's 16 / 8 columns at (base) times V's row (Z16) into them,
// GSTORE16/GSTORE8 store them as rows of M at DI.
#define GZERO16 \
	VPXORD Z0, Z0, Z0 \
	VPXORD Z1, Z1, Z1 \
	VPXORD Z2, Z2, Z2 \
	VPXORD Z3, Z3, Z3 \
	VPXORD Z4, Z4, Z4 \
	VPXORD Z5, Z5, Z5 \
	VPXORD Z6, Z6, Z6 \
	VPXORD Z7, Z7, Z7 \
	VPXORD Z8, Z8, Z8 \
	VPXORD Z9, Z9, Z9 \
	VPXORD Z10, Z10, Z10 \
	VPXORD Z11, Z11, Z11 \
	VPXORD Z12, Z12, Z12 \
	VPXORD Z13, Z13, Z13 \
	VPXORD Z14, Z14, Z14 \
	VPXORD Z15, Z15, Z15

#define GZERO8 \
	VPXORD Z0, Z0, Z0 \
	VPXORD Z1, Z1, Z1 \
	VPXORD Z2, Z2, Z2 \
	VPXORD Z3, Z3, Z3 \
	VPXORD Z4, Z4, Z4 \
	VPXORD Z5, Z5, Z5 \
	VPXORD Z6, Z6, Z6 \
	VPXORD Z7, Z7, Z7

#define GFMA16(base) \
	VFMADD231PS.BCST 0(base), Z16, Z0 \
	VFMADD231PS.BCST 4(base), Z16, Z1 \
	VFMADD231PS.BCST 8(base), Z16, Z2 \
	VFMADD231PS.BCST 12(base), Z16, Z3 \
	VFMADD231PS.BCST 16(base), Z16, Z4 \
	VFMADD231PS.BCST 20(base), Z16, Z5 \
	VFMADD231PS.BCST 24(base), Z16, Z6 \
	VFMADD231PS.BCST 28(base), Z16, Z7 \
	VFMADD231PS.BCST 32(base), Z16, Z8 \
	VFMADD231PS.BCST 36(base), Z16, Z9 \
	VFMADD231PS.BCST 40(base), Z16, Z10 \
	VFMADD231PS.BCST 44(base), Z16, Z11 \
	VFMADD231PS.BCST 48(base), Z16, Z12 \
	VFMADD231PS.BCST 52(base), Z16, Z13 \
	VFMADD231PS.BCST 56(base), Z16, Z14 \
	VFMADD231PS.BCST 60(base), Z16, Z15

#define GFMA8(base) \
	VFMADD231PS.BCST 0(base), Z16, Z0 \
	VFMADD231PS.BCST 4(base), Z16, Z1 \
	VFMADD231PS.BCST 8(base), Z16, Z2 \
	VFMADD231PS.BCST 12(base), Z16, Z3 \
	VFMADD231PS.BCST 16(base), Z16, Z4 \
	VFMADD231PS.BCST 20(base), Z16, Z5 \
	VFMADD231PS.BCST 24(base), Z16, Z6 \
	VFMADD231PS.BCST 28(base), Z16, Z7

#define GSTORE16 \
	VMOVUPS Z0, 0(DI) \
	VMOVUPS Z1, 64(DI) \
	VMOVUPS Z2, 128(DI) \
	VMOVUPS Z3, 192(DI) \
	VMOVUPS Z4, 256(DI) \
	VMOVUPS Z5, 320(DI) \
	VMOVUPS Z6, 384(DI) \
	VMOVUPS Z7, 448(DI) \
	VMOVUPS Z8, 512(DI) \
	VMOVUPS Z9, 576(DI) \
	VMOVUPS Z10, 640(DI) \
	VMOVUPS Z11, 704(DI) \
	VMOVUPS Z12, 768(DI) \
	VMOVUPS Z13, 832(DI) \
	VMOVUPS Z14, 896(DI) \
	VMOVUPS Z15, 960(DI)

#define GSTORE8 \
	VMOVUPS Z0, 0(DI) \
	VMOVUPS Z1, 64(DI) \
	VMOVUPS Z2, 128(DI) \
	VMOVUPS Z3, 192(DI) \
	VMOVUPS Z4, 256(DI) \
	VMOVUPS Z5, 320(DI) \
	VMOVUPS Z6, 384(DI) \
	VMOVUPS Z7, 448(DI)

// func wino22Gemm16(m, u, v *float32, C, ldu, rows, vs, ms int)
// For the 16 points k: M_k = U_kᵀ·V_k over rows output channels, M_k's
// row o (16 tiles) at m + k·ms + o·16 floats, U_k's column o at
// u + k·C·ldu + c·ldu + o floats (c = 0..C-1), V_k's row c at
// v + k·vs + c·16. Each output is an FMA chain over c in order from
// zero (the same in every block of rows, so on any cut of the rows).
// Blocks of 16 rows, then of 8, then single rows. U's row 16 channels
// ahead is prefetched: in a whole model U_k comes from L3 (resnet20's
// 8×8 layers in BenchmarkWino22InModel, one worker: 15.3-15.8 µs against
// 15.9-17.0 without; 8 channels ahead 14.8-16.2, 4 ahead 15.8-16.9).
TEXT ·wino22Gemm16(SB), NOSPLIT, $0-64
	MOVQ u+8(FP), R11
	MOVQ v+16(FP), R12
	MOVQ C+24(FP), R13
	MOVQ ldu+32(FP), R8
	SHLQ $2, R8 // bytes between U's rows c
	MOVQ R13, R14
	IMULQ R8, R14 // bytes of one U_k
	MOVQ vs+48(FP), R15
	SHLQ $2, R15 // bytes between the V_k
	MOVQ $16, R9 // points left
	MOVQ R8, SI
	SHLQ $4, SI // U's row 16 channels on: prefetched (from L3 in a model)
gpoint:
	MOVQ m+0(FP), DI // M_k
	MOVQ rows+40(FP), R10 // rows left
	MOVQ R11, DX // U_k's column of the block
g16:
	CMPQ R10, $16
	JLT g8
	GZERO16
	MOVQ DX, AX
	MOVQ R12, BX
	MOVQ R13, CX
g16loop:
	VMOVUPS (BX), Z16
	PREFETCHT0 (AX)(SI*1)
	GFMA16(AX)
	ADDQ R8, AX
	ADDQ $64, BX
	DECQ CX
	JNZ g16loop
	GSTORE16
	ADDQ $1024, DI
	ADDQ $64, DX
	SUBQ $16, R10
	JMP g16
g8:
	CMPQ R10, $8
	JLT g1
	GZERO8
	MOVQ DX, AX
	MOVQ R12, BX
	MOVQ R13, CX
g8loop:
	VMOVUPS (BX), Z16
	PREFETCHT0 (AX)(SI*1)
	GFMA8(AX)
	ADDQ R8, AX
	ADDQ $64, BX
	DECQ CX
	JNZ g8loop
	GSTORE8
	ADDQ $512, DI
	ADDQ $32, DX
	SUBQ $8, R10
g1:
	TESTQ R10, R10
	JZ gnext
	VPXORD Z0, Z0, Z0
	MOVQ DX, AX
	MOVQ R12, BX
	MOVQ R13, CX
g1loop:
	VMOVUPS (BX), Z16
	VFMADD231PS.BCST (AX), Z16, Z0
	ADDQ R8, AX
	ADDQ $64, BX
	DECQ CX
	JNZ g1loop
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	ADDQ $4, DX
	DECQ R10
	JMP g1
gnext:
	MOVQ ms+56(FP), AX
	SHLQ $2, AX
	ADDQ AX, m+0(FP) // the next M_k
	ADDQ R14, R11
	ADDQ R15, R12
	DECQ R9
	JNZ gpoint
	VZEROUPPER
	RET
