//go:build amd64 && !purego

#include "textflag.h"

// func axpy16(x, y *float32, n int, a float32)
// y[i] += a*x[i] (one FMA each), 16 at a time, masked tail.
TEXT ·axpy16(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	VBROADCASTSS a+24(FP), Z6
loop:
	CMPQ CX, $16
	JLT tail
	VMOVUPS (DI), Z0
	VFMADD231PS (SI), Z6, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP loop
tail:
	TESTQ CX, CX
	JZ done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Z1
	VMOVUPS.Z (DI), K1, Z0
	VFMADD231PS Z1, Z6, Z0
	VMOVUPS Z0, K1, (DI)
done:
	VZEROUPPER
	RET

// func biasClip16(x, y *float32, n int, b, lo, hi float32)
// y = min(max(x + b, lo), hi); a NaN stays NaN, as with Go's min and max.
TEXT ·biasClip16(SB), NOSPLIT, $0-36
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	VBROADCASTSS b+24(FP), Z6
	VBROADCASTSS lo+28(FP), Z7
	VBROADCASTSS hi+32(FP), Z8
bc_loop:
	CMPQ CX, $16
	JLT bc_tail
	VADDPS (SI), Z6, Z0
	VMAXPS Z0, Z7, Z0
	VMINPS Z0, Z8, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP bc_loop
bc_tail:
	TESTQ CX, CX
	JZ bc_done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Z0
	VADDPS Z6, Z0, Z0
	VMAXPS Z0, Z7, Z0
	VMINPS Z0, Z8, Z0
	VMOVUPS Z0, K1, (DI)
bc_done:
	VZEROUPPER
	RET

// func dw9Rows16(src, dst *float32, offs *[9]int, w *float32, rows, n, step int, bias, lo, hi float32)
// For each of rows output rows (n floats each, contiguous in dst): output
// column k is min(max(Σ_t w[t]·src[offs[t]+k] + bias, lo), hi), the nine
// taps multiplied and added in order t = 0..8 (the first a product, the
// others fused multiply-adds). offs are byte offsets from the row's first
// source float; step (bytes) moves src to the next output row's.
TEXT ·dw9Rows16(SB), NOSPLIT, $0-68
	MOVQ rows+32(FP), DX
	TESTQ DX, DX
	JZ dw_done
	MOVQ offs+16(FP), AX
	MOVQ 0(AX), R8
	MOVQ 8(AX), R9
	MOVQ 16(AX), R10
	MOVQ 24(AX), R11
	MOVQ 32(AX), R12
	MOVQ 40(AX), R13
	MOVQ 48(AX), R14
	MOVQ 56(AX), R15
	MOVQ 64(AX), BX
	MOVQ w+24(FP), AX
	VBROADCASTSS 0(AX), Z16
	VBROADCASTSS 4(AX), Z17
	VBROADCASTSS 8(AX), Z18
	VBROADCASTSS 12(AX), Z19
	VBROADCASTSS 16(AX), Z20
	VBROADCASTSS 20(AX), Z21
	VBROADCASTSS 24(AX), Z22
	VBROADCASTSS 28(AX), Z23
	VBROADCASTSS 32(AX), Z24
	VBROADCASTSS bias+56(FP), Z25
	VBROADCASTSS lo+60(FP), Z26
	VBROADCASTSS hi+64(FP), Z27
	MOVQ n+40(FP), CX
	ANDQ $15, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	MOVQ src+0(FP), SI
	MOVQ dst+8(FP), DI
dw_row:
	MOVQ SI, AX
	MOVQ n+40(FP), CX
dw_col:
	CMPQ CX, $16
	JLT dw_tail
	VMULPS (AX)(R8*1), Z16, Z0
	VFMADD231PS (AX)(R9*1), Z17, Z0
	VFMADD231PS (AX)(R10*1), Z18, Z0
	VFMADD231PS (AX)(R11*1), Z19, Z0
	VFMADD231PS (AX)(R12*1), Z20, Z0
	VFMADD231PS (AX)(R13*1), Z21, Z0
	VFMADD231PS (AX)(R14*1), Z22, Z0
	VFMADD231PS (AX)(R15*1), Z23, Z0
	VFMADD231PS (AX)(BX*1), Z24, Z0
	VADDPS Z25, Z0, Z0
	VMAXPS Z0, Z26, Z0
	VMINPS Z0, Z27, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, AX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP dw_col
dw_tail:
	TESTQ CX, CX
	JZ dw_next
	VMOVUPS.Z (AX)(R8*1), K1, Z1
	VMULPS Z1, Z16, Z0
	VMOVUPS.Z (AX)(R9*1), K1, Z1
	VFMADD231PS Z1, Z17, Z0
	VMOVUPS.Z (AX)(R10*1), K1, Z1
	VFMADD231PS Z1, Z18, Z0
	VMOVUPS.Z (AX)(R11*1), K1, Z1
	VFMADD231PS Z1, Z19, Z0
	VMOVUPS.Z (AX)(R12*1), K1, Z1
	VFMADD231PS Z1, Z20, Z0
	VMOVUPS.Z (AX)(R13*1), K1, Z1
	VFMADD231PS Z1, Z21, Z0
	VMOVUPS.Z (AX)(R14*1), K1, Z1
	VFMADD231PS Z1, Z22, Z0
	VMOVUPS.Z (AX)(R15*1), K1, Z1
	VFMADD231PS Z1, Z23, Z0
	VMOVUPS.Z (AX)(BX*1), K1, Z1
	VFMADD231PS Z1, Z24, Z0
	VADDPS Z25, Z0, Z0
	VMAXPS Z0, Z26, Z0
	VMINPS Z0, Z27, Z0
	VMOVUPS Z0, K1, (DI)
	LEAQ (DI)(CX*4), DI
dw_next:
	ADDQ step+48(FP), SI
	DECQ DX
	JNZ dw_row
dw_done:
	VZEROUPPER
	RET

// the even lanes of a pair of vectors, for VPERMT2PS
DATA dwEven<>+0(SB)/4, $0
DATA dwEven<>+4(SB)/4, $2
DATA dwEven<>+8(SB)/4, $4
DATA dwEven<>+12(SB)/4, $6
DATA dwEven<>+16(SB)/4, $8
DATA dwEven<>+20(SB)/4, $10
DATA dwEven<>+24(SB)/4, $12
DATA dwEven<>+28(SB)/4, $14
DATA dwEven<>+32(SB)/4, $16
DATA dwEven<>+36(SB)/4, $18
DATA dwEven<>+40(SB)/4, $20
DATA dwEven<>+44(SB)/4, $22
DATA dwEven<>+48(SB)/4, $24
DATA dwEven<>+52(SB)/4, $26
DATA dwEven<>+56(SB)/4, $28
DATA dwEven<>+60(SB)/4, $30
GLOBL dwEven<>(SB), RODATA|NOPTR, $64

// func copyRows16(src, dst *float32, rows, n, sstep, dstep int)
// Copies rows rows of n floats; sstep and dstep (bytes) move src and dst
// to their next row.
TEXT ·copyRows16(SB), NOSPLIT, $0-48
	MOVQ rows+16(FP), DX
	TESTQ DX, DX
	JZ cr_done
	MOVQ n+24(FP), CX
	ANDQ $15, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	MOVQ src+0(FP), SI
	MOVQ dst+8(FP), DI
	MOVQ sstep+32(FP), R8
	MOVQ dstep+40(FP), R9
	MOVQ n+24(FP), R10
cr_row:
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ R10, CX
cr_loop:
	CMPQ CX, $16
	JLT cr_tail
	VMOVUPS (AX), Z0
	VMOVUPS Z0, (BX)
	ADDQ $64, AX
	ADDQ $64, BX
	SUBQ $16, CX
	JMP cr_loop
cr_tail:
	TESTQ CX, CX
	JZ cr_next
	VMOVUPS.Z (AX), K1, Z0
	VMOVUPS Z0, K1, (BX)
cr_next:
	ADDQ R8, SI
	ADDQ R9, DI
	DECQ DX
	JNZ cr_row
cr_done:
	VZEROUPPER
	RET

// func gather2Rows16(src, dst *float32, rows, n, sstep, dstep int)
// gather2x16 on rows rows: dst[i] = src[2i] for i < n, reading src[0..2n-2]
// of each row only; sstep and dstep (bytes) move to the next row.
TEXT ·gather2Rows16(SB), NOSPLIT, $0-48
	MOVQ rows+16(FP), DX
	TESTQ DX, DX
	JZ gr_done
	MOVQ n+24(FP), R10
	TESTQ R10, R10
	JZ gr_done
	VMOVUPS dwEven<>(SB), Z7
	// the last 1..16 outputs of a row: t = ((n-1) & 15) + 1 of them, from
	// 2t-1 floats: K1 the first min(2t-1, 16), K2 the rest, K3 the stores
	LEAQ -1(R10), CX
	ANDQ $15, CX
	INCQ CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K3
	LEAQ -1(CX)(CX*1), CX
	MOVQ $0xffff, AX
	KMOVW AX, K1
	KXORW K2, K2, K2
	CMPQ CX, $16
	JLT gr_one
	SUBQ $16, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K2
	JMP gr_start
gr_one:
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
gr_start:
	MOVQ src+0(FP), SI
	MOVQ dst+8(FP), DI
	MOVQ sstep+32(FP), R8
	MOVQ dstep+40(FP), R9
gr_row:
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ R10, CX
gr_loop:
	CMPQ CX, $16
	JLE gr_tail
	VMOVUPS (AX), Z0
	VMOVUPS 64(AX), Z1
	VPERMT2PS Z1, Z7, Z0
	VMOVUPS Z0, (BX)
	ADDQ $128, AX
	ADDQ $64, BX
	SUBQ $16, CX
	JMP gr_loop
gr_tail:
	VMOVUPS.Z (AX), K1, Z0
	VMOVUPS.Z 64(AX), K2, Z1
	VPERMT2PS Z1, Z7, Z0
	VMOVUPS Z0, K3, (BX)
	ADDQ R8, SI
	ADDQ R9, DI
	DECQ DX
	JNZ gr_row
gr_done:
	VZEROUPPER
	RET

// func dw9x4Rows16(src, dst *float32, rs int, w *float32, groups, n int, bias, lo, hi float32)
// dw9Rows16 for a stride-1, undilated 3x3 plane, four output rows at a
// time (groups of them): tap (i, j) of output row r reads padded row r+i
// from column j on (rs bytes per padded row), so each loaded vector of
// the six padded rows serves up to three of the four rows, and the four
// rows' sums are independent chains. Every output still sums its nine
// taps in order (i, j) with the same multiply and fused multiply-adds,
// then adds the bias and clamps, as dw9Rows16 does.
TEXT ·dw9x4Rows16(SB), NOSPLIT, $0-60
	MOVQ groups+32(FP), DX
	TESTQ DX, DX
	JZ dw4_done
	MOVQ w+24(FP), AX
	VBROADCASTSS 0(AX), Z16
	VBROADCASTSS 4(AX), Z17
	VBROADCASTSS 8(AX), Z18
	VBROADCASTSS 12(AX), Z19
	VBROADCASTSS 16(AX), Z20
	VBROADCASTSS 20(AX), Z21
	VBROADCASTSS 24(AX), Z22
	VBROADCASTSS 28(AX), Z23
	VBROADCASTSS 32(AX), Z24
	VBROADCASTSS bias+48(FP), Z25
	VBROADCASTSS lo+52(FP), Z26
	VBROADCASTSS hi+56(FP), Z27
	MOVQ rs+16(FP), R9
	LEAQ (R9)(R9*2), R10
	LEAQ (R9)(R9*4), R11
	MOVQ n+40(FP), R12
	SHLQ $2, R12
	LEAQ (R12)(R12*2), R13
	MOVQ n+40(FP), CX
	ANDQ $15, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	MOVQ src+0(FP), SI
	MOVQ dst+8(FP), DI
dw4_group:
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ n+40(FP), CX
dw4_col:
	CMPQ CX, $16
	JLT dw4_tail
	VMOVUPS (AX), Z4
	VMULPS Z4, Z16, Z0
	VMOVUPS 4(AX), Z4
	VFMADD231PS Z4, Z17, Z0
	VMOVUPS 8(AX), Z4
	VFMADD231PS Z4, Z18, Z0
	VMOVUPS (AX)(R9*1), Z4
	VFMADD231PS Z4, Z19, Z0
	VMULPS Z4, Z16, Z1
	VMOVUPS 4(AX)(R9*1), Z4
	VFMADD231PS Z4, Z20, Z0
	VFMADD231PS Z4, Z17, Z1
	VMOVUPS 8(AX)(R9*1), Z4
	VFMADD231PS Z4, Z21, Z0
	VFMADD231PS Z4, Z18, Z1
	VMOVUPS (AX)(R9*2), Z4
	VFMADD231PS Z4, Z22, Z0
	VFMADD231PS Z4, Z19, Z1
	VMULPS Z4, Z16, Z2
	VMOVUPS 4(AX)(R9*2), Z4
	VFMADD231PS Z4, Z23, Z0
	VFMADD231PS Z4, Z20, Z1
	VFMADD231PS Z4, Z17, Z2
	VMOVUPS 8(AX)(R9*2), Z4
	VFMADD231PS Z4, Z24, Z0
	VFMADD231PS Z4, Z21, Z1
	VFMADD231PS Z4, Z18, Z2
	VMOVUPS (AX)(R10*1), Z4
	VFMADD231PS Z4, Z22, Z1
	VFMADD231PS Z4, Z19, Z2
	VMULPS Z4, Z16, Z3
	VMOVUPS 4(AX)(R10*1), Z4
	VFMADD231PS Z4, Z23, Z1
	VFMADD231PS Z4, Z20, Z2
	VFMADD231PS Z4, Z17, Z3
	VMOVUPS 8(AX)(R10*1), Z4
	VFMADD231PS Z4, Z24, Z1
	VFMADD231PS Z4, Z21, Z2
	VFMADD231PS Z4, Z18, Z3
	VMOVUPS (AX)(R9*4), Z4
	VFMADD231PS Z4, Z22, Z2
	VFMADD231PS Z4, Z19, Z3
	VMOVUPS 4(AX)(R9*4), Z4
	VFMADD231PS Z4, Z23, Z2
	VFMADD231PS Z4, Z20, Z3
	VMOVUPS 8(AX)(R9*4), Z4
	VFMADD231PS Z4, Z24, Z2
	VFMADD231PS Z4, Z21, Z3
	VMOVUPS (AX)(R11*1), Z4
	VFMADD231PS Z4, Z22, Z3
	VMOVUPS 4(AX)(R11*1), Z4
	VFMADD231PS Z4, Z23, Z3
	VMOVUPS 8(AX)(R11*1), Z4
	VFMADD231PS Z4, Z24, Z3
	VADDPS Z25, Z0, Z0
	VMAXPS Z0, Z26, Z0
	VMINPS Z0, Z27, Z0
	VMOVUPS Z0, (BX)
	VADDPS Z25, Z1, Z1
	VMAXPS Z1, Z26, Z1
	VMINPS Z1, Z27, Z1
	VMOVUPS Z1, (BX)(R12*1)
	VADDPS Z25, Z2, Z2
	VMAXPS Z2, Z26, Z2
	VMINPS Z2, Z27, Z2
	VMOVUPS Z2, (BX)(R12*2)
	VADDPS Z25, Z3, Z3
	VMAXPS Z3, Z26, Z3
	VMINPS Z3, Z27, Z3
	VMOVUPS Z3, (BX)(R13*1)
	ADDQ $64, AX
	ADDQ $64, BX
	SUBQ $16, CX
	JMP dw4_col
dw4_tail:
	TESTQ CX, CX
	JZ dw4_next
	VMOVUPS.Z (AX), K1, Z4
	VMULPS Z4, Z16, Z0
	VMOVUPS.Z 4(AX), K1, Z4
	VFMADD231PS Z4, Z17, Z0
	VMOVUPS.Z 8(AX), K1, Z4
	VFMADD231PS Z4, Z18, Z0
	VMOVUPS.Z (AX)(R9*1), K1, Z4
	VFMADD231PS Z4, Z19, Z0
	VMULPS Z4, Z16, Z1
	VMOVUPS.Z 4(AX)(R9*1), K1, Z4
	VFMADD231PS Z4, Z20, Z0
	VFMADD231PS Z4, Z17, Z1
	VMOVUPS.Z 8(AX)(R9*1), K1, Z4
	VFMADD231PS Z4, Z21, Z0
	VFMADD231PS Z4, Z18, Z1
	VMOVUPS.Z (AX)(R9*2), K1, Z4
	VFMADD231PS Z4, Z22, Z0
	VFMADD231PS Z4, Z19, Z1
	VMULPS Z4, Z16, Z2
	VMOVUPS.Z 4(AX)(R9*2), K1, Z4
	VFMADD231PS Z4, Z23, Z0
	VFMADD231PS Z4, Z20, Z1
	VFMADD231PS Z4, Z17, Z2
	VMOVUPS.Z 8(AX)(R9*2), K1, Z4
	VFMADD231PS Z4, Z24, Z0
	VFMADD231PS Z4, Z21, Z1
	VFMADD231PS Z4, Z18, Z2
	VMOVUPS.Z (AX)(R10*1), K1, Z4
	VFMADD231PS Z4, Z22, Z1
	VFMADD231PS Z4, Z19, Z2
	VMULPS Z4, Z16, Z3
	VMOVUPS.Z 4(AX)(R10*1), K1, Z4
	VFMADD231PS Z4, Z23, Z1
	VFMADD231PS Z4, Z20, Z2
	VFMADD231PS Z4, Z17, Z3
	VMOVUPS.Z 8(AX)(R10*1), K1, Z4
	VFMADD231PS Z4, Z24, Z1
	VFMADD231PS Z4, Z21, Z2
	VFMADD231PS Z4, Z18, Z3
	VMOVUPS.Z (AX)(R9*4), K1, Z4
	VFMADD231PS Z4, Z22, Z2
	VFMADD231PS Z4, Z19, Z3
	VMOVUPS.Z 4(AX)(R9*4), K1, Z4
	VFMADD231PS Z4, Z23, Z2
	VFMADD231PS Z4, Z20, Z3
	VMOVUPS.Z 8(AX)(R9*4), K1, Z4
	VFMADD231PS Z4, Z24, Z2
	VFMADD231PS Z4, Z21, Z3
	VMOVUPS.Z (AX)(R11*1), K1, Z4
	VFMADD231PS Z4, Z22, Z3
	VMOVUPS.Z 4(AX)(R11*1), K1, Z4
	VFMADD231PS Z4, Z23, Z3
	VMOVUPS.Z 8(AX)(R11*1), K1, Z4
	VFMADD231PS Z4, Z24, Z3
	VADDPS Z25, Z0, Z0
	VMAXPS Z0, Z26, Z0
	VMINPS Z0, Z27, Z0
	VMOVUPS Z0, K1, (BX)
	VADDPS Z25, Z1, Z1
	VMAXPS Z1, Z26, Z1
	VMINPS Z1, Z27, Z1
	VMOVUPS Z1, K1, (BX)(R12*1)
	VADDPS Z25, Z2, Z2
	VMAXPS Z2, Z26, Z2
	VMINPS Z2, Z27, Z2
	VMOVUPS Z2, K1, (BX)(R12*2)
	VADDPS Z25, Z3, Z3
	VMAXPS Z3, Z26, Z3
	VMINPS Z3, Z27, Z3
	VMOVUPS Z3, K1, (BX)(R13*1)
dw4_next:
	LEAQ (SI)(R9*4), SI
	LEAQ (DI)(R12*4), DI
	DECQ DX
	JNZ dw4_group
dw4_done:
	VZEROUPPER
	RET
