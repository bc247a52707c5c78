//go:build amd64 && !purego

#include "textflag.h"

// The Winograd F(4,3) transforms along columns (see conv_wino.go), 16
// columns at a time with a masked tail, over a run of row blocks. Every
// multiplier is a power of two, so each output is the same float32 sum
// as winoInGo / winoOutGo compute, bit for bit.

// func winoIn16(dst *float32, dstStride int, src *float32, srcStride, n, gw, blocks, srcStep, dstStep int)
// For each of blocks blocks (src and dst advanced by srcStep and dstStep
// floats): v = Bᵀ·d over n columns, d row i at src + i·srcStride, v row k
// at dst + k·dstStride, each v row followed by gw zeros (gw ≤ 16).
TEXT ·winoIn16(SB), NOSPLIT, $0-72
	MOVQ n+32(FP), CX
	ANDQ $15, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1 // the tail's lanes
	MOVQ gw+40(FP), CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K4 // the gap's lanes
	KXNORW K2, K2, K2 // all lanes
	VPXORD Z31, Z31, Z31
	MOVL $0x40800000, AX // 4.0
	VPBROADCASTD AX, Z20
	MOVQ dst+0(FP), CX
	MOVQ dstStride+8(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R10 // 3 rows
	LEAQ (R9)(R9*4), R12 // 5 rows
	MOVQ src+16(FP), AX
	MOVQ srcStride+24(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), BX // 3 rows
	LEAQ (R8)(R8*4), DX // 5 rows
	MOVQ n+32(FP), R11
	MOVQ blocks+48(FP), R14
	MOVQ srcStep+56(FP), R15
	SHLQ $2, R15
	TESTQ R14, R14
	JZ indone
inblock:
	MOVQ AX, SI
	MOVQ CX, DI
	MOVQ R11, R13
	KMOVW K2, K3
inloop:
	CMPQ R13, $16
	JGE infull
	TESTQ R13, R13
	JZ ingap
	KMOVW K1, K3
infull:
	VMOVUPS.Z (SI), K3, Z0
	VMOVUPS.Z (SI)(R8*1), K3, Z1
	VMOVUPS.Z (SI)(R8*2), K3, Z2
	VMOVUPS.Z (SI)(BX*1), K3, Z3
	VMOVUPS.Z (SI)(R8*4), K3, Z4
	VMOVUPS.Z (SI)(DX*1), K3, Z5
	VSUBPS Z2, Z4, Z10 // d4 - d2
	VMOVAPS Z4, Z6
	VFNMADD231PS Z20, Z2, Z6 // t0 = d4 - 4·d2
	VMOVAPS Z3, Z7
	VFNMADD231PS Z20, Z1, Z7 // t1 = d3 - 4·d1
	VADDPS Z7, Z6, Z8 // v1 = t0 + t1
	VSUBPS Z7, Z6, Z9 // v2 = t0 - t1
	VSUBPS Z1, Z3, Z11
	VADDPS Z11, Z11, Z11 // t3 = 2·(d3 - d1)
	VADDPS Z11, Z10, Z12 // v3 = (d4 - d2) + t3
	VSUBPS Z11, Z10, Z13 // v4 = (d4 - d2) - t3
	VSUBPS Z2, Z0, Z14
	VFMADD213PS Z10, Z20, Z14 // v0 = 4·(d0 - d2) + (d4 - d2)
	VSUBPS Z3, Z1, Z15
	VSUBPS Z3, Z5, Z16
	VFMADD213PS Z16, Z20, Z15 // v5 = 4·(d1 - d3) + (d5 - d3)
	VMOVUPS Z14, K3, (DI)
	VMOVUPS Z8, K3, (DI)(R9*1)
	VMOVUPS Z9, K3, (DI)(R9*2)
	VMOVUPS Z12, K3, (DI)(R10*1)
	VMOVUPS Z13, K3, (DI)(R9*4)
	VMOVUPS Z15, K3, (DI)(R12*1)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, R13
	JG inloop
ingap:
	LEAQ (CX)(R11*4), DI
	VMOVUPS Z31, K4, (DI)
	VMOVUPS Z31, K4, (DI)(R9*1)
	VMOVUPS Z31, K4, (DI)(R9*2)
	VMOVUPS Z31, K4, (DI)(R10*1)
	VMOVUPS Z31, K4, (DI)(R9*4)
	VMOVUPS Z31, K4, (DI)(R12*1)
	ADDQ R15, AX
	MOVQ dstStep+64(FP), R13
	LEAQ (CX)(R13*4), CX
	DECQ R14
	JNZ inblock
indone:
	VZEROUPPER
	RET

// func winoOut16(dst *float32, dstStride int, src *float32, srcStride, n, blocks, srcStep, dstStep int)
// For each of blocks blocks (src and dst advanced by srcStep and dstStep
// floats): y = Aᵀ·m over n columns, m row k at src + k·srcStride, y row r
// at dst + r·dstStride.
TEXT ·winoOut16(SB), NOSPLIT, $0-64
	MOVQ n+32(FP), CX
	ANDQ $15, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1 // the tail's lanes
	KXNORW K2, K2, K2
	MOVL $0x40000000, AX // 2.0
	VPBROADCASTD AX, Z21
	MOVL $0x40800000, AX // 4.0
	VPBROADCASTD AX, Z20
	MOVL $0x41000000, AX // 8.0
	VPBROADCASTD AX, Z22
	MOVQ dst+0(FP), BX
	MOVQ dstStride+8(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R13 // 3 rows
	MOVQ src+16(FP), AX
	MOVQ srcStride+24(FP), R8
	SHLQ $2, R8
	LEAQ (R8)(R8*2), R10 // 3 rows
	LEAQ (R8)(R8*4), R12 // 5 rows
	MOVQ n+32(FP), R11
	MOVQ blocks+40(FP), DX
	MOVQ srcStep+48(FP), R14
	SHLQ $2, R14
	MOVQ dstStep+56(FP), R15
	SHLQ $2, R15
	TESTQ DX, DX
	JZ outdone
outblock:
	MOVQ AX, SI
	MOVQ BX, DI
	MOVQ R11, CX
	KMOVW K2, K3
outloop:
	CMPQ CX, $16
	JGE outfull
	TESTQ CX, CX
	JZ outnext
	KMOVW K1, K3
outfull:
	VMOVUPS.Z (SI), K3, Z0
	VMOVUPS.Z (SI)(R8*1), K3, Z1
	VMOVUPS.Z (SI)(R8*2), K3, Z2
	VMOVUPS.Z (SI)(R10*1), K3, Z3
	VMOVUPS.Z (SI)(R8*4), K3, Z4
	VMOVUPS.Z (SI)(R12*1), K3, Z5
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
	VMOVUPS Z10, K3, (DI)
	VMOVUPS Z11, K3, (DI)(R9*1)
	VMOVUPS Z12, K3, (DI)(R9*2)
	VMOVUPS Z13, K3, (DI)(R13*1)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JG outloop
outnext:
	ADDQ R14, AX
	ADDQ R15, BX
	DECQ DX
	JNZ outblock
outdone:
	VZEROUPPER
	RET

// func winoInRows16(dst *float32, dstStride int, src *[6]*float32, n, gw, count, srcStep, dstStep int)
// winoIn16 for one block whose six rows are given one by one (a nil row
// is zeros: a block that reaches above or below the image), for count
// channels: the rows advance by srcStep floats (nil rows stay zeros) and
// dst by dstStep floats from one channel to the next.
TEXT ·winoInRows16(SB), NOSPLIT, $0-64
	SHLQ $2, dstStep+56(FP) // bytes
	MOVQ srcStep+48(FP), R15
	SHLQ $2, R15
	MOVQ n+24(FP), CX
	ANDQ $15, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1 // the tail's lanes
	MOVQ gw+32(FP), CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K4 // the gap's lanes
	KXNORW K2, K2, K2
	VPXORD Z31, Z31, Z31
	MOVL $0x40800000, AX // 4.0
	VPBROADCASTD AX, Z20
	MOVQ dst+0(FP), R14
	MOVQ dstStride+8(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R10 // 3 rows
	LEAQ (R9)(R9*4), R12 // 5 rows
	MOVQ src+16(FP), R13
	MOVQ 0(R13), AX
	MOVQ 8(R13), BX
	MOVQ 16(R13), CX
	MOVQ 24(R13), DX
	MOVQ 32(R13), SI
	MOVQ 40(R13), R8
	CMPQ count+40(FP), $0
	JLE rowsdone
rowschan:
	MOVQ R14, DI
	MOVQ n+24(FP), R13
	XORQ R11, R11
	KMOVW K2, K3
rowsloop:
	CMPQ R13, $16
	JGE rowsfull
	TESTQ R13, R13
	JZ rowsgap
	KMOVW K1, K3
rowsfull:
	VMOVAPS Z31, Z0
	TESTQ AX, AX
	JZ r1
	VMOVUPS.Z (AX)(R11*1), K3, Z0
r1:
	VMOVAPS Z31, Z1
	TESTQ BX, BX
	JZ r2
	VMOVUPS.Z (BX)(R11*1), K3, Z1
r2:
	VMOVAPS Z31, Z2
	TESTQ CX, CX
	JZ r3
	VMOVUPS.Z (CX)(R11*1), K3, Z2
r3:
	VMOVAPS Z31, Z3
	TESTQ DX, DX
	JZ r4
	VMOVUPS.Z (DX)(R11*1), K3, Z3
r4:
	VMOVAPS Z31, Z4
	TESTQ SI, SI
	JZ r5
	VMOVUPS.Z (SI)(R11*1), K3, Z4
r5:
	VMOVAPS Z31, Z5
	TESTQ R8, R8
	JZ rowsmath
	VMOVUPS.Z (R8)(R11*1), K3, Z5
rowsmath:
	VSUBPS Z2, Z4, Z10
	VMOVAPS Z4, Z6
	VFNMADD231PS Z20, Z2, Z6
	VMOVAPS Z3, Z7
	VFNMADD231PS Z20, Z1, Z7
	VADDPS Z7, Z6, Z8
	VSUBPS Z7, Z6, Z9
	VSUBPS Z1, Z3, Z11
	VADDPS Z11, Z11, Z11
	VADDPS Z11, Z10, Z12
	VSUBPS Z11, Z10, Z13
	VSUBPS Z2, Z0, Z14
	VFMADD213PS Z10, Z20, Z14
	VSUBPS Z3, Z1, Z15
	VSUBPS Z3, Z5, Z16
	VFMADD213PS Z16, Z20, Z15
	VMOVUPS Z14, K3, (DI)
	VMOVUPS Z8, K3, (DI)(R9*1)
	VMOVUPS Z9, K3, (DI)(R9*2)
	VMOVUPS Z12, K3, (DI)(R10*1)
	VMOVUPS Z13, K3, (DI)(R9*4)
	VMOVUPS Z15, K3, (DI)(R12*1)
	ADDQ $64, R11
	ADDQ $64, DI
	SUBQ $16, R13
	JG rowsloop
rowsgap:
	MOVQ n+24(FP), R13
	LEAQ (R14)(R13*4), DI
	VMOVUPS Z31, K4, (DI)
	VMOVUPS Z31, K4, (DI)(R9*1)
	VMOVUPS Z31, K4, (DI)(R9*2)
	VMOVUPS Z31, K4, (DI)(R10*1)
	VMOVUPS Z31, K4, (DI)(R9*4)
	VMOVUPS Z31, K4, (DI)(R12*1)
	ADDQ dstStep+56(FP), R14
	TESTQ AX, AX // the next channel's rows; nil stays nil
	JZ s1
	ADDQ R15, AX
s1:
	TESTQ BX, BX
	JZ s2
	ADDQ R15, BX
s2:
	TESTQ CX, CX
	JZ s3
	ADDQ R15, CX
s3:
	TESTQ DX, DX
	JZ s4
	ADDQ R15, DX
s4:
	TESTQ SI, SI
	JZ s5
	ADDQ R15, SI
s5:
	TESTQ R8, R8
	JZ s6
	ADDQ R15, R8
s6:
	DECQ count+40(FP)
	JNZ rowschan
rowsdone:
	VZEROUPPER
	RET

// func winoOutAct16(dst *float32, dstStride int, src *float32, srcStride, n, blocks, srcStep, dstStep int, res *float32, scale, shift, lo, hi float32, flags uint8)
// winoOut16 with directOut16's epilogue: for each of blocks blocks, the
// four rows y = Aᵀ·m over n columns become act(y·scale + shift + res)
// before they are stored (res laid out as dst; flags: 1 floor lo,
// 2 ceiling hi, 4 add res), so no row scratch is written and read back.
// The same operations in the same order as winoOut16 then directOut16.
TEXT ·winoOutAct16(SB), NOSPLIT, $0-89
	MOVQ n+32(FP), CX
	ANDQ $15, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1 // the tail's lanes
	KXNORW K2, K2, K2
	MOVL $0x40000000, AX // 2.0
	VPBROADCASTD AX, Z21
	MOVL $0x40800000, AX // 4.0
	VPBROADCASTD AX, Z20
	MOVL $0x41000000, AX // 8.0
	VPBROADCASTD AX, Z22
	VBROADCASTSS scale+72(FP), Z23
	VBROADCASTSS shift+76(FP), Z24
	VBROADCASTSS lo+80(FP), Z27
	VBROADCASTSS hi+84(FP), Z28
	MOVBLZX flags+88(FP), DX
	MOVQ dst+0(FP), BX
	MOVQ dstStride+8(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R13 // 3 rows
	MOVQ src+16(FP), AX
	MOVQ srcStride+24(FP), R8
	SHLQ $2, R8
	MOVQ res+64(FP), R11
	MOVQ srcStep+48(FP), R14
	SHLQ $2, R14
	MOVQ dstStep+56(FP), R15
	SHLQ $2, R15
	CMPQ blocks+40(FP), $0
	JLE actdone
actblock:
	MOVQ AX, SI // products 0..2
	LEAQ (AX)(R8*2), R10
	ADDQ R8, R10 // products 3..5
	MOVQ BX, DI
	MOVQ R11, R12
	MOVQ n+32(FP), CX
	KMOVW K2, K3
actloop:
	CMPQ CX, $16
	JGE actfull
	TESTQ CX, CX
	JZ actnext
	KMOVW K1, K3
actfull:
	VMOVUPS.Z (SI), K3, Z0
	VMOVUPS.Z (SI)(R8*1), K3, Z1
	VMOVUPS.Z (SI)(R8*2), K3, Z2
	VMOVUPS.Z (R10), K3, Z3
	VMOVUPS.Z (R10)(R8*1), K3, Z4
	VMOVUPS.Z (R10)(R8*2), K3, Z5
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
	VFMADD213PS Z24, Z23, Z10 // y·scale + shift
	VFMADD213PS Z24, Z23, Z11
	VFMADD213PS Z24, Z23, Z12
	VFMADD213PS Z24, Z23, Z13
	TESTQ $4, DX
	JZ actnores
	VMOVUPS.Z (R12), K3, Z14
	VADDPS Z14, Z10, Z10
	VMOVUPS.Z (R12)(R9*1), K3, Z15
	VADDPS Z15, Z11, Z11
	VMOVUPS.Z (R12)(R9*2), K3, Z16
	VADDPS Z16, Z12, Z12
	VMOVUPS.Z (R12)(R13*1), K3, Z17
	VADDPS Z17, Z13, Z13
actnores:
	TESTQ $1, DX
	JZ actnolo
	VMAXPS Z27, Z10, Z10
	VMAXPS Z27, Z11, Z11
	VMAXPS Z27, Z12, Z12
	VMAXPS Z27, Z13, Z13
actnolo:
	TESTQ $2, DX
	JZ actnohi
	VMINPS Z28, Z10, Z10
	VMINPS Z28, Z11, Z11
	VMINPS Z28, Z12, Z12
	VMINPS Z28, Z13, Z13
actnohi:
	VMOVUPS Z10, K3, (DI)
	VMOVUPS Z11, K3, (DI)(R9*1)
	VMOVUPS Z12, K3, (DI)(R9*2)
	VMOVUPS Z13, K3, (DI)(R13*1)
	ADDQ $64, SI
	ADDQ $64, R10
	ADDQ $64, DI
	ADDQ $64, R12
	SUBQ $16, CX
	JG actloop
actnext:
	ADDQ R14, AX
	ADDQ R15, BX
	ADDQ R15, R11 // never read when flags lack 4 (res nil)
	DECQ blocks+40(FP)
	JNZ actblock
actdone:
	VZEROUPPER
	RET
