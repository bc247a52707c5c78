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
