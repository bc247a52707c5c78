//go:build amd64 && !purego

#include "textflag.h"

// func maxS8x64(dst, a, b *int8, n int)
TEXT ·maxS8x64(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), BX
	MOVQ n+24(FP), CX
loop:
	CMPQ CX, $64
	JLT tail
	VMOVDQU8 (SI), Z0
	VPMAXSB (BX), Z0, Z0
	VMOVDQU8 Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DI
	SUBQ $64, CX
	JMP loop
tail:
	TESTQ CX, CX
	JZ done
	MOVQ $-1, AX
	BZHIQ CX, AX, AX
	KMOVQ AX, K1
	VMOVDQU8.Z (SI), K1, Z0
	VMOVDQU8.Z (BX), K1, Z1
	VPMAXSB Z1, Z0, Z0
	VMOVDQU8 Z0, K1, (DI)
done:
	VZEROUPPER
	RET
