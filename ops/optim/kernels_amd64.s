//go:build amd64 && !purego

#include "textflag.h"

// AVX-512 optimizer loops, 16 elements a step, n a multiple of 16. They
// perform kernels.go's float32 operations in its order, with no fused
// multiply-add, so they match the Go loops bit for bit.

// func sgdMomentum16(w, grad, buf *float32, n int, lr, wd, mom, damp float32)
TEXT ·sgdMomentum16(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ buf+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS lr+32(FP), Z8
	VBROADCASTSS wd+36(FP), Z9
	VBROADCASTSS mom+40(FP), Z10
	VBROADCASTSS damp+44(FP), Z11
sgd_loop:
	CMPQ CX, $16
	JLT sgd_done
	VMOVUPS (DI), Z0        // w
	VMULPS Z0, Z9, Z1       // wd·w
	VADDPS (SI), Z1, Z1     // g = grad + wd·w
	VMULPS (DX), Z10, Z2    // mom·buf
	VMULPS Z1, Z11, Z3      // damp·g
	VADDPS Z3, Z2, Z2       // buf = mom·buf + damp·g
	VMOVUPS Z2, (DX)
	VMULPS Z2, Z8, Z4       // lr·buf
	VSUBPS Z4, Z0, Z0       // w - lr·buf
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, DX
	SUBQ $16, CX
	JMP sgd_loop
sgd_done:
	VZEROUPPER
	RET

// func adamW16(w, grad, m, v *float32, n int, h *adamHyper)
// adamHyper: decay+0, b1+4, c1+8, b2+12, c2+16, invBC2+20, eps+24, step+28.
TEXT ·adamW16(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), DX
	MOVQ v+24(FP), BX
	MOVQ n+32(FP), CX
	MOVQ h+40(FP), AX
	VBROADCASTSS 0(AX), Z8   // decay
	VBROADCASTSS 4(AX), Z9   // b1
	VBROADCASTSS 8(AX), Z10  // c1
	VBROADCASTSS 12(AX), Z11 // b2
	VBROADCASTSS 16(AX), Z12 // c2
	VBROADCASTSS 20(AX), Z13 // invBC2
	VBROADCASTSS 24(AX), Z14 // eps
	VBROADCASTSS 28(AX), Z15 // step
adam_loop:
	CMPQ CX, $16
	JLT adam_done
	VMOVUPS (SI), Z0        // g
	VMULPS (DI), Z8, Z1     // w·decay
	VMULPS (DX), Z9, Z2     // b1·m
	VMULPS Z0, Z10, Z3      // c1·g
	VADDPS Z3, Z2, Z2       // m
	VMOVUPS Z2, (DX)
	VMULPS Z0, Z12, Z4      // c2·g
	VMULPS Z0, Z4, Z4       // c2·g·g
	VMULPS (BX), Z11, Z5    // b2·v
	VADDPS Z4, Z5, Z5       // v
	VMOVUPS Z5, (BX)
	VSQRTPS Z5, Z6          // sqrt(v)
	VMULPS Z13, Z6, Z6      // ·invBC2
	VADDPS Z14, Z6, Z6      // + eps
	VMULPS Z2, Z15, Z7      // step·m
	VDIVPS Z6, Z7, Z7       // / denom
	VSUBPS Z7, Z1, Z1       // w - ...
	VMOVUPS Z1, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, BX
	SUBQ $16, CX
	JMP adam_loop
adam_done:
	VZEROUPPER
	RET
