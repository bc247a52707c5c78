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

// func maxPool2x2S8(dst, r0, r1 *int8, c, outW int)
TEXT ·maxPool2x2S8(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ r0+8(FP), SI
	MOVQ r1+16(FP), BX
	MOVQ c+24(FP), CX
	MOVQ outW+32(FP), DX
	MOVQ CX, AX
	ANDQ $63, AX
	MOVQ $-1, R9
	BZHIQ AX, R9, R9
	KMOVQ R9, K1 // the last partial chunk of a pixel
	MOVQ CX, R10
	ANDQ $-64, R10 // bytes of whole chunks
pixel:
	TESTQ DX, DX
	JZ done
	LEAQ (SI)(CX*1), R11 // the right-hand pixel of the pair, top row
	LEAQ (BX)(CX*1), R12 // and bottom row
	XORQ R8, R8
chunk:
	CMPQ R8, R10
	JGE tail
	VMOVDQU8 (SI)(R8*1), Z0
	VPMAXSB (R11)(R8*1), Z0, Z0
	VPMAXSB (BX)(R8*1), Z0, Z0
	VPMAXSB (R12)(R8*1), Z0, Z0
	VMOVDQU8 Z0, (DI)(R8*1)
	ADDQ $64, R8
	JMP chunk
tail:
	CMPQ R8, CX
	JGE next
	VMOVDQU8.Z (SI)(R8*1), K1, Z0
	VMOVDQU8.Z (R11)(R8*1), K1, Z1
	VMOVDQU8.Z (BX)(R8*1), K1, Z2
	VMOVDQU8.Z (R12)(R8*1), K1, Z3
	VPMAXSB Z1, Z0, Z0
	VPMAXSB Z3, Z2, Z2
	VPMAXSB Z2, Z0, Z0
	VMOVDQU8 Z0, K1, (DI)(R8*1)
next:
	ADDQ CX, DI
	LEAQ (SI)(CX*2), SI
	LEAQ (BX)(CX*2), BX
	DECQ DX
	JMP pixel
done:
	VZEROUPPER
	RET
