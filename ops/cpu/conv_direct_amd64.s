//go:build amd64 && !purego

#include "textflag.h"

// func directOut16(src *float32, lds int, dst, res *float32, rows, cols int, scale, shift float32, relu bool)
// For rows rows of cols floats (src rows lds floats apart, dst and res
// rows packed): dst = act(src·scale + shift + res), res skipped when nil,
// act max(·, 0) when relu. One FMA per element, 16 at a time, masked tail.
TEXT ·directOut16(SB), NOSPLIT, $0-57
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), R8
	SHLQ $2, R8
	MOVQ dst+16(FP), DI
	MOVQ res+24(FP), BX
	MOVQ rows+32(FP), R9
	MOVQ cols+40(FP), R10
	VBROADCASTSS scale+48(FP), Z6
	VBROADCASTSS shift+52(FP), Z7
	MOVBLZX relu+56(FP), DX
	VPXORD Z27, Z27, Z27
	MOVQ R10, CX
	ANDQ $15, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	TESTQ R9, R9
	JZ done
row:
	XORQ R11, R11
	MOVQ R10, CX
col:
	CMPQ CX, $16
	JLT tail
	VMOVUPS (SI)(R11*1), Z0
	VFMADD213PS Z7, Z6, Z0
	TESTQ BX, BX
	JZ nores
	VADDPS (BX)(R11*1), Z0, Z0
nores:
	TESTQ DX, DX
	JZ norelu
	VMAXPS Z27, Z0, Z0
norelu:
	VMOVUPS Z0, (DI)(R11*1)
	ADDQ $64, R11
	SUBQ $16, CX
	JMP col
tail:
	TESTQ CX, CX
	JZ next
	VMOVUPS.Z (SI)(R11*1), K1, Z0
	VFMADD213PS Z7, Z6, Z0
	TESTQ BX, BX
	JZ tnores
	VMOVUPS.Z (BX)(R11*1), K1, Z1
	VADDPS Z1, Z0, Z0
tnores:
	TESTQ DX, DX
	JZ tnorelu
	VMAXPS Z27, Z0, Z0
tnorelu:
	VMOVUPS Z0, K1, (DI)(R11*1)
next:
	ADDQ R8, SI
	LEAQ (DI)(R10*4), DI
	TESTQ BX, BX
	JZ nobx
	LEAQ (BX)(R10*4), BX
nobx:
	DECQ R9
	JNZ row
done:
	VZEROUPPER
	RET
