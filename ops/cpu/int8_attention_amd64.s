//go:build amd64 && !purego

#include "textflag.h"

// Kernels of int8_attention.go (AVX-512 and VNNI). Each mirrors a Go
// reference in that file operation for operation.

// func quantS8Row(x *float32, n int, inv float32, q *int8)
TEXT ·quantS8Row(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS inv+16(FP), Z1
	MOVQ q+24(FP), DI
	MOVL $0x42fe0000, AX // 127.0
	VPBROADCASTD AX, Z2
	MOVL $0xc3000000, AX // -128.0
	VPBROADCASTD AX, Z3
qs_loop:
	CMPQ CX, $16
	JLT qs_tail
	VMULPS (SI), Z1, Z0
	VMINPS Z2, Z0, Z0
	VMAXPS Z3, Z0, Z0
	VCVTPS2DQ Z0, Z0
	VPMOVSDB Z0, (DI)
	ADDQ $64, SI
	ADDQ $16, DI
	SUBQ $16, CX
	JMP qs_loop
qs_tail:
	TESTQ CX, CX
	JZ qs_done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Z0
	VMULPS Z0, Z1, Z0
	VMINPS Z2, Z0, Z0
	VMAXPS Z3, Z0, Z0
	VCVTPS2DQ Z0, Z0
	VPMOVSDB Z0, K1, (DI)
qs_done:
	VZEROUPPER
	RET

// func quantU8Row(x *float32, n int, f float32, q *uint8)
TEXT ·quantU8Row(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS f+16(FP), Z1
	MOVQ q+24(FP), DI
	MOVL $0x437f0000, AX // 255.0
	VPBROADCASTD AX, Z2
	VPXORD Z3, Z3, Z3
qu_loop:
	CMPQ CX, $16
	JLT qu_tail
	VMULPS (SI), Z1, Z0
	VMINPS Z2, Z0, Z0
	VMAXPS Z3, Z0, Z0
	VCVTPS2DQ Z0, Z0
	VPMOVUSDB Z0, (DI)
	ADDQ $64, SI
	ADDQ $16, DI
	SUBQ $16, CX
	JMP qu_loop
qu_tail:
	TESTQ CX, CX
	JZ qu_done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Z0
	VMULPS Z0, Z1, Z0
	VMINPS Z2, Z0, Z0
	VMAXPS Z3, Z0, Z0
	VCVTPS2DQ Z0, Z0
	VPMOVUSDB Z0, K1, (DI)
qu_done:
	VZEROUPPER
	RET

// func qkScoresVNNI(q *int8, ldq, rows int, kp *uint8, groups, blocks int, corr *int32, alpha float32, table *float32, ldt int, out *float32)
//
// out[i, 16b+c] = float32(corr[i] + Σ_g dot4(q[i, 4g:4g+4], kp[g, b, c])) · alpha + table[i·ldt + 16b+c]
// for b < blocks; out's row stride is 16·blocks.
TEXT ·qkScoresVNNI(SB), NOSPLIT, $0-88
	MOVQ q+0(FP), SI
	MOVQ ldq+8(FP), R8
	MOVQ rows+16(FP), R9
	MOVQ groups+32(FP), R11
	MOVQ blocks+40(FP), R12
	MOVQ corr+48(FP), R13
	VBROADCASTSS alpha+56(FP), Z31
	MOVQ table+64(FP), R14
	MOVQ ldt+72(FP), R15
	SHLQ $2, R15
	MOVQ out+80(FP), DI
	MOVQ R12, BX
	SHLQ $6, BX // bytes per group in kp, and per out row
	TESTQ R9, R9
	JZ qk_done
qk_row:
	MOVQ kp+24(FP), R10
	XORQ CX, CX // block
qk_block:
	VPBROADCASTD (R13), Z0
	MOVQ R10, DX
	MOVQ SI, AX
	MOVQ R11, R12
qk_group:
	VMOVDQU32 (DX), Z1
	VPDPBUSD.BCST (AX), Z1, Z0
	ADDQ BX, DX
	ADDQ $4, AX
	DECQ R12
	JNZ qk_group
	VCVTDQ2PS Z0, Z0
	VMULPS Z31, Z0, Z0
	MOVQ CX, AX
	SHLQ $6, AX
	VADDPS (R14)(AX*1), Z0, Z0
	VMOVUPS Z0, (DI)(AX*1)
	ADDQ $64, R10
	INCQ CX
	MOVQ BX, AX
	SHRQ $6, AX
	CMPQ CX, AX
	JLT qk_block
	ADDQ R8, SI
	ADDQ $4, R13
	ADDQ R15, R14
	ADDQ BX, DI
	DECQ R9
	JNZ qk_row
qk_done:
	VZEROUPPER
	RET

// func avRequantVNNI(p *uint8, ldp, rows int, vp *int8, groups, blocks int, f float32, out *int8, ldo int)
//
// out[i·ldo + 16b+c] = sat8(roundEven(float32(Σ_g dot4(p[i, 4g:4g+4], vp[g, b, c])) · f))
TEXT ·avRequantVNNI(SB), NOSPLIT, $0-72
	MOVQ p+0(FP), SI
	MOVQ ldp+8(FP), R8
	MOVQ rows+16(FP), R9
	MOVQ groups+32(FP), R11
	MOVQ blocks+40(FP), R12
	VBROADCASTSS f+48(FP), Z31
	MOVQ out+56(FP), DI
	MOVQ ldo+64(FP), R15
	MOVL $0x42fe0000, AX // 127.0
	VPBROADCASTD AX, Z29
	MOVL $0xc3000000, AX // -128.0
	VPBROADCASTD AX, Z30
	MOVQ R12, BX
	SHLQ $6, BX // bytes per group in vp
	TESTQ R9, R9
	JZ av_done
av_row:
	MOVQ vp+24(FP), R10
	XORQ CX, CX
av_block:
	VPXORD Z0, Z0, Z0
	MOVQ R10, DX
	MOVQ SI, AX
	MOVQ R11, R13
av_group:
	VPBROADCASTD (AX), Z1
	VPDPBUSD (DX), Z1, Z0
	ADDQ BX, DX
	ADDQ $4, AX
	DECQ R13
	JNZ av_group
	VCVTDQ2PS Z0, Z0
	VMULPS Z31, Z0, Z0
	VMINPS Z29, Z0, Z0
	VMAXPS Z30, Z0, Z0
	VCVTPS2DQ Z0, Z0
	MOVQ CX, AX
	SHLQ $4, AX
	VPMOVSDB Z0, (DI)(AX*1)
	ADDQ $64, R10
	INCQ CX
	CMPQ CX, R12
	JLT av_block
	ADDQ R8, SI
	ADDQ R15, DI
	DECQ R9
	JNZ av_row
av_done:
	VZEROUPPER
	RET

// func rowsQuantU8(e *float32, rows, blocks int, tiny float32, p *uint8, ldp int) (bad int)
//
// Per row i of e (16·blocks floats, exponentials ≥ 0): s = Σ e[i,:]; if
// s < tiny the row is skipped and counted, else p[i·ldp + j] =
// satu8(roundEven(e[i,j]·(255/s))) for j < 16·blocks (writes may run
// 16·blocks - ldp bytes into the next row, which that row overwrites).
TEXT ·rowsQuantU8(SB), NOSPLIT, $0-56
	MOVQ e+0(FP), SI
	MOVQ rows+8(FP), R9
	MOVQ blocks+16(FP), R12
	VBROADCASTSS tiny+24(FP), X7
	MOVQ p+32(FP), DI
	MOVQ ldp+40(FP), R15
	XORQ R10, R10 // bad rows
	MOVL $0x437f0000, AX // 255.0
	VPBROADCASTD AX, Z2
	VMOVD AX, X6
	VPXORD Z3, Z3, Z3
	TESTQ R9, R9
	JZ rq_done
rq_row:
	VPXORD Z0, Z0, Z0
	MOVQ SI, DX
	MOVQ R12, CX
rq_sum:
	VADDPS (DX), Z0, Z0
	ADDQ $64, DX
	DECQ CX
	JNZ rq_sum
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VMOVHLPS X0, X0, X1
	VADDPS X1, X0, X0
	VPSHUFD $1, X0, X1
	VADDSS X1, X0, X0
	VUCOMISS X7, X0
	JCS rq_bad
	VDIVSS X0, X6, X1
	VBROADCASTSS X1, Z1
	MOVQ SI, DX
	MOVQ DI, AX
	MOVQ R12, CX
rq_quant:
	VMULPS (DX), Z1, Z0
	VMINPS Z2, Z0, Z0
	VMAXPS Z3, Z0, Z0
	VCVTPS2DQ Z0, Z0
	VPMOVUSDB Z0, (AX)
	ADDQ $64, DX
	ADDQ $16, AX
	DECQ CX
	JNZ rq_quant
	JMP rq_next
rq_bad:
	INCQ R10
rq_next:
	MOVQ R12, AX
	SHLQ $6, AX
	ADDQ AX, SI
	ADDQ R15, DI
	DECQ R9
	JNZ rq_row
rq_done:
	MOVQ R10, bad+48(FP)
	VZEROUPPER
	RET
