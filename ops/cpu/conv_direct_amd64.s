//go:build amd64 && !purego

#include "textflag.h"

// Macros of the gapless layout's fills (fillTaps16, fillTapsOne16).

// OUTLANES sets K2 to the lanes of the output block from column R11 of
// rows R9 floats wide: min(16, R9 − R11).
#define OUTLANES \
	MOVQ R9, CX; \
	SUBQ R11, CX; \
	MOVQ $16, AX; \
	CMPQ CX, AX; \
	CMOVQGT AX, CX; \
	MOVQ $1, BX; \
	SHLQ CX, BX; \
	DECQ BX; \
	KMOVW BX, K2

// SRCLANES(n) sets BX to the lanes of a load of n floats from source
// column AX (s0) that lie in the row: lo = −s0 to hi = R12 (wr) − s0,
// each clamped to 0..n. Clobbers CX and R13.
#define SRCLANES(n) \
	MOVQ R12, CX; \
	SUBQ AX, CX; \
	XORQ BX, BX; \
	CMPQ CX, BX; \
	CMOVQLT BX, CX; \
	MOVQ n, BX; \
	CMPQ CX, BX; \
	CMOVQGT BX, CX; \
	MOVQ $1, BX; \
	SHLQ CX, BX; \
	DECQ BX; \
	MOVQ AX, CX; \
	NEGQ CX; \
	XORQ R13, R13; \
	CMPQ CX, R13; \
	CMOVQLT R13, CX; \
	MOVQ n, R13; \
	CMPQ CX, R13; \
	CMOVQGT R13, CX; \
	MOVQ $1, R13; \
	SHLQ CX, R13; \
	DECQ R13; \
	NOTQ R13; \
	ANDQ R13, BX

// ZEROROWS(count, loop, done) zeroes the count (an argument) rows of R9
// floats from R13 on, lanes K2, with Z7 = 0, and leaves R13 after them;
// loop is the loop's label, done the label after it. ZEROROWS2 zeroes
// the same rows of the plane at DI as well, ZEROROWS3 those at DI and SI.
#define ZEROROWS(count, loop, done) \
	MOVQ count, R14; \
	TESTQ R14, R14; \
	JZ done; \
loop: \
	VMOVUPS Z7, K2, (R13); \
	LEAQ (R13)(R9*4), R13; \
	DECQ R14; \
	JNZ loop

#define ZEROROWS2(count, loop, done) \
	MOVQ count, R14; \
	TESTQ R14, R14; \
	JZ done; \
loop: \
	VMOVUPS Z7, K2, (R13); \
	VMOVUPS Z7, K2, (DI); \
	LEAQ (R13)(R9*4), R13; \
	LEAQ (DI)(R9*4), DI; \
	DECQ R14; \
	JNZ loop

#define ZEROROWS3(count, loop, done) \
	MOVQ count, R14; \
	TESTQ R14, R14; \
	JZ done; \
loop: \
	VMOVUPS Z7, K2, (R13); \
	VMOVUPS Z7, K2, (DI); \
	VMOVUPS Z7, K2, (SI); \
	LEAQ (R13)(R9*4), R13; \
	LEAQ (DI)(R9*4), DI; \
	LEAQ (SI)(R9*4), SI; \
	DECQ R14; \
	JNZ loop

// NEXTIMG advances the source by srcImg floats and the planes by one
// image's rows (lead+rows+trail of R9 floats), and counts the image.
#define NEXTIMG \
	MOVQ srcImg+16(FP), AX; \
	SHLQ $2, AX; \
	ADDQ AX, src+0(FP); \
	MOVQ lead+56(FP), AX; \
	ADDQ rows+64(FP), AX; \
	ADDQ trail+72(FP), AX; \
	IMULQ R9, AX; \
	SHLQ $2, AX; \
	ADDQ AX, dst+24(FP); \
	DECQ imgs+48(FP)

// func directOut16(src *float32, lds int, dst, res *float32, rows, cols int, scale, shift, lo, hi float32, clamp uint8)
// For rows rows of cols floats (src rows lds floats apart, dst and res
// rows packed): dst = act(src·scale + shift + res), res skipped when nil,
// act max(·, lo) when clamp&1, then min(·, hi) when clamp&2. One FMA per
// element, 16 at a time, masked tail.
TEXT ·directOut16(SB), NOSPLIT, $0-65
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), R8
	SHLQ $2, R8
	MOVQ dst+16(FP), DI
	MOVQ res+24(FP), BX
	MOVQ rows+32(FP), R9
	MOVQ cols+40(FP), R10
	VBROADCASTSS scale+48(FP), Z6
	VBROADCASTSS shift+52(FP), Z7
	VBROADCASTSS lo+56(FP), Z27
	VBROADCASTSS hi+60(FP), Z28
	MOVBLZX clamp+64(FP), DX
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
	TESTQ $1, DX
	JZ nolo
	VMAXPS Z27, Z0, Z0
nolo:
	TESTQ $2, DX
	JZ nohi
	VMINPS Z28, Z0, Z0
nohi:
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
	TESTQ $1, DX
	JZ tnolo
	VMAXPS Z27, Z0, Z0
tnolo:
	TESTQ $2, DX
	JZ tnohi
	VMINPS Z28, Z0, Z0
tnohi:
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

// evenIdx: VPERMT2PS indices 0, 2, ..., 30 (the even floats of two vectors).
DATA evenIdx<>+0(SB)/4, $0
DATA evenIdx<>+4(SB)/4, $2
DATA evenIdx<>+8(SB)/4, $4
DATA evenIdx<>+12(SB)/4, $6
DATA evenIdx<>+16(SB)/4, $8
DATA evenIdx<>+20(SB)/4, $10
DATA evenIdx<>+24(SB)/4, $12
DATA evenIdx<>+28(SB)/4, $14
DATA evenIdx<>+32(SB)/4, $16
DATA evenIdx<>+36(SB)/4, $18
DATA evenIdx<>+40(SB)/4, $20
DATA evenIdx<>+44(SB)/4, $22
DATA evenIdx<>+48(SB)/4, $24
DATA evenIdx<>+52(SB)/4, $26
DATA evenIdx<>+56(SB)/4, $28
DATA evenIdx<>+60(SB)/4, $30
GLOBL evenIdx<>(SB), RODATA|NOPTR, $64

// func fillRows16(src *float32, lds int, dst *float32, wp, rows, wr int, two bool)
// For rows rows (src rows lds floats apart, dst rows wp floats apart):
// dst[v] = src[v·s] where v·s < wr and 0 up to wp, s = 2 if two else 1.
// Column blocks of 16 outside, rows inside: a block's masks are the same
// on every row.
TEXT ·fillRows16(SB), NOSPLIT, $0-49
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), R8
	SHLQ $2, R8
	MOVQ dst+16(FP), DI
	MOVQ wp+24(FP), R9
	MOVQ rows+32(FP), R10
	MOVQ wr+40(FP), R12
	MOVBLZX two+48(FP), DX
	VMOVDQU32 evenIdx<>(SB), Z8
	TESTQ R10, R10
	JZ fdone
	XORQ R11, R11
fblk:
	CMPQ R11, R9
	JGE fdone
	MOVQ R9, CX
	SUBQ R11, CX
	MOVQ $16, AX
	CMPQ CX, AX
	CMOVQGT AX, CX
	MOVQ $1, BX
	SHLQ CX, BX
	DECQ BX
	KMOVW BX, K2
	LEAQ (DI)(R11*4), R13
	MOVQ R10, R14
	TESTQ DX, DX
	JNZ ftwo
	MOVQ R12, CX
	SUBQ R11, CX
	XORQ AX, AX
	CMPQ CX, AX
	CMOVQLT AX, CX
	MOVQ $16, AX
	CMPQ CX, AX
	CMOVQGT AX, CX
	MOVQ $1, BX
	SHLQ CX, BX
	DECQ BX
	KMOVW BX, K1
	LEAQ (SI)(R11*4), AX
fone:
	VMOVUPS.Z (AX), K1, Z0
	VMOVUPS Z0, K2, (R13)
	ADDQ R8, AX
	LEAQ (R13)(R9*4), R13
	DECQ R14
	JNZ fone
	ADDQ $16, R11
	JMP fblk
ftwo:
	MOVQ R11, CX
	SHLQ $1, CX
	NEGQ CX
	ADDQ R12, CX
	XORQ AX, AX
	CMPQ CX, AX
	CMOVQLT AX, CX
	MOVQ $32, AX
	CMPQ CX, AX
	CMOVQGT AX, CX
	MOVQ $1, BX
	SHLQ CX, BX
	DECQ BX
	KMOVW BX, K1
	SHRQ $16, BX
	KMOVW BX, K3
	LEAQ (SI)(R11*8), AX
ftworow:
	VMOVUPS.Z (AX), K1, Z0
	VMOVUPS.Z 64(AX), K3, Z1
	VPERMT2PS Z1, Z8, Z0
	VMOVUPS Z0, K2, (R13)
	ADDQ R8, AX
	LEAQ (R13)(R9*4), R13
	DECQ R14
	JNZ ftworow
	ADDQ $16, R11
	JMP fblk
fdone:
	VZEROUPPER
	RET

// oddIdx: VPERMT2PS indices 1, 3, ..., 31 (the odd floats of two vectors).
DATA oddIdx<>+0(SB)/4, $1
DATA oddIdx<>+4(SB)/4, $3
DATA oddIdx<>+8(SB)/4, $5
DATA oddIdx<>+12(SB)/4, $7
DATA oddIdx<>+16(SB)/4, $9
DATA oddIdx<>+20(SB)/4, $11
DATA oddIdx<>+24(SB)/4, $13
DATA oddIdx<>+28(SB)/4, $15
DATA oddIdx<>+32(SB)/4, $17
DATA oddIdx<>+36(SB)/4, $19
DATA oddIdx<>+40(SB)/4, $21
DATA oddIdx<>+44(SB)/4, $23
DATA oddIdx<>+48(SB)/4, $25
DATA oddIdx<>+52(SB)/4, $27
DATA oddIdx<>+56(SB)/4, $29
DATA oddIdx<>+60(SB)/4, $31
GLOBL oddIdx<>(SB), RODATA|NOPTR, $64

// func poolOut16(src *float32, lds int, dst *float32, rows, cols int, bias float32)
// 2×2 max pool with bias and ReLU: for r < rows, c < cols,
// dst[r·cols + c] = max(0, bias + max of src rows 2r, 2r+1 (lds floats
// apart) at columns 2c, 2c+1).
TEXT ·poolOut16(SB), NOSPLIT, $0-44
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), R8
	SHLQ $2, R8
	MOVQ dst+16(FP), DI
	MOVQ rows+24(FP), R10
	MOVQ cols+32(FP), R9
	VBROADCASTSS bias+40(FP), Z6
	VPXORD Z27, Z27, Z27
	VMOVDQU32 evenIdx<>(SB), Z8
	VMOVDQU32 oddIdx<>(SB), Z9
	TESTQ R10, R10
	JZ pdone
	XORQ R11, R11
pblk:
	CMPQ R11, R9
	JGE pdone
	MOVQ R9, CX
	SUBQ R11, CX
	MOVQ $16, AX
	CMPQ CX, AX
	CMOVQGT AX, CX
	MOVQ $1, BX
	SHLQ CX, BX
	DECQ BX
	KMOVW BX, K2
	SHLQ $1, CX
	MOVQ $1, BX
	SHLQ CX, BX
	DECQ BX
	KMOVW BX, K1
	SHRQ $16, BX
	KMOVW BX, K3
	LEAQ (SI)(R11*8), AX
	LEAQ (DI)(R11*4), R13
	MOVQ R10, R14
prow:
	VMOVUPS.Z (AX), K1, Z0
	VMOVUPS.Z 64(AX), K3, Z1
	VMAXPS.Z (AX)(R8*1), Z0, K1, Z0
	VMAXPS.Z 64(AX)(R8*1), Z1, K3, Z1
	VMOVAPS Z0, Z2
	VPERMT2PS Z1, Z8, Z0
	VPERMT2PS Z1, Z9, Z2
	VMAXPS Z2, Z0, Z0
	VADDPS Z6, Z0, Z0
	VMAXPS Z27, Z0, Z0
	VMOVUPS Z0, K2, (R13)
	LEAQ (AX)(R8*2), AX
	LEAQ (R13)(R9*4), R13
	DECQ R14
	JNZ prow
	ADDQ $16, R11
	JMP pblk
pdone:
	VZEROUPPER
	RET

// func pool3s2Row16(r0, r1, r2 *float32, w int, tmp, out *float32, ow int)
// One output row of a 3×3, stride-2, padding-1 max pool: tmp[1+i] =
// max(r0[i], r1[i], r2[i]) for i < w (tmp[0] and tmp[w+1] hold -Inf, and
// tmp has 64 floats of slack), then out[o] = max(tmp[2o], tmp[2o+1],
// tmp[2o+2]) for o < ow. Each vector of the rows prefetches the same
// columns of the two rows below r2 (the next output row's; a prefetch
// past the plane does not fault): in resnet18's forward the stem's output
// comes back from memory, and the prefetch took the pool from 268-307 to
// 241-257 µs at one thread (docs/performance.md, s13-r18).
TEXT ·pool3s2Row16(SB), NOSPLIT, $0-64
	MOVQ r0+0(FP), SI
	MOVQ r1+8(FP), BX
	MOVQ r2+16(FP), DX
	MOVQ w+24(FP), CX
	MOVQ tmp+32(FP), DI
	MOVQ out+40(FP), R8
	MOVQ ow+48(FP), R9
	LEAQ 4(DI), R10
	MOVQ CX, R14
	SHLQ $2, R14
	LEAQ (DX)(R14*1), R13 // r2 + w: the next output row's first new row
	LEAQ (R13)(R14*1), R14 // and its second
	MOVQ next+56(FP), AX // the next output row's lines, for writing (nil: none)
	TESTQ AX, AX
	JZ pwdone
	LEAQ (AX)(R9*4), R12
pwloop:
	BYTE $0x0F; BYTE $0x0D; BYTE $0x08 // PREFETCHW (AX)
	ADDQ $64, AX
	CMPQ AX, R12
	JLT pwloop
pwdone:
	XORQ R11, R11
vloop:
	MOVQ CX, AX
	SUBQ R11, AX
	JLE hstart
	CMPQ AX, $16
	JLT vtail
	PREFETCHT0 (R13)(R11*4)
	PREFETCHT0 (R14)(R11*4)
	VMOVUPS (SI)(R11*4), Z0
	VMAXPS (BX)(R11*4), Z0, Z0
	VMAXPS (DX)(R11*4), Z0, Z0
	VMOVUPS Z0, (R10)(R11*4)
	ADDQ $16, R11
	JMP vloop
vtail:
	MOVQ CX, R12
	MOVQ AX, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	MOVQ R12, CX
	VMOVUPS.Z (SI)(R11*4), K1, Z0
	VMAXPS.Z (BX)(R11*4), Z0, K1, Z0
	VMAXPS.Z (DX)(R11*4), Z0, K1, Z0
	VMOVUPS Z0, K1, (R10)(R11*4)
hstart:
	VMOVDQU32 evenIdx<>(SB), Z8
	VMOVDQU32 oddIdx<>(SB), Z9
	XORQ R11, R11
hloop:
	MOVQ R9, AX
	SUBQ R11, AX
	JLE pdone3
	CMPQ AX, $16
	JLT hmask
	MOVQ $0xffff, AX
	JMP hgo
hmask:
	MOVQ AX, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
hgo:
	KMOVW AX, K2
	LEAQ (DI)(R11*8), AX
	VMOVUPS (AX), Z0
	VMOVUPS 64(AX), Z1
	VMOVUPS 8(AX), Z2
	VMOVUPS 72(AX), Z3
	VMOVAPS Z0, Z4
	VPERMT2PS Z1, Z8, Z0
	VPERMT2PS Z1, Z9, Z4
	VPERMT2PS Z3, Z8, Z2
	VMAXPS Z4, Z0, Z0
	VMAXPS Z2, Z0, Z0
	VMOVUPS Z0, K2, (R8)(R11*4)
	ADDQ $16, R11
	JMP hloop
pdone3:
	VZEROUPPER
	RET

// func fillRowsPair16(src *float32, lds int, dst0, dst1 *float32, wp, rows, wr int)
// fillRows16 with two = true for both column phases of a stride-2 row
// from one read: for rows rows (src rows lds floats apart, dst rows wp
// floats apart), dst0[v] = src[2v] where 2v < wr, dst1[v] = src[2v+1]
// where 2v+1 < wr, 0 up to wp. Column blocks of 16 outside, rows inside.
TEXT ·fillRowsPair16(SB), NOSPLIT, $0-56
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), R8
	SHLQ $2, R8
	MOVQ wp+32(FP), R9
	MOVQ rows+40(FP), R10
	MOVQ wr+48(FP), R12
	VMOVDQU32 evenIdx<>(SB), Z8
	VMOVDQU32 oddIdx<>(SB), Z9
	TESTQ R10, R10
	JZ pfdone
	XORQ R11, R11 // output column of the block
pfblk:
	CMPQ R11, R9
	JGE pfdone
	MOVQ R9, CX
	SUBQ R11, CX
	MOVQ $16, AX
	CMPQ CX, AX
	CMOVQGT AX, CX
	MOVQ $1, BX
	SHLQ CX, BX
	DECQ BX
	KMOVW BX, K2 // the block's output lanes
	MOVQ R11, CX
	SHLQ $1, CX
	NEGQ CX
	ADDQ R12, CX // source floats left from the block's first
	XORQ AX, AX
	CMPQ CX, AX
	CMOVQLT AX, CX
	MOVQ $32, AX
	CMPQ CX, AX
	CMOVQGT AX, CX
	MOVQ dst0+16(FP), R13
	LEAQ (R13)(R11*4), R13
	MOVQ dst1+24(FP), DI
	LEAQ (DI)(R11*4), DI
	MOVQ R10, R14
	TESTQ CX, CX
	JZ pfzero // a block past the source (the gap columns): zeros only
	MOVQ $1, BX
	SHLQ CX, BX
	DECQ BX
	KMOVW BX, K1
	SHRQ $16, BX
	KMOVW BX, K3
	LEAQ (SI)(R11*8), AX
pfrow:
	VMOVUPS.Z (AX), K1, Z0
	VMOVUPS.Z 64(AX), K3, Z1
	VMOVAPS Z0, Z2
	VPERMT2PS Z1, Z8, Z0
	VPERMT2PS Z1, Z9, Z2
	VMOVUPS Z0, K2, (R13)
	VMOVUPS Z2, K2, (DI)
	ADDQ R8, AX
	LEAQ (R13)(R9*4), R13
	LEAQ (DI)(R9*4), DI
	DECQ R14
	JNZ pfrow
	ADDQ $16, R11
	JMP pfblk
pfzero:
	VPXORD Z0, Z0, Z0
pfzrow:
	VMOVUPS Z0, K2, (R13)
	VMOVUPS Z0, K2, (DI)
	LEAQ (R13)(R9*4), R13
	LEAQ (DI)(R9*4), DI
	DECQ R14
	JNZ pfzrow
	ADDQ $16, R11
	JMP pfblk
pfdone:
	VZEROUPPER
	RET

// func fillTaps16(src *float32, lds, srcImg int, dst *float32, plane, wp, imgs, lead, rows, trail, wr, shift, kw int)
// The gapless layout's planes of one channel and row phase for imgs
// images (stride 2, no dilation): plane j (dst + j·plane) of image i
// (rows lead+rows+trail, wp floats each, from i·(lead+rows+trail)·wp)
// holds lead zero rows, then rows r of src + i·srcImg + r·lds at columns
// 2v + shift + j (zero outside 0..wr-1), then trail zero rows. Two
// neighbouring kernel columns come from one read of a row: the even and
// the odd floats of 32 loaded from 2v + shift + j, masked to the row, so
// nothing left of a row (shift < 0: the padding) or past wr is read.
// The arguments src, dst and imgs advance as the images go by.
TEXT ·fillTaps16(SB), NOSPLIT, $0-104
	MOVQ lds+8(FP), R8
	SHLQ $2, R8
	MOVQ wp+40(FP), R9
	MOVQ wr+80(FP), R12
	VMOVDQU32 evenIdx<>(SB), Z8
	VMOVDQU32 oddIdx<>(SB), Z9
	VPXORD Z7, Z7, Z7
ftimg:
	CMPQ imgs+48(FP), $0
	JLE ftdone
	MOVQ shift+88(FP), DX // the pair's first column shift
ftpair:
	MOVQ DX, BX
	SUBQ shift+88(FP), BX // j
	CMPQ BX, kw+96(FP)
	JGE ftnext
	IMULQ plane+32(FP), BX
	MOVQ dst+24(FP), R10
	LEAQ (R10)(BX*4), R10 // plane j of the image
	XORQ R11, R11 // output column of the block
ftblk:
	CMPQ R11, R9
	JGE ftpairend
	OUTLANES
	MOVQ R11, AX
	SHLQ $1, AX
	ADDQ DX, AX // s0: the source column of the block's first lane
	SRCLANES($32)
	KMOVW BX, K1
	SHRQ $16, BX
	KMOVW BX, K3
	MOVQ src+0(FP), CX
	LEAQ (CX)(AX*4), AX
	LEAQ (R10)(R11*4), R13
	MOVQ DX, CX
	SUBQ shift+88(FP), CX
	INCQ CX
	CMPQ CX, kw+96(FP)
	JGE ftone // the last column of an odd kernel width
	MOVQ plane+32(FP), DI
	LEAQ (R13)(DI*4), DI
	ZEROROWS2(lead+56(FP), ft2lead, ft2data)
ft2data:
	MOVQ rows+64(FP), R14
	TESTQ R14, R14
	JZ ft2trail
ft2row:
	VMOVUPS.Z (AX), K1, Z0
	VMOVUPS.Z 64(AX), K3, Z1
	VMOVAPS Z0, Z2
	VPERMT2PS Z1, Z8, Z0
	VPERMT2PS Z1, Z9, Z2
	VMOVUPS Z0, K2, (R13)
	VMOVUPS Z2, K2, (DI)
	ADDQ R8, AX
	LEAQ (R13)(R9*4), R13
	LEAQ (DI)(R9*4), DI
	DECQ R14
	JNZ ft2row
ft2trail:
	ZEROROWS2(trail+72(FP), ft2t, ftblkend)
	JMP ftblkend
ftone:
	ZEROROWS(lead+56(FP), ft1lead, ft1data)
ft1data:
	MOVQ rows+64(FP), R14
	TESTQ R14, R14
	JZ ft1trail
ft1row:
	VMOVUPS.Z (AX), K1, Z0
	VMOVUPS.Z 64(AX), K3, Z1
	VPERMT2PS Z1, Z8, Z0
	VMOVUPS Z0, K2, (R13)
	ADDQ R8, AX
	LEAQ (R13)(R9*4), R13
	DECQ R14
	JNZ ft1row
ft1trail:
	ZEROROWS(trail+72(FP), ft1t, ftblkend)
ftblkend:
	ADDQ $16, R11
	JMP ftblk
ftpairend:
	ADDQ $2, DX
	JMP ftpair
ftnext:
	NEXTIMG
	JMP ftimg
ftdone:
	VZEROUPPER
	RET

// func fillTapsThree16(src *float32, lds, srcImg int, dst *float32, plane, wp, imgs, lead, rows, trail, wr, ahead int)
// fillTaps16 for a 3-wide kernel with shift −1 (3×3 stride 2, padding 1):
// the three planes from one read of 32 floats of a row from column 2v,
// the block's first: column 2v (even lanes, plane 1), 2v + 1 (odd lanes,
// plane 2) and 2v − 1 (the odd lanes one lane up, plane 0), whose first
// lane is the last float before the block (a masked load of the 16 before
// it; none in the first block: the padding). Each row's two lines ahead
// floats on (the next channel's rows) are prefetched.
TEXT ·fillTapsThree16(SB), NOSPLIT, $0-96
	MOVQ lds+8(FP), R8
	SHLQ $2, R8
	MOVQ wp+40(FP), R9
	MOVQ wr+80(FP), R12
	MOVQ plane+32(FP), DX
	SHLQ $2, DX
	MOVQ ahead+88(FP), R10
	SHLQ $2, R10
	VMOVDQU32 evenIdx<>(SB), Z8
	VMOVDQU32 oddIdx<>(SB), Z9
	VPXORD Z7, Z7, Z7
t3img:
	CMPQ imgs+48(FP), $0
	JLE t3done
	XORQ R11, R11 // output column of the block
t3blk:
	CMPQ R11, R9
	JGE t3next
	OUTLANES
	MOVQ R11, AX
	SHLQ $1, AX
	SUBQ $16, AX // the 16 source columns before the block
	SRCLANES($16)
	KMOVW BX, K4
	MOVQ R11, AX
	SHLQ $1, AX // s0: the source column of the block's first lane
	SRCLANES($32)
	KMOVW BX, K1
	SHRQ $16, BX
	KMOVW BX, K3
	MOVQ src+0(FP), CX
	LEAQ (CX)(AX*4), AX
	MOVQ dst+24(FP), R13
	LEAQ (R13)(R11*4), R13 // plane 0
	LEAQ (R13)(DX*1), DI // plane 1
	LEAQ (DI)(DX*1), SI // plane 2
	ZEROROWS3(lead+56(FP), t3lead, t3data)
t3data:
	MOVQ rows+64(FP), R14
	TESTQ R14, R14
	JZ t3trail
t3row:
	VMOVUPS.Z (AX), K1, Z0
	VMOVUPS.Z 64(AX), K3, Z1
	VMOVUPS.Z -64(AX), K4, Z4
	PREFETCHT0 (AX)(R10*1)
	PREFETCHT0 64(AX)(R10*1)
	VMOVAPS Z0, Z2
	VPERMT2PS Z1, Z8, Z0 // columns 2v
	VPERMT2PS Z1, Z9, Z2 // columns 2v + 1
	VALIGND $15, Z4, Z2, Z3 // columns 2v − 1
	VMOVUPS Z3, K2, (R13)
	VMOVUPS Z0, K2, (DI)
	VMOVUPS Z2, K2, (SI)
	ADDQ R8, AX
	LEAQ (R13)(R9*4), R13
	LEAQ (DI)(R9*4), DI
	LEAQ (SI)(R9*4), SI
	DECQ R14
	JNZ t3row
t3trail:
	ZEROROWS3(trail+72(FP), t3t, t3blkend)
t3blkend:
	ADDQ $16, R11
	JMP t3blk
t3next:
	NEXTIMG
	JMP t3img
t3done:
	VZEROUPPER
	RET

// func fillTapsOne16(src *float32, lds, srcImg int, dst *float32, plane, wp, imgs, lead, rows, trail, wr, shift, kw int)
// fillTaps16 for stride 1: plane j's column v holds src[r·lds + v +
// shift + j] (zero outside 0..wr-1), one masked load of 16 floats a row.
TEXT ·fillTapsOne16(SB), NOSPLIT, $0-104
	MOVQ lds+8(FP), R8
	SHLQ $2, R8
	MOVQ wp+40(FP), R9
	MOVQ wr+80(FP), R12
	VPXORD Z7, Z7, Z7
f1img:
	CMPQ imgs+48(FP), $0
	JLE f1done
	MOVQ shift+88(FP), DX // the kernel column's shift
f1tap:
	MOVQ DX, BX
	SUBQ shift+88(FP), BX // j
	CMPQ BX, kw+96(FP)
	JGE f1next
	IMULQ plane+32(FP), BX
	MOVQ dst+24(FP), R10
	LEAQ (R10)(BX*4), R10 // plane j of the image
	XORQ R11, R11 // output column of the block
f1blk:
	CMPQ R11, R9
	JGE f1tapend
	OUTLANES
	MOVQ R11, AX
	ADDQ DX, AX // s0: the source column of the block's first lane
	SRCLANES($16)
	KMOVW BX, K1
	MOVQ src+0(FP), CX
	LEAQ (CX)(AX*4), AX
	LEAQ (R10)(R11*4), R13
	ZEROROWS(lead+56(FP), f1lead, f1data)
f1data:
	MOVQ rows+64(FP), R14
	TESTQ R14, R14
	JZ f1trail
f1row:
	VMOVUPS.Z (AX), K1, Z0
	VMOVUPS Z0, K2, (R13)
	ADDQ R8, AX
	LEAQ (R13)(R9*4), R13
	DECQ R14
	JNZ f1row
f1trail:
	ZEROROWS(trail+72(FP), f1t, f1blkend)
f1blkend:
	ADDQ $16, R11
	JMP f1blk
f1tapend:
	INCQ DX
	JMP f1tap
f1next:
	NEXTIMG
	JMP f1img
f1done:
	VZEROUPPER
	RET
