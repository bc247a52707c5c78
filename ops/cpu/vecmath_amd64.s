//go:build amd64 && !purego

#include "textflag.h"

// RANGEMASKS: K1|K2 = lanes [lo, hi) of a 32-lane row, K3|K4 = lanes
// [0, n); from lo+56, hi+64, n+32 of the frame (im2col/col2im args).
#define RANGEMASKS \
	MOVQ hi+64(FP), CX \
	MOVQ $1, AX \
	SHLQ CX, AX \
	DECQ AX \
	MOVQ lo+56(FP), CX \
	MOVQ $1, DX \
	SHLQ CX, DX \
	DECQ DX \
	NOTQ DX \
	ANDQ DX, AX \
	KMOVW AX, K1 \
	SHRQ $16, AX \
	KMOVW AX, K2 \
	MOVQ n+32(FP), CX \
	MOVQ $1, AX \
	SHLQ CX, AX \
	DECQ AX \
	KMOVW AX, K3 \
	SHRQ $16, AX \
	KMOVW AX, K4

// AVX-512 loops for exp (softmax rows) and GELU. They follow exp32 and
// erfExp in fastmath.go lane for lane: Cephes expf with the same
// reduction and polynomial (2^n applied with vscalefps, which also gives
// +Inf above and 0 below the float32 range), and erf from the Taylor
// series below |z| = 0.5 and Abramowitz-Stegun 7.1.26 above, blended per
// lane. Tails use k-masked loads and stores.

DATA vmC<>+0(SB)/4, $-104.0
DATA vmC<>+4(SB)/4, $89.0
DATA vmC<>+8(SB)/4, $1.44269504088896341
DATA vmC<>+12(SB)/4, $0.693359375
DATA vmC<>+16(SB)/4, $-2.12194440e-4
DATA vmC<>+20(SB)/4, $1.9875691500e-4
DATA vmC<>+24(SB)/4, $1.3981999507e-3
DATA vmC<>+28(SB)/4, $8.3334519073e-3
DATA vmC<>+32(SB)/4, $4.1665795894e-2
DATA vmC<>+36(SB)/4, $1.6666665459e-1
DATA vmC<>+40(SB)/4, $5.0000001201e-1
DATA vmC<>+44(SB)/4, $1.0
DATA vmC<>+48(SB)/4, $0.7071067811865476
DATA vmC<>+52(SB)/4, $0.5
DATA vmC<>+56(SB)/4, $0x7fffffff
DATA vmC<>+60(SB)/4, $0.3275911
DATA vmC<>+64(SB)/4, $0.254829592
DATA vmC<>+68(SB)/4, $-0.284496736
DATA vmC<>+72(SB)/4, $1.421413741
DATA vmC<>+76(SB)/4, $-1.453152027
DATA vmC<>+80(SB)/4, $1.061405429
DATA vmC<>+84(SB)/4, $1.1283791670955126
DATA vmC<>+88(SB)/4, $-0.3333333333333333
DATA vmC<>+92(SB)/4, $0.1
DATA vmC<>+96(SB)/4, $-0.023809523809523808
DATA vmC<>+100(SB)/4, $0.004629629629629629
DATA vmC<>+104(SB)/4, $-0.0007575757575757576
DATA vmC<>+108(SB)/4, $0.3989422804014327
DATA vmC<>+112(SB)/4, $0xff800000
DATA vmC<>+116(SB)/4, $0x80000000
GLOBL vmC<>(SB), RODATA|NOPTR, $120

// Z8..Z19: exp constants.
#define LOADEXP \
	VBROADCASTSS vmC<>+0(SB), Z8 \
	VBROADCASTSS vmC<>+4(SB), Z9 \
	VBROADCASTSS vmC<>+8(SB), Z10 \
	VBROADCASTSS vmC<>+12(SB), Z11 \
	VBROADCASTSS vmC<>+16(SB), Z12 \
	VBROADCASTSS vmC<>+20(SB), Z13 \
	VBROADCASTSS vmC<>+24(SB), Z14 \
	VBROADCASTSS vmC<>+28(SB), Z15 \
	VBROADCASTSS vmC<>+32(SB), Z16 \
	VBROADCASTSS vmC<>+36(SB), Z17 \
	VBROADCASTSS vmC<>+40(SB), Z18 \
	VBROADCASTSS vmC<>+44(SB), Z19

// EXP(x, n, t): x = e^x; n and t are clobbered.
#define EXP(x, n, t) \
	VMAXPS x, Z8, x \
	VMINPS x, Z9, x \
	VMULPS Z10, x, n \
	VRNDSCALEPS $0, n, n \
	VFNMADD231PS Z11, n, x \
	VFNMADD231PS Z12, n, x \
	VMOVAPS Z13, t \
	VFMADD213PS Z14, x, t \
	VFMADD213PS Z15, x, t \
	VFMADD213PS Z16, x, t \
	VFMADD213PS Z17, x, t \
	VFMADD213PS Z18, x, t \
	VMULPS x, x, Z7 \
	VFMADD213PS x, Z7, t \
	VADDPS Z19, t, t \
	VSCALEFPS n, t, x

// Z20..Z31: GELU constants.
#define LOADGELU \
	VBROADCASTSS vmC<>+48(SB), Z20 \
	VBROADCASTSS vmC<>+52(SB), Z21 \
	VBROADCASTSS vmC<>+56(SB), Z22 \
	VBROADCASTSS vmC<>+60(SB), Z23 \
	VBROADCASTSS vmC<>+64(SB), Z24 \
	VBROADCASTSS vmC<>+68(SB), Z25 \
	VBROADCASTSS vmC<>+72(SB), Z26 \
	VBROADCASTSS vmC<>+76(SB), Z27 \
	VBROADCASTSS vmC<>+80(SB), Z28 \
	VBROADCASTSS vmC<>+84(SB), Z29 \
	VBROADCASTSS vmC<>+108(SB), Z30 \
	VPXORD Z31, Z31, Z31

// ERF(x): Z1 = erf(x/√2), Z3 = e^{-x²/2}; clobbers Z2, Z4..Z7, K2.
#define ERF(x) \
	VMULPS Z20, x, Z1 \
	VPANDD Z22, Z1, Z2 \
	VMOVAPS Z2, Z3 \
	VFNMADD213PS Z31, Z2, Z3 \
	EXP(Z3, Z4, Z5) \
	VMULPS Z1, Z1, Z6 \
	VBROADCASTSS vmC<>+104(SB), Z4 \
	VFMADD213PS.BCST vmC<>+100(SB), Z6, Z4 \
	VFMADD213PS.BCST vmC<>+96(SB), Z6, Z4 \
	VFMADD213PS.BCST vmC<>+92(SB), Z6, Z4 \
	VFMADD213PS.BCST vmC<>+88(SB), Z6, Z4 \
	VFMADD213PS Z19, Z6, Z4 \
	VMULPS Z29, Z4, Z4 \
	VMULPS Z1, Z4, Z4 \
	VMOVAPS Z2, Z5 \
	VFMADD213PS Z19, Z23, Z5 \
	VDIVPS Z5, Z19, Z5 \
	VMOVAPS Z28, Z6 \
	VFMADD213PS Z27, Z5, Z6 \
	VFMADD213PS Z26, Z5, Z6 \
	VFMADD213PS Z25, Z5, Z6 \
	VFMADD213PS Z24, Z5, Z6 \
	VMULPS Z5, Z6, Z6 \
	VFNMADD213PS Z19, Z3, Z6 \
	VPXORD Z2, Z1, Z5 \
	VPXORD Z5, Z6, Z6 \
	VCMPPS $1, Z21, Z2, K2 \
	VBLENDMPS Z4, Z6, K2, Z1

// func maxRow16(x *float32, n int) float32
TEXT ·maxRow16(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS vmC<>+112(SB), Z0
	VMOVAPS Z0, Z2
max_loop:
	CMPQ CX, $16
	JLT max_tail
	VMAXPS (SI), Z0, Z0
	ADDQ $64, SI
	SUBQ $16, CX
	JMP max_loop
max_tail:
	TESTQ CX, CX
	JZ max_done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	VMOVUPS (SI), K1, Z2
	VMAXPS Z2, Z0, Z0
max_done:
	VEXTRACTF64X4 $1, Z0, Y1
	VMAXPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VMOVHLPS X0, X0, X1
	VMAXPS X1, X0, X0
	VPSHUFD $1, X0, X1
	VMAXSS X1, X0, X0
	VZEROUPPER
	MOVSS X0, ret+16(FP)
	RET

// func expShiftSum16(x, y *float32, n int, shift float32) float32
TEXT ·expShiftSum16(SB), NOSPLIT, $0-36
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	VBROADCASTSS shift+24(FP), Z6
	LOADEXP
	VPXORD Z30, Z30, Z30
exps_loop:
	CMPQ CX, $16
	JLT exps_tail
	VMOVUPS (SI), Z0
	VSUBPS Z6, Z0, Z0
	EXP(Z0, Z1, Z2)
	VMOVUPS Z0, (DI)
	VADDPS Z0, Z30, Z30
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP exps_loop
exps_tail:
	TESTQ CX, CX
	JZ exps_done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Z0
	VSUBPS Z6, Z0, Z0
	EXP(Z0, Z1, Z2)
	VMOVUPS Z0, K1, (DI)
	VADDPS Z0, Z30, K1, Z30
exps_done:
	VEXTRACTF64X4 $1, Z30, Y1
	VADDPS Y1, Y30, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VMOVHLPS X0, X0, X1
	VADDPS X1, X0, X0
	VPSHUFD $1, X0, X1
	VADDSS X1, X0, X0
	VZEROUPPER
	MOVSS X0, ret+32(FP)
	RET

// func scale16(y *float32, n int, s float32)
TEXT ·scale16(SB), NOSPLIT, $0-20
	MOVQ y+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS s+16(FP), Z6
scale_loop:
	CMPQ CX, $16
	JLT scale_tail
	VMULPS (DI), Z6, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	SUBQ $16, CX
	JMP scale_loop
scale_tail:
	TESTQ CX, CX
	JZ scale_done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	VMOVUPS.Z (DI), K1, Z0
	VMULPS Z6, Z0, Z0
	VMOVUPS Z0, K1, (DI)
scale_done:
	VZEROUPPER
	RET

// func gelu16(x, y *float32, n int)
TEXT ·gelu16(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	LOADEXP
	LOADGELU
gelu_loop:
	CMPQ CX, $16
	JLT gelu_tail
	VMOVUPS (SI), Z0
	ERF(Z0)
	VMULPS Z21, Z0, Z0
	VFMADD213PS Z0, Z0, Z1
	VMOVUPS Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP gelu_loop
gelu_tail:
	TESTQ CX, CX
	JZ gelu_done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Z0
	ERF(Z0)
	VMULPS Z21, Z0, Z0
	VFMADD213PS Z0, Z0, Z1
	VMOVUPS Z1, K1, (DI)
gelu_done:
	VZEROUPPER
	RET

// func geluGradAcc16(x, dy, dx *float32, n int)
TEXT ·geluGradAcc16(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ dy+8(FP), BX
	MOVQ dx+16(FP), DI
	MOVQ n+24(FP), CX
	LOADEXP
	LOADGELU
geluG_loop:
	CMPQ CX, $16
	JLT geluG_tail
	VMOVUPS (SI), Z0
	ERF(Z0)
	VMULPS Z30, Z0, Z0
	VMULPS Z3, Z0, Z0
	VFMADD231PS Z21, Z1, Z0
	VADDPS Z21, Z0, Z0
	VMOVUPS (DI), Z2
	VFMADD231PS (BX), Z0, Z2
	VMOVUPS Z2, (DI)
	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP geluG_loop
geluG_tail:
	TESTQ CX, CX
	JZ geluG_done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Z0
	ERF(Z0)
	VMULPS Z30, Z0, Z0
	VMULPS Z3, Z0, Z0
	VFMADD231PS Z21, Z1, Z0
	VADDPS Z21, Z0, Z0
	VMOVUPS.Z (DI), K1, Z2
	VMOVUPS.Z (BX), K1, Z4
	VFMADD231PS Z4, Z0, Z2
	VMOVUPS Z2, K1, (DI)
geluG_done:
	VZEROUPPER
	RET

// func softmaxGrad16(y, dy, dx *float32, n int)
// dx += y·(dy - Σ dy·y)
TEXT ·softmaxGrad16(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), SI
	MOVQ dy+8(FP), BX
	MOVQ dx+16(FP), DI
	MOVQ n+24(FP), CX
	MOVQ CX, DX
	MOVQ $1, AX
	ANDQ $15, CX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	MOVQ DX, CX
	VPXORD Z0, Z0, Z0
	MOVQ SI, R8
	MOVQ BX, R9
	MOVQ CX, R10
sg_dot:
	CMPQ R10, $16
	JLT sg_dottail
	VMOVUPS (R8), Z1
	VFMADD231PS (R9), Z1, Z0
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $16, R10
	JMP sg_dot
sg_dottail:
	TESTQ R10, R10
	JZ sg_reduce
	VMOVUPS.Z (R8), K1, Z1
	VMOVUPS.Z (R9), K1, Z2
	VFMADD231PS Z2, Z1, Z0
sg_reduce:
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VMOVHLPS X0, X0, X1
	VADDPS X1, X0, X0
	VPSHUFD $1, X0, X1
	VADDSS X1, X0, X0
	VBROADCASTSS X0, Z0
sg_upd:
	CMPQ CX, $16
	JLT sg_updtail
	VMOVUPS (BX), Z1
	VSUBPS Z0, Z1, Z1
	VMOVUPS (DI), Z2
	VFMADD231PS (SI), Z1, Z2
	VMOVUPS Z2, (DI)
	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP sg_upd
sg_updtail:
	TESTQ CX, CX
	JZ sg_done
	VMOVUPS.Z (BX), K1, Z1
	VSUBPS Z0, Z1, Z1
	VMOVUPS.Z (DI), K1, Z2
	VMOVUPS.Z (SI), K1, Z3
	VFMADD231PS Z3, Z1, Z2
	VMOVUPS Z2, K1, (DI)
sg_done:
	VZEROUPPER
	RET

// func relu16(x, y *float32, n int)
TEXT ·relu16(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	VPXORD Z27, Z27, Z27
relu_loop:
	CMPQ CX, $16
	JLT relu_tail
	VMOVUPS (SI), Z0
	VMAXPS Z0, Z27, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP relu_loop
relu_tail:
	TESTQ CX, CX
	JZ relu_done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Z0
	VMAXPS Z0, Z27, Z0
	VMOVUPS Z0, K1, (DI)
relu_done:
	VZEROUPPER
	RET

// func reluGradAcc16(x, dy, dx *float32, n int)
// dx += dy where x > 0
TEXT ·reluGradAcc16(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ dy+8(FP), BX
	MOVQ dx+16(FP), DI
	MOVQ n+24(FP), CX
	VPXORD Z27, Z27, Z27
reluG_loop:
	CMPQ CX, $16
	JLT reluG_tail
	VMOVUPS (SI), Z0
	VCMPPS $0x1e, Z27, Z0, K2
	VMOVUPS (DI), Z1
	VADDPS (BX), Z1, K2, Z1
	VMOVUPS Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP reluG_loop
reluG_tail:
	TESTQ CX, CX
	JZ reluG_done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Z0
	VCMPPS $0x1e, Z27, Z0, K2
	KANDW K1, K2, K2
	VMOVUPS.Z (DI), K1, Z1
	VMOVUPS.Z (BX), K2, Z2
	VADDPS Z2, Z1, Z1
	VMOVUPS Z1, K1, (DI)
reluG_done:
	VZEROUPPER
	RET

DATA mpEven<>+0(SB)/4, $0
DATA mpEven<>+4(SB)/4, $2
DATA mpEven<>+8(SB)/4, $4
DATA mpEven<>+12(SB)/4, $6
DATA mpEven<>+16(SB)/4, $8
DATA mpEven<>+20(SB)/4, $10
DATA mpEven<>+24(SB)/4, $12
DATA mpEven<>+28(SB)/4, $14
DATA mpEven<>+32(SB)/4, $16
DATA mpEven<>+36(SB)/4, $18
DATA mpEven<>+40(SB)/4, $20
DATA mpEven<>+44(SB)/4, $22
DATA mpEven<>+48(SB)/4, $24
DATA mpEven<>+52(SB)/4, $26
DATA mpEven<>+56(SB)/4, $28
DATA mpEven<>+60(SB)/4, $30
GLOBL mpEven<>(SB), RODATA|NOPTR, $64
DATA mpOdd<>+0(SB)/4, $1
DATA mpOdd<>+4(SB)/4, $3
DATA mpOdd<>+8(SB)/4, $5
DATA mpOdd<>+12(SB)/4, $7
DATA mpOdd<>+16(SB)/4, $9
DATA mpOdd<>+20(SB)/4, $11
DATA mpOdd<>+24(SB)/4, $13
DATA mpOdd<>+28(SB)/4, $15
DATA mpOdd<>+32(SB)/4, $17
DATA mpOdd<>+36(SB)/4, $19
DATA mpOdd<>+40(SB)/4, $21
DATA mpOdd<>+44(SB)/4, $23
DATA mpOdd<>+48(SB)/4, $25
DATA mpOdd<>+52(SB)/4, $27
DATA mpOdd<>+56(SB)/4, $29
DATA mpOdd<>+60(SB)/4, $31
GLOBL mpOdd<>(SB), RODATA|NOPTR, $64

// MAXPOOL2: Z0,Z1 = top row (32 floats), Z2,Z3 = bottom row; leaves the
// 16 window maxima in Z4 and their flat indices in Z8 (first maximum in
// row-major order wins, as in maxPool2x2Plane: only a strictly greater
// value replaces the best).
#define MAXPOOL2 \
	VMOVAPS Z0, Z4 \
	VPERMT2PS Z1, Z20, Z4 \
	VMOVAPS Z0, Z5 \
	VPERMT2PS Z1, Z21, Z5 \
	VMOVAPS Z2, Z6 \
	VPERMT2PS Z3, Z20, Z6 \
	VMOVAPS Z2, Z7 \
	VPERMT2PS Z3, Z21, Z7 \
	VMOVDQA32 Z27, Z8 \
	VCMPPS $0x1e, Z4, Z5, K4 \
	VMOVAPS Z5, K4, Z4 \
	VMOVDQA32 Z23, K4, Z8 \
	VCMPPS $0x1e, Z4, Z6, K4 \
	VMOVAPS Z6, K4, Z4 \
	VMOVDQA32 Z24, K4, Z8 \
	VCMPPS $0x1e, Z4, Z7, K4 \
	VMOVAPS Z7, K4, Z4 \
	VMOVDQA32 Z25, K4, Z8 \
	VPADDD Z22, Z8, Z8

// func maxPool2x2Row16(r0, r1, dst *float32, arg *int32, n, base, w int)
// n outputs of one output row: windows r0[2i:2i+2], r1[2i:2i+2]; r0[0]
// has flat index base, r1 = r0 + w.
TEXT ·maxPool2x2Row16(SB), NOSPLIT, $0-56
	MOVQ r0+0(FP), SI
	MOVQ r1+8(FP), BX
	MOVQ dst+16(FP), DI
	MOVQ arg+24(FP), DX
	MOVQ n+32(FP), CX
	VMOVDQU32 mpEven<>(SB), Z20
	VMOVDQU32 mpOdd<>(SB), Z21
	VPBROADCASTD base+40(FP), Z22
	VPADDD Z20, Z22, Z22
	VPBROADCASTD w+48(FP), Z24
	MOVL $1, AX
	VPBROADCASTD AX, Z23
	VPADDD Z23, Z24, Z25
	MOVL $32, AX
	VPBROADCASTD AX, Z26
	VPXORD Z27, Z27, Z27
mp_loop:
	CMPQ CX, $16
	JLT mp_tail
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS (BX), Z2
	VMOVUPS 64(BX), Z3
	MAXPOOL2
	VMOVUPS Z4, (DI)
	VMOVDQU32 Z8, (DX)
	ADDQ $128, SI
	ADDQ $128, BX
	ADDQ $64, DI
	ADDQ $64, DX
	VPADDD Z26, Z22, Z22
	SUBQ $16, CX
	JMP mp_loop
mp_tail:
	TESTQ CX, CX
	JZ mp_done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	SHLQ $1, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K2
	SHRQ $16, AX
	KMOVW AX, K3
	VMOVUPS.Z (SI), K2, Z0
	VMOVUPS.Z 64(SI), K3, Z1
	VMOVUPS.Z (BX), K2, Z2
	VMOVUPS.Z 64(BX), K3, Z3
	MAXPOOL2
	VMOVUPS Z4, K1, (DI)
	VMOVDQU32 Z8, K1, (DX)
mp_done:
	VZEROUPPER
	RET

// func biasReLU16(x, y *float32, n int, b float32, relu bool)
// y = x + b, then max(·, 0) when relu
TEXT ·biasReLU16(SB), NOSPLIT, $0-29
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	VBROADCASTSS b+24(FP), Z6
	MOVBLZX relu+28(FP), DX
	VPXORD Z27, Z27, Z27
	TESTQ DX, DX
	JNZ br_relu
br_loop:
	CMPQ CX, $16
	JLT br_tail
	VADDPS (SI), Z6, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP br_loop
br_tail:
	TESTQ CX, CX
	JZ br_done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Z0
	VADDPS Z6, Z0, Z0
	VMOVUPS Z0, K1, (DI)
	JMP br_done
br_relu:
	CMPQ CX, $16
	JLT br_rtail
	VADDPS (SI), Z6, Z0
	VMAXPS Z0, Z27, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP br_relu
br_rtail:
	TESTQ CX, CX
	JZ br_done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Z0
	VADDPS Z6, Z0, Z0
	VMAXPS Z0, Z27, Z0
	VMOVUPS Z0, K1, (DI)
br_done:
	VZEROUPPER
	RET

// func maskedCopy16(mask, x, y *float32, n int)
// y = x where mask > 0, else 0
TEXT ·maskedCopy16(SB), NOSPLIT, $0-32
	MOVQ mask+0(FP), SI
	MOVQ x+8(FP), BX
	MOVQ y+16(FP), DI
	MOVQ n+24(FP), CX
	VPXORD Z27, Z27, Z27
mc_loop:
	CMPQ CX, $16
	JLT mc_tail
	VMOVUPS (SI), Z0
	VCMPPS $0x1e, Z27, Z0, K2
	VMOVUPS.Z (BX), K2, Z1
	VMOVUPS Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP mc_loop
mc_tail:
	TESTQ CX, CX
	JZ mc_done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Z0
	VCMPPS $0x1e, Z27, Z0, K2
	KANDW K1, K2, K2
	VMOVUPS.Z (BX), K2, Z1
	VMOVUPS Z1, K1, (DI)
mc_done:
	VZEROUPPER
	RET

// HSUM(z, y, x): x (and its low lane) = horizontal sum of z; clobbers y1/x1.
#define HSUM(zr, yr, xr) \
	VEXTRACTF64X4 $1, zr, Y1 \
	VADDPS Y1, yr, yr \
	VEXTRACTF128 $1, yr, X1 \
	VADDPS X1, xr, xr \
	VMOVHLPS xr, xr, X1 \
	VADDPS X1, xr, xr \
	VPSHUFD $1, xr, X1 \
	VADDSS X1, xr, xr

// TAILMASK: K1 = (1 << (CX & 15)) - 1; keeps CX.
#define TAILMASK \
	MOVQ CX, DX \
	ANDQ $15, CX \
	MOVQ $1, AX \
	SHLQ CX, AX \
	DECQ AX \
	KMOVW AX, K1 \
	MOVQ DX, CX

// func lnStats16(x *float32, n int) (sum, sqdev float32)
// sum = Σx, sqdev = Σ(x - sum/n)²
TEXT ·lnStats16(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	TAILMASK
	VPXORD Z0, Z0, Z0
	MOVQ SI, R8
	MOVQ CX, R10
lns_sum:
	CMPQ R10, $16
	JLT lns_sumtail
	VADDPS (R8), Z0, Z0
	ADDQ $64, R8
	SUBQ $16, R10
	JMP lns_sum
lns_sumtail:
	TESTQ R10, R10
	JZ lns_sumdone
	VMOVUPS.Z (R8), K1, Z2
	VADDPS Z2, Z0, Z0
lns_sumdone:
	HSUM(Z0, Y0, X0)
	MOVSS X0, sum+16(FP)
	VCVTSI2SSQ CX, X3, X3
	VDIVSS X3, X0, X4
	VBROADCASTSS X4, Z4
	VPXORD Z5, Z5, Z5
lns_dev:
	CMPQ CX, $16
	JLT lns_devtail
	VMOVUPS (SI), Z2
	VSUBPS Z4, Z2, Z2
	VFMADD231PS Z2, Z2, Z5
	ADDQ $64, SI
	SUBQ $16, CX
	JMP lns_dev
lns_devtail:
	TESTQ CX, CX
	JZ lns_devdone
	VMOVUPS.Z (SI), K1, Z2
	VSUBPS.Z Z4, Z2, K1, Z2
	VFMADD231PS Z2, Z2, Z5
lns_devdone:
	HSUM(Z5, Y5, X5)
	MOVSS X5, sqdev+20(FP)
	VZEROUPPER
	RET

// func lnApply16(x, y, gamma, beta *float32, n int, m, is float32)
// y = (x - m)·is·gamma + beta
TEXT ·lnApply16(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ gamma+16(FP), R8
	MOVQ beta+24(FP), R9
	MOVQ n+32(FP), CX
	VBROADCASTSS m+40(FP), Z4
	VBROADCASTSS is+44(FP), Z5
	TAILMASK
lna_loop:
	CMPQ CX, $16
	JLT lna_tail
	VMOVUPS (SI), Z0
	VSUBPS Z4, Z0, Z0
	VMULPS Z5, Z0, Z0
	VMOVUPS (R9), Z1
	VFMADD231PS (R8), Z0, Z1
	VMOVUPS Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $16, CX
	JMP lna_loop
lna_tail:
	TESTQ CX, CX
	JZ lna_done
	VMOVUPS.Z (SI), K1, Z0
	VSUBPS Z4, Z0, Z0
	VMULPS Z5, Z0, Z0
	VMOVUPS.Z (R9), K1, Z1
	VMOVUPS.Z (R8), K1, Z2
	VFMADD231PS Z2, Z0, Z1
	VMOVUPS Z1, K1, (DI)
lna_done:
	VZEROUPPER
	RET

// func lnGrad16(x, dy, gamma, dx *float32, n int, m, is float32)
// g = dy·gamma, x̂ = (x-m)·is; dx += is·(g - mean(g) - x̂·mean(g·x̂))
TEXT ·lnGrad16(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), SI
	MOVQ dy+8(FP), BX
	MOVQ gamma+16(FP), R8
	MOVQ dx+24(FP), DI
	MOVQ n+32(FP), CX
	VBROADCASTSS m+40(FP), Z4
	VBROADCASTSS is+44(FP), Z5
	TAILMASK
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	MOVQ SI, R11
	MOVQ BX, R12
	MOVQ R8, R13
	MOVQ CX, R10
lng_sum:
	CMPQ R10, $16
	JLT lng_sumtail
	VMOVUPS (R12), Z0
	VMULPS (R13), Z0, Z0
	VADDPS Z0, Z6, Z6
	VMOVUPS (R11), Z2
	VSUBPS Z4, Z2, Z2
	VMULPS Z5, Z2, Z2
	VFMADD231PS Z2, Z0, Z7
	ADDQ $64, R11
	ADDQ $64, R12
	ADDQ $64, R13
	SUBQ $16, R10
	JMP lng_sum
lng_sumtail:
	TESTQ R10, R10
	JZ lng_sumdone
	VMOVUPS.Z (R12), K1, Z0
	VMOVUPS.Z (R13), K1, Z3
	VMULPS Z3, Z0, Z0
	VADDPS Z0, Z6, Z6
	VMOVUPS.Z (R11), K1, Z2
	VSUBPS.Z Z4, Z2, K1, Z2
	VMULPS Z5, Z2, Z2
	VFMADD231PS Z2, Z0, Z7
lng_sumdone:
	HSUM(Z6, Y6, X6)
	HSUM(Z7, Y7, X7)
	VCVTSI2SSQ CX, X3, X3
	VDIVSS X3, X6, X6
	VDIVSS X3, X7, X7
	VBROADCASTSS X6, Z6
	VBROADCASTSS X7, Z7
lng_loop:
	CMPQ CX, $16
	JLT lng_tail
	VMOVUPS (BX), Z0
	VMULPS (R8), Z0, Z0
	VSUBPS Z6, Z0, Z0
	VMOVUPS (SI), Z2
	VSUBPS Z4, Z2, Z2
	VMULPS Z5, Z2, Z2
	VFNMADD231PS Z7, Z2, Z0
	VMOVUPS (DI), Z1
	VFMADD231PS Z5, Z0, Z1
	VMOVUPS Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, R8
	ADDQ $64, DI
	SUBQ $16, CX
	JMP lng_loop
lng_tail:
	TESTQ CX, CX
	JZ lng_done
	VMOVUPS.Z (BX), K1, Z0
	VMOVUPS.Z (R8), K1, Z3
	VMULPS Z3, Z0, Z0
	VSUBPS Z6, Z0, Z0
	VMOVUPS.Z (SI), K1, Z2
	VSUBPS Z4, Z2, Z2
	VMULPS Z5, Z2, Z2
	VFNMADD231PS Z7, Z2, Z0
	VMOVUPS.Z (DI), K1, Z1
	VFMADD231PS Z5, Z0, Z1
	VMOVUPS Z1, K1, (DI)
lng_done:
	VZEROUPPER
	RET

// func lnParamGrad16(x, dy, dgamma, dbeta *float32, n int, m, is float32)
// dgamma += dy·(x-m)·is, dbeta += dy (dgamma or dbeta may be nil)
TEXT ·lnParamGrad16(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), SI
	MOVQ dy+8(FP), BX
	MOVQ dgamma+16(FP), R8
	MOVQ dbeta+24(FP), R9
	MOVQ n+32(FP), CX
	VBROADCASTSS m+40(FP), Z4
	VBROADCASTSS is+44(FP), Z5
	TAILMASK
	XORQ R10, R10
lnp_loop:
	MOVQ CX, R11
	SUBQ R10, R11
	JLE lnp_done
	CMPQ R11, $16
	JGE lnp_full
	KMOVW K1, K2
	JMP lnp_body
lnp_full:
	KXNORW K2, K2, K2
lnp_body:
	VMOVUPS.Z (BX)(R10*4), K2, Z0
	TESTQ R8, R8
	JZ lnp_beta
	VMOVUPS.Z (SI)(R10*4), K2, Z1
	VSUBPS Z4, Z1, Z1
	VMULPS Z5, Z1, Z1
	VMOVUPS.Z (R8)(R10*4), K2, Z2
	VFMADD231PS Z1, Z0, Z2
	VMOVUPS Z2, K2, (R8)(R10*4)
lnp_beta:
	TESTQ R9, R9
	JZ lnp_next
	VMOVUPS.Z (R9)(R10*4), K2, Z3
	VADDPS Z0, Z3, Z3
	VMOVUPS Z3, K2, (R9)(R10*4)
lnp_next:
	ADDQ $16, R10
	JMP lnp_loop
lnp_done:
	VZEROUPPER
	RET

// NMASK(off, k): k = the lanes of the vector of columns off..off+15 for
// n = R15 columns: (1 << clamp(n - off, 0, 16)) - 1. Clobbers AX, CX, R14.
#define NMASK(off, kreg) \
	MOVQ R15, R14 \
	SUBQ $off, R14 \
	XORQ CX, CX \
	CMPQ R14, $0 \
	CMOVQLT CX, R14 \
	MOVQ $16, CX \
	CMPQ R14, CX \
	CMOVQGT CX, R14 \
	MOVQ R14, CX \
	MOVQ $1, AX \
	SHLQ CX, AX \
	DECQ AX \
	KMOVW AX, kreg

// func smallGemm16(m, n, k int, alpha float32, a *float32, sai, sat int, b *float32, ldb int, beta float32, c *float32, ldc int)
// C (m×n, n ≤ 64) = alpha·A·B + beta·C with A's element (i, t) at
// a[i·sai + t·sat] (row-major A: sai = lda, sat = 1; transposed: sai = 1,
// sat = lda) and B row-major (k×n, row stride ldb). Each row of C is four
// masked zmm accumulators; beta 0 does not read C.
TEXT ·smallGemm16(SB), NOSPLIT, $0-96
	MOVQ n+8(FP), R15
	NMASK(0, K1)
	NMASK(16, K2)
	NMASK(32, K3)
	NMASK(48, K4)
	MOVQ m+0(FP), R8
	MOVQ k+16(FP), R9
	VBROADCASTSS alpha+24(FP), Z5
	MOVQ a+32(FP), SI
	MOVQ sai+40(FP), R10
	SHLQ $2, R10
	MOVQ sat+48(FP), R11
	SHLQ $2, R11
	MOVQ b+56(FP), BX
	MOVQ ldb+64(FP), R12
	SHLQ $2, R12
	VBROADCASTSS beta+72(FP), Z6
	MOVL beta+72(FP), R15
	ANDL $0x7fffffff, R15
	MOVQ c+80(FP), DI
	MOVQ ldc+88(FP), R13
	SHLQ $2, R13
	LEAQ (R10)(R10*2), CX
	MOVQ n+8(FP), AX
	CMPQ AX, $16
	JGT sg_w2
sg_n4:
	CMPQ R8, $4
	JLT sg_row1
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	MOVQ SI, AX
	MOVQ BX, DX
	MOVQ R9, R14
sg_n4t:
	TESTQ R14, R14
	JZ sg_n4done
	VMOVUPS.Z (DX), K1, Z7
	VBROADCASTSS (AX), Z8
	VFMADD231PS Z7, Z8, Z0
	VBROADCASTSS (AX)(R10*1), Z9
	VFMADD231PS Z7, Z9, Z1
	VBROADCASTSS (AX)(R10*2), Z10
	VFMADD231PS Z7, Z10, Z2
	VBROADCASTSS (AX)(CX*1), Z11
	VFMADD231PS Z7, Z11, Z3
	ADDQ R11, AX
	ADDQ R12, DX
	DECQ R14
	JMP sg_n4t
sg_n4done:
	VMULPS Z5, Z0, Z0
	VMULPS Z5, Z1, Z1
	VMULPS Z5, Z2, Z2
	VMULPS Z5, Z3, Z3
	MOVQ DI, DX
	TESTL R15, R15
	JZ sg_n4st
	VMOVUPS.Z (DX), K1, Z14
	VFMADD231PS Z6, Z14, Z0
	ADDQ R13, DX
	VMOVUPS.Z (DX), K1, Z14
	VFMADD231PS Z6, Z14, Z1
	ADDQ R13, DX
	VMOVUPS.Z (DX), K1, Z14
	VFMADD231PS Z6, Z14, Z2
	ADDQ R13, DX
	VMOVUPS.Z (DX), K1, Z14
	VFMADD231PS Z6, Z14, Z3
	MOVQ DI, DX
sg_n4st:
	VMOVUPS Z0, K1, (DX)
	ADDQ R13, DX
	VMOVUPS Z1, K1, (DX)
	ADDQ R13, DX
	VMOVUPS Z2, K1, (DX)
	ADDQ R13, DX
	VMOVUPS Z3, K1, (DX)
	ADDQ R13, DX
	MOVQ DX, DI
	LEAQ (SI)(R10*4), SI
	SUBQ $4, R8
	JMP sg_n4
sg_w2:
	CMPQ R8, $2
	JLT sg_wide
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	MOVQ SI, AX
	MOVQ BX, DX
	MOVQ R9, R14
sg_w2t:
	TESTQ R14, R14
	JZ sg_w2done
	VMOVUPS.Z (DX), K1, Z8
	VMOVUPS.Z 64(DX), K2, Z9
	VMOVUPS.Z 128(DX), K3, Z10
	VMOVUPS.Z 192(DX), K4, Z11
	VBROADCASTSS (AX), Z12
	VBROADCASTSS (AX)(R10*1), Z13
	VFMADD231PS Z8, Z12, Z0
	VFMADD231PS Z9, Z12, Z1
	VFMADD231PS Z10, Z12, Z2
	VFMADD231PS Z11, Z12, Z3
	VFMADD231PS Z8, Z13, Z16
	VFMADD231PS Z9, Z13, Z17
	VFMADD231PS Z10, Z13, Z18
	VFMADD231PS Z11, Z13, Z19
	ADDQ R11, AX
	ADDQ R12, DX
	DECQ R14
	JMP sg_w2t
sg_w2done:
	VMULPS Z5, Z0, Z0
	VMULPS Z5, Z1, Z1
	VMULPS Z5, Z2, Z2
	VMULPS Z5, Z3, Z3
	VMULPS Z5, Z16, Z16
	VMULPS Z5, Z17, Z17
	VMULPS Z5, Z18, Z18
	VMULPS Z5, Z19, Z19
	MOVQ DI, DX
	ADDQ R13, DX
	TESTL R15, R15
	JZ sg_w2st
	VMOVUPS.Z (DI), K1, Z14
	VFMADD231PS Z6, Z14, Z0
	VMOVUPS.Z 64(DI), K2, Z14
	VFMADD231PS Z6, Z14, Z1
	VMOVUPS.Z 128(DI), K3, Z14
	VFMADD231PS Z6, Z14, Z2
	VMOVUPS.Z 192(DI), K4, Z14
	VFMADD231PS Z6, Z14, Z3
	VMOVUPS.Z (DX), K1, Z14
	VFMADD231PS Z6, Z14, Z16
	VMOVUPS.Z 64(DX), K2, Z14
	VFMADD231PS Z6, Z14, Z17
	VMOVUPS.Z 128(DX), K3, Z14
	VFMADD231PS Z6, Z14, Z18
	VMOVUPS.Z 192(DX), K4, Z14
	VFMADD231PS Z6, Z14, Z19
sg_w2st:
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	VMOVUPS Z2, K3, 128(DI)
	VMOVUPS Z3, K4, 192(DI)
	VMOVUPS Z16, K1, (DX)
	VMOVUPS Z17, K2, 64(DX)
	VMOVUPS Z18, K3, 128(DX)
	VMOVUPS Z19, K4, 192(DX)
	LEAQ (DI)(R13*2), DI
	LEAQ (SI)(R10*2), SI
	SUBQ $2, R8
	JMP sg_w2
sg_row1:
	TESTQ R8, R8
	JZ sg_done
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	MOVQ SI, AX
	MOVQ BX, DX
	MOVQ R9, R14
sg_t1:
	CMPQ R14, $2
	JLT sg_t1last
	VBROADCASTSS (AX), Z4
	VFMADD231PS (DX), Z4, K1, Z0
	ADDQ R11, AX
	ADDQ R12, DX
	VBROADCASTSS (AX), Z7
	VFMADD231PS (DX), Z7, K1, Z1
	ADDQ R11, AX
	ADDQ R12, DX
	SUBQ $2, R14
	JMP sg_t1
sg_t1last:
	TESTQ R14, R14
	JZ sg_t1done
	VBROADCASTSS (AX), Z4
	VFMADD231PS (DX), Z4, K1, Z0
sg_t1done:
	VADDPS Z1, Z0, Z0
	VMULPS Z5, Z0, Z0
	TESTL R15, R15
	JZ sg_st1
	VMOVUPS.Z (DI), K1, Z7
	VFMADD231PS Z6, Z7, Z0
sg_st1:
	VMOVUPS Z0, K1, (DI)
	ADDQ R10, SI
	ADDQ R13, DI
	DECQ R8
	JMP sg_row1
sg_wide:
	TESTQ R8, R8
	JZ sg_done
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	MOVQ SI, AX
	MOVQ BX, DX
	MOVQ R9, R14
sg_tw:
	TESTQ R14, R14
	JZ sg_twdone
	VBROADCASTSS (AX), Z4
	VFMADD231PS (DX), Z4, K1, Z0
	VFMADD231PS 64(DX), Z4, K2, Z1
	VFMADD231PS 128(DX), Z4, K3, Z2
	VFMADD231PS 192(DX), Z4, K4, Z3
	ADDQ R11, AX
	ADDQ R12, DX
	DECQ R14
	JMP sg_tw
sg_twdone:
	VMULPS Z5, Z0, Z0
	VMULPS Z5, Z1, Z1
	VMULPS Z5, Z2, Z2
	VMULPS Z5, Z3, Z3
	TESTL R15, R15
	JZ sg_stw
	VMOVUPS.Z (DI), K1, Z7
	VFMADD231PS Z6, Z7, Z0
	VMOVUPS.Z 64(DI), K2, Z7
	VFMADD231PS Z6, Z7, Z1
	VMOVUPS.Z 128(DI), K3, Z7
	VFMADD231PS Z6, Z7, Z2
	VMOVUPS.Z 192(DI), K4, Z7
	VFMADD231PS Z6, Z7, Z3
sg_stw:
	VMOVUPS Z0, K1, (DI)
	VMOVUPS Z1, K2, 64(DI)
	VMOVUPS Z2, K3, 128(DI)
	VMOVUPS Z3, K4, 192(DI)
	ADDQ R10, SI
	ADDQ R13, DI
	DECQ R8
	JMP sg_wide
sg_done:
	VZEROUPPER
	RET

// func addRow16(a, b, y *float32, n int)
// y = a + b
TEXT ·addRow16(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), BX
	MOVQ y+16(FP), DI
	MOVQ n+24(FP), CX
add_loop:
	CMPQ CX, $16
	JLT add_tail
	VMOVUPS (SI), Z0
	VADDPS (BX), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP add_loop
add_tail:
	TESTQ CX, CX
	JZ add_done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (BX), K1, Z1
	VADDPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)
add_done:
	VZEROUPPER
	RET

// func im2colTap32(plane *float32, h, w int, out *float32, n, rows, ih0, lo, hi, iw0, strideH int)
// For output rows oh < rows (n ≤ 32 columns each, stride 1 along the row):
// out[oh·n + ow] = plane[ih·w + iw0 + ow] for ow in [lo, hi) when
// ih = ih0 + oh·strideH lies in [0, h), 0 elsewhere.
TEXT ·im2colTap32(SB), NOSPLIT, $0-88
	RANGEMASKS
	MOVQ plane+0(FP), SI
	MOVQ h+8(FP), R8
	MOVQ w+16(FP), R9
	SHLQ $2, R9
	MOVQ out+24(FP), DI
	MOVQ n+32(FP), R10
	SHLQ $2, R10
	MOVQ rows+40(FP), R11
	MOVQ ih0+48(FP), R12
	MOVQ iw0+72(FP), R13
	SHLQ $2, R13
	MOVQ strideH+80(FP), R14
i2c_loop:
	TESTQ R11, R11
	JZ i2c_done
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	CMPQ R12, $0
	JLT i2c_store
	CMPQ R12, R8
	JGE i2c_store
	MOVQ R12, AX
	IMULQ R9, AX
	ADDQ SI, AX
	ADDQ R13, AX
	VMOVUPS.Z (AX), K1, Z0
	VMOVUPS.Z 64(AX), K2, Z1
i2c_store:
	VMOVUPS Z0, K3, (DI)
	VMOVUPS Z1, K4, 64(DI)
	ADDQ R10, DI
	ADDQ R14, R12
	DECQ R11
	JMP i2c_loop
i2c_done:
	VZEROUPPER
	RET

// func col2imTap32(plane *float32, h, w int, src *float32, n, rows, ih0, lo, hi, iw0, strideH int)
// The transpose of im2colTap32: plane[ih·w + iw0 + ow] += src[oh·n + ow]
// for ow in [lo, hi) and valid ih.
TEXT ·col2imTap32(SB), NOSPLIT, $0-88
	RANGEMASKS
	MOVQ plane+0(FP), SI
	MOVQ h+8(FP), R8
	MOVQ w+16(FP), R9
	SHLQ $2, R9
	MOVQ src+24(FP), DI
	MOVQ n+32(FP), R10
	SHLQ $2, R10
	MOVQ rows+40(FP), R11
	MOVQ ih0+48(FP), R12
	MOVQ iw0+72(FP), R13
	SHLQ $2, R13
	MOVQ strideH+80(FP), R14
c2i_loop:
	TESTQ R11, R11
	JZ c2i_done
	CMPQ R12, $0
	JLT c2i_next
	CMPQ R12, R8
	JGE c2i_next
	MOVQ R12, AX
	IMULQ R9, AX
	ADDQ SI, AX
	ADDQ R13, AX
	VMOVUPS.Z (AX), K1, Z0
	VMOVUPS.Z (DI), K1, Z2
	VADDPS Z2, Z0, Z0
	VMOVUPS Z0, K1, (AX)
	VMOVUPS.Z 64(AX), K2, Z1
	VMOVUPS.Z 64(DI), K2, Z3
	VADDPS Z3, Z1, Z1
	VMOVUPS Z1, K2, 64(AX)
c2i_next:
	ADDQ R10, DI
	ADDQ R14, R12
	DECQ R11
	JMP c2i_loop
c2i_done:
	VZEROUPPER
	RET
