//go:build amd64 && !purego

#include "textflag.h"

// The unpadded 3x3 depthwise kernels (conv_dw3.go): four output rows per
// pass, read straight from the input plane. Input rows outside the plane
// are read from a zero row; columns outside it are masked off (zeroed) by
// each 16-output column block's lane masks, so every output sums exactly
// the products the zero-padded plane would give, in the same order: taps
// (i, j) in order, the first a product and the others fused multiply-adds,
// then the bias and the clamp, as dw9Rows16 does.
//
// Both kernels take
//   x      the input plane's first float (rows of rs bytes)
//   dst    the output plane's first float (rows of outW floats)
//   zero   at least W zero floats (the rows outside the plane)
//   w      the nine weights, row-major
//   masks  per column block, four uint16 lane masks: three for the loads,
//          one for the stores
//   nblk   column blocks per output row, ceil(outW/16)
//   h      input rows; outH output rows (at least four)
//   padH   padding rows above the plane
//   colOff byte offset of a row's first load from the row's first float
// and process output rows 0-3, 4-7, ... and a last four ending at row
// outH-1 (rewriting, with the same bits, rows an earlier group wrote).

// TAPS9 broadcasts the nine weights at AX into Z16-Z24 (tap t in Z16+t).
#define TAPS9 \
	VBROADCASTSS 0(AX), Z16; \
	VBROADCASTSS 4(AX), Z17; \
	VBROADCASTSS 8(AX), Z18; \
	VBROADCASTSS 12(AX), Z19; \
	VBROADCASTSS 16(AX), Z20; \
	VBROADCASTSS 20(AX), Z21; \
	VBROADCASTSS 24(AX), Z22; \
	VBROADCASTSS 28(AX), Z23; \
	VBROADCASTSS 32(AX), Z24

// SHIFTSTART (dw3Shift14, dw3Shift7 below; defined before the first
// TEXT, as vet reads a macro's FP names as its preceding TEXT's) broadcasts the weights, bias and bounds, sets SI = x, DI =
// dst, BX = nvec, CX = 0, Z1 = 0 (the vector before the plane), Z2 =
// input vector 0 (under the masks' leading entry's first mask) and DX the
// first vector's masks.
#define SHIFTSTART \
	MOVQ w+16(FP), AX; \
	TAPS9; \
	VBROADCASTSS bias+40(FP), Z25; \
	VBROADCASTSS lo+44(FP), Z26; \
	VBROADCASTSS hi+48(FP), Z27; \
	MOVQ x+0(FP), SI; \
	MOVQ dst+8(FP), DI; \
	MOVQ masks+24(FP), DX; \
	MOVQ nvec+32(FP), BX; \
	XORQ CX, CX; \
	VPXORD Z1, Z1, Z1; \
	KMOVW 0(DX), K3; \
	VMOVUPS.Z (SI), K3, Z2; \
	ADDQ $8, DX

// ROWPTR(q) stores at q*8(SP) the address of input row AX (x + AX*rs, or
// the zero row where AX is outside 0..h-1) plus colOff, and advances AX.
#define ROWPTR(q) \
	MOVQ zero+16(FP), R8; \
	MOVQ AX, R9; \
	IMULQ rs+48(FP), R9; \
	ADDQ x+0(FP), R9; \
	CMPQ AX, h+56(FP); \
	CMOVQCS R9, R8; \
	ADDQ colOff+88(FP), R8; \
	MOVQ R8, (q*8)(SP); \
	INCQ AX

// MUL3(acc): acc = the first row of taps (weights Z16-Z18) on Z4-Z6.
#define MUL3(acc) \
	VMULPS Z4, Z16, acc; \
	VFMADD231PS Z5, Z17, acc; \
	VFMADD231PS Z6, Z18, acc

// FMA3(wa, wb, wc, acc): acc += a row of taps on Z4-Z6, in order.
#define FMA3(wa, wb, wc, acc) \
	VFMADD231PS Z4, wa, acc; \
	VFMADD231PS Z5, wb, acc; \
	VFMADD231PS Z6, wc, acc

// OUT(acc, addr): bias, clamp (a NaN stays NaN) and masked store.
#define OUT(acc, addr) \
	VADDPS Z25, acc, acc; \
	VMAXPS acc, Z26, acc; \
	VMINPS acc, Z27, acc; \
	VMOVUPS acc, K4, addr

// LOADW broadcasts the weights, bias and bounds; BX = bytes per output
// row, R15 three of them, R14 = 0 (the first group's first output row).
#define LOADW \
	MOVQ w+24(FP), AX; \
	TAPS9; \
	VBROADCASTSS bias+96(FP), Z25; \
	VBROADCASTSS lo+100(FP), Z26; \
	VBROADCASTSS hi+104(FP), Z27; \
	MOVQ outW+72(FP), BX; \
	SHLQ $2, BX; \
	LEAQ (BX)(BX*2), R15; \
	XORQ R14, R14

// GROUPSTART: DI = the group's first output row, SI the masks, DX the
// blocks, CX = 0 (the block's byte offset in an output row), K1-K4 later.
#define GROUPSTART \
	MOVQ R14, DI; \
	IMULQ BX, DI; \
	ADDQ dst+8(FP), DI; \
	MOVQ masks+32(FP), SI; \
	MOVQ nblk+40(FP), DX; \
	XORQ CX, CX

// BLOCKMASKS loads the block's four lane masks.
#define BLOCKMASKS \
	KMOVW 0(SI), K1; \
	KMOVW 2(SI), K2; \
	KMOVW 4(SI), K3; \
	KMOVW 6(SI), K4

// STORE4 writes the four rows' outputs of the block.
#define STORE4 \
	LEAQ (DI)(CX*1), AX; \
	OUT(Z0, (AX)); \
	OUT(Z1, (AX)(BX*1)); \
	OUT(Z2, (AX)(BX*2)); \
	OUT(Z3, (AX)(R15*1))

// NEXTGROUP moves R14 to the next group's first row (the last group ends
// at row outH-1) and jumps to grp, or jumps to done when every row is.
#define NEXTGROUP(grp, done) \
	LEAQ 4(R14), AX; \
	CMPQ AX, outH+64(FP); \
	JGE done; \
	MOVQ outH+64(FP), R9; \
	SUBQ $4, R9; \
	CMPQ AX, R9; \
	CMOVQGT R9, AX; \
	MOVQ AX, R14; \
	JMP grp

// func dw3s1x4(x, dst, zero, w *float32, masks *uint16, nblk, rs, h, outH, outW, padH, colOff int, bias, lo, hi float32)
// Stride 1: output row r reads input rows r-padH .. r-padH+2, output
// column k's tap j input column k+j+colOff/4; a block's loads (masks K1,
// K2, K3 for j = 0, 1, 2) start 64 bytes on from the previous block's.
// Each of a group's six input rows is loaded once and feeds up to three
// output rows.
TEXT ·dw3s1x4(SB), NOSPLIT, $48-108
	LOADW
s1_group:
	MOVQ R14, AX
	SUBQ padH+80(FP), AX
	ROWPTR(0)
	ROWPTR(1)
	ROWPTR(2)
	ROWPTR(3)
	ROWPTR(4)
	ROWPTR(5)
	GROUPSTART
s1_block:
	BLOCKMASKS
	MOVQ 0(SP), R8
	VMOVUPS.Z (R8)(CX*1), K1, Z4
	VMOVUPS.Z 4(R8)(CX*1), K2, Z5
	VMOVUPS.Z 8(R8)(CX*1), K3, Z6
	MUL3(Z0)
	MOVQ 8(SP), R8
	VMOVUPS.Z (R8)(CX*1), K1, Z4
	VMOVUPS.Z 4(R8)(CX*1), K2, Z5
	VMOVUPS.Z 8(R8)(CX*1), K3, Z6
	FMA3(Z19, Z20, Z21, Z0)
	MUL3(Z1)
	MOVQ 16(SP), R8
	VMOVUPS.Z (R8)(CX*1), K1, Z4
	VMOVUPS.Z 4(R8)(CX*1), K2, Z5
	VMOVUPS.Z 8(R8)(CX*1), K3, Z6
	FMA3(Z22, Z23, Z24, Z0)
	FMA3(Z19, Z20, Z21, Z1)
	MUL3(Z2)
	MOVQ 24(SP), R8
	VMOVUPS.Z (R8)(CX*1), K1, Z4
	VMOVUPS.Z 4(R8)(CX*1), K2, Z5
	VMOVUPS.Z 8(R8)(CX*1), K3, Z6
	FMA3(Z22, Z23, Z24, Z1)
	FMA3(Z19, Z20, Z21, Z2)
	MUL3(Z3)
	MOVQ 32(SP), R8
	VMOVUPS.Z (R8)(CX*1), K1, Z4
	VMOVUPS.Z 4(R8)(CX*1), K2, Z5
	VMOVUPS.Z 8(R8)(CX*1), K3, Z6
	FMA3(Z22, Z23, Z24, Z2)
	FMA3(Z19, Z20, Z21, Z3)
	MOVQ 40(SP), R8
	VMOVUPS.Z (R8)(CX*1), K1, Z4
	VMOVUPS.Z 4(R8)(CX*1), K2, Z5
	VMOVUPS.Z 8(R8)(CX*1), K3, Z6
	FMA3(Z22, Z23, Z24, Z3)
	STORE4
	ADDQ $64, CX
	ADDQ $8, SI
	DECQ DX
	JNZ s1_block
	NEXTGROUP(s1_group, s1_done)
s1_done:
	VZEROUPPER
	RET

// the even and the odd lanes of a pair of vectors, for VPERMT2PS
DATA dw3Even<>+0(SB)/4, $0
DATA dw3Even<>+4(SB)/4, $2
DATA dw3Even<>+8(SB)/4, $4
DATA dw3Even<>+12(SB)/4, $6
DATA dw3Even<>+16(SB)/4, $8
DATA dw3Even<>+20(SB)/4, $10
DATA dw3Even<>+24(SB)/4, $12
DATA dw3Even<>+28(SB)/4, $14
DATA dw3Even<>+32(SB)/4, $16
DATA dw3Even<>+36(SB)/4, $18
DATA dw3Even<>+40(SB)/4, $20
DATA dw3Even<>+44(SB)/4, $22
DATA dw3Even<>+48(SB)/4, $24
DATA dw3Even<>+52(SB)/4, $26
DATA dw3Even<>+56(SB)/4, $28
DATA dw3Even<>+60(SB)/4, $30
GLOBL dw3Even<>(SB), RODATA|NOPTR, $64
DATA dw3Odd<>+0(SB)/4, $1
DATA dw3Odd<>+4(SB)/4, $3
DATA dw3Odd<>+8(SB)/4, $5
DATA dw3Odd<>+12(SB)/4, $7
DATA dw3Odd<>+16(SB)/4, $9
DATA dw3Odd<>+20(SB)/4, $11
DATA dw3Odd<>+24(SB)/4, $13
DATA dw3Odd<>+28(SB)/4, $15
DATA dw3Odd<>+32(SB)/4, $17
DATA dw3Odd<>+36(SB)/4, $19
DATA dw3Odd<>+40(SB)/4, $21
DATA dw3Odd<>+44(SB)/4, $23
DATA dw3Odd<>+48(SB)/4, $25
DATA dw3Odd<>+52(SB)/4, $27
DATA dw3Odd<>+56(SB)/4, $29
DATA dw3Odd<>+60(SB)/4, $31
GLOBL dw3Odd<>(SB), RODATA|NOPTR, $64

// LOAD2(q): input row q's three taps for a stride-2 block into Z4-Z6.
// A and B are the block's 32 input columns from the row's first load on
// (masks K1, K2); tap 1 is A and B's even lanes, tap 2 their odd lanes,
// tap 0 the odd lanes moved up one with the column before A (lane 15 of
// P, mask K3) in lane 0.
#define LOAD2(q) \
	MOVQ (q*8)(SP), R8; \
	VMOVUPS.Z (R8)(CX*2), K1, Z5; \
	VMOVUPS.Z 64(R8)(CX*2), K2, Z8; \
	VMOVUPS.Z -64(R8)(CX*2), K3, Z4; \
	VMOVAPS Z5, Z6; \
	VPERMT2PS Z8, Z28, Z5; \
	VPERMT2PS Z8, Z29, Z6; \
	VALIGND $15, Z4, Z6, Z4

// func dw3s2x4(x, dst, zero, w *float32, masks *uint16, nblk, rs, h, outH, outW, padH, colOff int, bias, lo, hi float32)
// Stride 2: output row r reads input rows 2r-padH .. 2r-padH+2, output
// column k's tap j the input column 2k+j-1+colOff/4; a block's loads
// start 128 bytes on from the previous block's. Each of a group's nine
// input rows is loaded and split into its taps once; the even ones feed
// two output rows.
TEXT ·dw3s2x4(SB), NOSPLIT, $72-108
	LOADW
	VMOVUPS dw3Even<>(SB), Z28
	VMOVUPS dw3Odd<>(SB), Z29
s2_group:
	MOVQ R14, AX
	ADDQ AX, AX
	SUBQ padH+80(FP), AX
	ROWPTR(0)
	ROWPTR(1)
	ROWPTR(2)
	ROWPTR(3)
	ROWPTR(4)
	ROWPTR(5)
	ROWPTR(6)
	ROWPTR(7)
	ROWPTR(8)
	GROUPSTART
s2_block:
	BLOCKMASKS
	LOAD2(0)
	MUL3(Z0)
	LOAD2(1)
	FMA3(Z19, Z20, Z21, Z0)
	LOAD2(2)
	FMA3(Z22, Z23, Z24, Z0)
	MUL3(Z1)
	LOAD2(3)
	FMA3(Z19, Z20, Z21, Z1)
	LOAD2(4)
	FMA3(Z22, Z23, Z24, Z1)
	MUL3(Z2)
	LOAD2(5)
	FMA3(Z19, Z20, Z21, Z2)
	LOAD2(6)
	FMA3(Z22, Z23, Z24, Z2)
	MUL3(Z3)
	LOAD2(7)
	FMA3(Z19, Z20, Z21, Z3)
	LOAD2(8)
	FMA3(Z22, Z23, Z24, Z3)
	STORE4
	ADDQ $64, CX
	ADDQ $8, SI
	DECQ DX
	JNZ s2_block
	NEXTGROUP(s2_group, s2_done)
s2_done:
	VZEROUPPER
	RET

// FLATTAP(t, mask, reg): acc Z0 += tap t's masked input (at reg + CX) ×
// its weight; tap 0 is the product that starts the sum.
#define FLATTAP(moff, reg, wz) \
	KMOVW moff(DX), K1; \
	VMOVUPS.Z (reg)(CX*1), K1, Z4; \
	VFMADD231PS Z4, wz, Z0

// func dw3Flat16(x, dst, w *float32, offs *[9]int, masks *uint16, nvec int, bias, lo, hi float32)
// A stride-1 plane with one row and column of padding as one run of
// floats (conv_dw3.go's dw3Flat): per vector of 16 outputs (byte offset
// CX in x and dst), tap t's input at x + offs[t] + CX under the vector's
// mask t (lanes whose input is outside the plane are zero and not read),
// the taps in order, the first a product, then the bias, the clamp and the
// store under mask 9, as OUT does.
TEXT ·dw3Flat16(SB), NOSPLIT, $0-60
	MOVQ w+16(FP), AX
	TAPS9
	VBROADCASTSS bias+48(FP), Z25
	VBROADCASTSS lo+52(FP), Z26
	VBROADCASTSS hi+56(FP), Z27
	MOVQ x+0(FP), BX
	MOVQ offs+24(FP), AX
	MOVQ 0(AX), SI
	ADDQ BX, SI
	MOVQ 8(AX), R8
	ADDQ BX, R8
	MOVQ 16(AX), R9
	ADDQ BX, R9
	MOVQ 24(AX), R10
	ADDQ BX, R10
	MOVQ 32(AX), R11
	ADDQ BX, R11
	MOVQ 40(AX), R12
	ADDQ BX, R12
	MOVQ 48(AX), R13
	ADDQ BX, R13
	MOVQ 56(AX), R14
	ADDQ BX, R14
	MOVQ 64(AX), R15
	ADDQ BX, R15
	MOVQ dst+8(FP), DI
	MOVQ masks+32(FP), DX
	MOVQ nvec+40(FP), BX
	XORQ CX, CX
flat_vec:
	KMOVW 0(DX), K1
	VMOVUPS.Z (SI)(CX*1), K1, Z4
	VMULPS Z4, Z16, Z0
	FLATTAP(2, R8, Z17)
	FLATTAP(4, R9, Z18)
	FLATTAP(6, R10, Z19)
	FLATTAP(8, R11, Z20)
	FLATTAP(10, R12, Z21)
	FLATTAP(12, R13, Z22)
	FLATTAP(14, R14, Z23)
	FLATTAP(16, R15, Z24)
	KMOVW 18(DX), K4
	OUT(Z0, (DI)(CX*1))
	ADDQ $64, CX
	ADDQ $20, DX
	DECQ BX
	JNZ flat_vec
	VZEROUPPER
	RET

// SHIFTVEC(W): one vector of 16 outputs of a dw3Shift plane of width W
// (conv_dw3.go): Z1, Z2 hold input vectors v-1 and v, and the vector
// loads v+1 into Z3 (mask K3: zero past the plane); tap (i, j) of output
// 16v+k is input 16v+k+(i-1)W+j-1, lanes of Z1:Z2 or Z2:Z3 shifted by
// VALIGND, the j = 0 taps zeroed by K1 (output column 0) and the j = 2
// taps by K2 (column W-1), rows above and below the plane read from the
// zero vectors around it. Then the taps in order, the bias, the clamp and
// the store under K4, as OUT does; Z2, Z3 move to Z1, Z2.
#define SHIFTVEC(W) \
	KMOVW 0(DX), K1; \
	KMOVW 2(DX), K2; \
	KMOVW 4(DX), K3; \
	KMOVW 6(DX), K4; \
	VMOVUPS.Z 64(SI)(CX*1), K3, Z3; \
	VALIGND.Z $(15-W), Z1, Z2, K1, Z4; \
	VALIGND $(16-W), Z1, Z2, Z5; \
	VALIGND.Z $(17-W), Z1, Z2, K2, Z6; \
	VALIGND.Z $15, Z1, Z2, K1, Z7; \
	VMULPS Z4, Z16, Z0; \
	VFMADD231PS Z5, Z17, Z0; \
	VFMADD231PS Z6, Z18, Z0; \
	VFMADD231PS Z7, Z19, Z0; \
	VFMADD231PS Z2, Z20, Z0; \
	VALIGND.Z $1, Z2, Z3, K2, Z8; \
	VALIGND.Z $(W-1), Z2, Z3, K1, Z9; \
	VALIGND $W, Z2, Z3, Z10; \
	VALIGND.Z $(W+1), Z2, Z3, K2, Z11; \
	VFMADD231PS Z8, Z21, Z0; \
	VFMADD231PS Z9, Z22, Z0; \
	VFMADD231PS Z10, Z23, Z0; \
	VFMADD231PS Z11, Z24, Z0; \
	OUT(Z0, (DI)(CX*1)); \
	VMOVAPS Z2, Z1; \
	VMOVAPS Z3, Z2; \
	ADDQ $64, CX; \
	ADDQ $8, DX

// func dw3Shift14(x, dst, w *float32, masks *uint16, nvec int, bias, lo, hi float32)
TEXT ·dw3Shift14(SB), NOSPLIT, $0-52
	SHIFTSTART
shift14_vec:
	SHIFTVEC(14)
	DECQ BX
	JNZ shift14_vec
	VZEROUPPER
	RET

// func dw3Shift7(x, dst, w *float32, masks *uint16, nvec int, bias, lo, hi float32)
TEXT ·dw3Shift7(SB), NOSPLIT, $0-52
	SHIFTSTART
shift7_vec:
	SHIFTVEC(7)
	DECQ BX
	JNZ shift7_vec
	VZEROUPPER
	RET
