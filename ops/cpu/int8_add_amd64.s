//go:build amd64 && !purego

#include "textflag.h"

// Both kernels handle n/16 blocks of 16 (the caller does the rest):
// v = a + b, v = max(v, lo), then quantS8Row's q = sat8(roundEven(v·inv)).

// func addQFQuantS8Row(q *int8, s float32, f *float32, n int, inv float32, lo float32, out *int8)
TEXT ·addQFQuantS8Row(SB), NOSPLIT, $0-48
	MOVQ q+0(FP), SI
	VBROADCASTSS s+8(FP), Z4
	MOVQ f+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS inv+32(FP), Z1
	VBROADCASTSS lo+36(FP), Z5
	MOVQ out+40(FP), DI
	MOVL $0x42fe0000, AX // 127.0
	VPBROADCASTD AX, Z2
	MOVL $0xc3000000, AX // -128.0
	VPBROADCASTD AX, Z3
	SHRQ $4, CX
	JZ aqf_done
aqf_loop:
	VPMOVSXBD (SI), Z0
	VCVTDQ2PS Z0, Z0
	VMULPS Z4, Z0, Z0
	VADDPS (DX), Z0, Z0
	VMAXPS Z5, Z0, Z0
	VMULPS Z1, Z0, Z0
	VMINPS Z2, Z0, Z0
	VMAXPS Z3, Z0, Z0
	VCVTPS2DQ Z0, Z0
	VPMOVSDB Z0, (DI)
	ADDQ $16, SI
	ADDQ $64, DX
	ADDQ $16, DI
	DECQ CX
	JNZ aqf_loop
aqf_done:
	VZEROUPPER
	RET

// func addFFQuantS8Row(a *float32, b *float32, n int, inv float32, lo float32, out *int8)
TEXT ·addFFQuantS8Row(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DX
	MOVQ n+16(FP), CX
	VBROADCASTSS inv+24(FP), Z1
	VBROADCASTSS lo+28(FP), Z5
	MOVQ out+32(FP), DI
	MOVL $0x42fe0000, AX // 127.0
	VPBROADCASTD AX, Z2
	MOVL $0xc3000000, AX // -128.0
	VPBROADCASTD AX, Z3
	SHRQ $4, CX
	JZ aff_done
aff_loop:
	VMOVUPS (SI), Z0
	VADDPS (DX), Z0, Z0
	VMAXPS Z5, Z0, Z0
	VMULPS Z1, Z0, Z0
	VMINPS Z2, Z0, Z0
	VMAXPS Z3, Z0, Z0
	VCVTPS2DQ Z0, Z0
	VPMOVSDB Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $16, DI
	DECQ CX
	JNZ aff_loop
aff_done:
	VZEROUPPER
	RET
