// Command gen writes ops/cpu/gemm/kernels_amd64.s, the amd64 micro-kernels of
// package gemm. Run it with `go generate ./ops/cpu/gemm`.
//
// It is a plain text generator rather than an avo program because avo v0.5.0
// has no AVX512_VNNI instructions (VPDPBUSD), which the int8 kernel needs;
// the Go assembler itself accepts them. Each kernel is unrolled for a fixed
// number of rows (1..MR), so edge tiles run a kernel of their own height
// instead of padding A.
//
// Every kernel takes one pointer to an argument struct whose field offsets
// are listed below and must match sgemmArgs / s8Args in kernels_amd64.go.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
)

// sgemmArgs offsets.
const (
	fA, fLda, fB, fKc, fC, fLdc, fAlpha, fBeta, fNr, fBoff = 0, 8, 16, 24, 32, 40, 48, 52, 56, 64
	fEpi, fScale, fShift, fRes, fLo, fHi                   = 72, 80, 88, 96, 104, 108
)

// Epilogue flags of the indirect fp32 kernel (sgemmArgs.epi).
const (
	epiOn, epiRes, epiFloor, epiCeil = 1, 2, 4, 8
)

// s8Args offsets.
const (
	iA, iLda, iB, iK, iC, iLdc, iCorr, iBias, iScale, iMode, iNr, iLo, iHi, iSegs, iSegSkip = 0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 92, 96, 104
)

type gen struct{ bytes.Buffer }

func (g *gen) f(format string, args ...any) { fmt.Fprintf(&g.Buffer, "\t"+format+"\n", args...) }
func (g *gen) label(l string)               { fmt.Fprintf(&g.Buffer, "%s:\n", l) }

// rowAddr returns the operand addressing row r of A at byte displacement d.
// Row r sits at base[r/3] + (r%3)*lda, lda in R9; bases are SI, R10..R13.
func rowAddr(r, d int) string {
	bases := []string{"SI", "R10", "R11", "R12", "R13"}
	b := bases[r/3]
	disp := ""
	if d != 0 {
		disp = fmt.Sprint(d)
	}
	switch r % 3 {
	case 0:
		return fmt.Sprintf("%s(%s)", disp, b)
	case 1:
		return fmt.Sprintf("%s(%s)(R9*1)", disp, b)
	default:
		return fmt.Sprintf("%s(%s)(R9*2)", disp, b)
	}
}

// setupBases loads the row base registers for rows rows (R9 = lda in bytes).
func (g *gen) setupBases(rows int) {
	bases := []string{"SI", "R10", "R11", "R12", "R13"}
	for i := 1; i*3 < rows; i++ {
		g.f("LEAQ (%s)(R9*2), %s", bases[i-1], bases[i])
		g.f("ADDQ R9, %s", bases[i])
	}
}

func (g *gen) advanceBases(rows, by int) {
	bases := []string{"SI", "R10", "R11", "R12", "R13"}
	for i := 0; i*3 < rows; i++ {
		g.f("ADDQ $%d, %s", by, bases[i])
	}
}

// loop emits a counted loop over CX steps unrolled u times; body(d) emits one
// step whose A displacement is d*aStep and B displacement d*bStep.
func (g *gen) loop(name string, rows, u, aStep, bStep int, body func(step int)) {
	g.f("MOVQ CX, BX")
	g.f("SHRQ $%d, BX", log2(u))
	g.f("JZ %s_tail", name)
	g.label(name + "_loop")
	for s := 0; s < u; s++ {
		body(s)
	}
	g.advanceBases(rows, u*aStep)
	g.f("ADDQ $%d, DX", u*bStep)
	g.f("DECQ BX")
	g.f("JNZ %s_loop", name)
	g.label(name + "_tail")
	g.f("ANDQ $%d, CX", u-1)
	g.f("JZ %s_done", name)
	g.label(name + "_tailloop")
	body(0)
	g.advanceBases(rows, aStep)
	g.f("ADDQ $%d, DX", bStep)
	g.f("DECQ CX")
	g.f("JNZ %s_tailloop", name)
	g.label(name + "_done")
}

func log2(u int) int {
	n := 0
	for 1<<n < u {
		n++
	}
	return n
}

func (g *gen) text(name string) {
	fmt.Fprintf(&g.Buffer, "\n// func %s(p *args)\nTEXT ·%s(SB), NOSPLIT, $0-8\n", name, name)
	g.f("MOVQ p+0(FP), AX")
}

// masks512 sets K1 (columns 0..15) and K2 (16..31) from the column count at off(AX).
func (g *gen) masks512(off int) {
	g.f("MOVQ %d(AX), CX", off)
	g.f("MOVQ $1, BX")
	g.f("SHLQ CX, BX")
	g.f("DECQ BX")
	g.f("KMOVW BX, K1")
	g.f("SHRQ $16, BX")
	g.f("KMOVW BX, K2")
}

// masks256 loads Y12 (columns 0..7) and Y13 (8..15) from maskTab for the column count at off(AX).
func (g *gen) masks256(off int) {
	g.f("MOVQ %d(AX), CX", off)
	g.f("NEGQ CX")
	g.f("LEAQ maskTab<>+64(SB), BX")
	g.f("VMOVDQU (BX)(CX*4), Y12")
	g.f("VMOVDQU 32(BX)(CX*4), Y13")
}

// sgemmAVX512 emits the rows×32 fp32 kernel: C = alpha*A*B + beta*C.
// A is read in place (rows at lda), B is a packed kc×32 panel.
func (g *gen) sgemmAVX512(rows int) {
	g.sgemm512(fmt.Sprintf("sgemmAVX512_%d", rows), rows, 2, false, false)
}

// sgemmIdxAVX512 emits the rows×48 kernel (rows <= 9) whose B row k is the
// 48 floats (fewer, masked, at the right edge) at b + boff[k]: an
// implicit-GEMM convolution reads its input image in place, one offset per
// kernel tap. Its 27 accumulators in 3 columns of vectors let row tiles of
// 8 cover the 16..64 output channels of small CNNs without a short tail.
func (g *gen) sgemmIdxAVX512(rows int) {
	g.sgemm512(fmt.Sprintf("sgemmIdxAVX512_%d", rows), rows, 3, true, false)
}

// sgemmIdxStreamAVX512 emits sgemmIdxAVX512 with a prefetch of each row
// of A 512 bytes ahead (PREFETCHT0, one per row every 4 k steps), for
// an A that streams from memory (larger than a core's L2: resnet18's
// 7×7 and stride-2 layers onto 7×7), whose rows the kernel otherwise
// waits for; with A in cache the prefetches cost 3-5%, so SgemmIndirect
// takes this variant only for a large A.
func (g *gen) sgemmIdxStreamAVX512(rows int) {
	g.sgemm512(fmt.Sprintf("sgemmIdxStreamAVX512_%d", rows), rows, 3, true, true)
}

// sgemmIdxNarrow emits the rows×16 (nv 1: sgemmIdx16AVX512) and rows×32
// (nv 2: sgemmIdx32AVX512) variants of sgemmIdxAVX512 for the last
// columns of a row: the 49 columns of a 7×7 image are a 48-column tile
// and a 16-column one instead of two 48-column ones.
func (g *gen) sgemmIdxNarrow(rows, nv int) {
	g.sgemm512(fmt.Sprintf("sgemmIdx%dAVX512_%d", 16*nv, rows), rows, nv, true, false)
}

// sgemm512 is the body of the AVX-512 fp32 kernels: a rows×(16·nv) tile
// (accumulator Z(nv·r+h)); indirect selects sgemmIdxAVX512's B (R14 the
// base, DX walking the offset table); stream adds the prefetch of A's
// rows (sgemmIdxStreamAVX512).
func (g *gen) sgemm512(name string, rows, nv int, indirect, stream bool) {
	g.text(name)
	g.f("MOVQ %d(AX), SI", fA)
	g.f("MOVQ %d(AX), R9", fLda)
	g.f("SHLQ $2, R9")
	bStep := 64 * nv
	if indirect {
		g.masksN(fNr, nv)
		g.f("MOVQ %d(AX), R14", fB)
		g.f("MOVQ %d(AX), DX", fBoff)
		bStep = 8
	} else {
		g.f("MOVQ %d(AX), DX", fB)
	}
	g.f("MOVQ %d(AX), CX", fKc)
	g.setupBases(rows)
	for i := 0; i < nv*rows; i++ {
		g.f("VPXORD Z%d, Z%d, Z%d", i, i, i)
	}
	bReg := func(h int) int { return 30 - nv + h }
	g.loop(name, rows, 4, 4, bStep, func(s int) {
		if indirect {
			g.f("MOVQ %d(DX), R15", 8*s)
		}
		if stream && s < 3 { // rows 3s..3s+2, so each row once per unrolled loop
			for r := s * 3; r < min(rows, s*3+3); r++ {
				g.f("PREFETCHT0 %s", rowAddr(r, 512))
			}
		}
		for h := 0; h < nv; h++ {
			if indirect {
				g.f("VMOVUPS.Z %s(R14)(R15*4), K%d, Z%d", disp(64*h), h+1, bReg(h))
			} else {
				g.f("VMOVUPS %d(DX), Z%d", 64*nv*s+64*h, bReg(h))
			}
		}
		for r := 0; r < rows; r++ {
			bc := 30 + r%2
			g.f("VBROADCASTSS %s, Z%d", rowAddr(r, 4*s), bc)
			for h := 0; h < nv; h++ {
				g.f("VFMADD231PS Z%d, Z%d, Z%d", bReg(h), bc, nv*r+h)
			}
		}
	})
	g.masksN(fNr, nv)
	g.f("MOVQ %d(AX), DI", fC)
	g.f("MOVQ %d(AX), R8", fLdc)
	g.f("SHLQ $2, R8")
	if indirect {
		g.f("MOVQ %d(AX), R15", fEpi)
		g.f("TESTQ R15, R15")
		g.f("JNZ %s_epi", name)
	}
	g.f("VBROADCASTSS %d(AX), Z28", fAlpha)
	g.f("VBROADCASTSS %d(AX), Z29", fBeta)
	g.f("MOVL %d(AX), BX", fBeta)
	g.f("ANDL $0x7fffffff, BX")
	g.f("JZ %s_beta0", name)
	for r := 0; r < rows; r++ {
		for h := 0; h < nv; h++ {
			k := h + 1
			g.f("VMOVUPS.Z %d(DI), K%d, Z30", 64*h, k)
			g.f("VMULPS Z29, Z30, Z30")
			g.f("VFMADD231PS Z28, Z%d, Z30", nv*r+h)
			g.f("VMOVUPS Z30, K%d, %d(DI)", k, 64*h)
		}
		g.f("ADDQ R8, DI")
	}
	g.f("VZEROUPPER")
	g.f("RET")
	g.label(name + "_beta0")
	for r := 0; r < rows; r++ {
		for h := 0; h < nv; h++ {
			g.f("VMULPS Z28, Z%d, Z%d", nv*r+h, nv*r+h)
			g.f("VMOVUPS Z%d, K%d, %d(DI)", nv*r+h, h+1, 64*h)
		}
		g.f("ADDQ R8, DI")
	}
	g.f("VZEROUPPER")
	g.f("RET")
	if indirect {
		g.epilogue512(name, rows, nv)
	}
}

// epilogue512 emits the fused output pass of the indirect kernel, taken
// when sgemmArgs.epi is set (R15): the tile is first merged with C exactly
// as the plain store computes it (alpha·acc + beta·C), then, while it is
// in registers, o = fma(o, scale[r], shift[r]) (+ res, rows ldc apart) (a
// floor lo) (a ceiling hi) is stored: the operations, in order and with
// the operand order (NaN propagation) of ops/cpu's directOut16.
func (g *gen) epilogue512(name string, rows, nv int) {
	acc := func(r, h int) int { return nv*r + h }
	all := func(f func(r, h int)) {
		for r := 0; r < rows; r++ {
			for h := 0; h < nv; h++ {
				f(r, h)
			}
		}
	}
	g.label(name + "_epi")
	g.f("VBROADCASTSS %d(AX), Z27", fAlpha)
	g.f("VBROADCASTSS %d(AX), Z28", fBeta)
	g.f("MOVL %d(AX), BX", fBeta)
	g.f("ANDL $0x7fffffff, BX")
	g.f("JZ %s_epib0", name)
	g.f("MOVQ DI, R13")
	for r := 0; r < rows; r++ {
		for h := 0; h < nv; h++ {
			g.f("VMOVUPS.Z %s(R13), K%d, Z31", disp(64*h), h+1)
			g.f("VMULPS Z28, Z31, Z31")
			g.f("VFMADD231PS Z27, Z%d, Z31", acc(r, h))
			g.f("VMOVAPS Z31, Z%d", acc(r, h))
		}
		g.f("ADDQ R8, R13")
	}
	g.f("JMP %s_epiact", name)
	g.label(name + "_epib0")
	all(func(r, h int) { g.f("VMULPS Z27, Z%d, Z%d", acc(r, h), acc(r, h)) })
	g.label(name + "_epiact")
	g.f("MOVQ %d(AX), R10", fScale)
	g.f("MOVQ %d(AX), R11", fShift)
	for r := 0; r < rows; r++ {
		g.f("VBROADCASTSS %d(R10), Z29", 4*r)
		g.f("VBROADCASTSS %d(R11), Z30", 4*r)
		for h := 0; h < nv; h++ {
			g.f("VFMADD213PS Z30, Z29, Z%d", acc(r, h))
		}
	}
	g.f("TESTQ $%d, R15", epiRes)
	g.f("JZ %s_epinores", name)
	g.f("MOVQ %d(AX), R13", fRes)
	for r := 0; r < rows; r++ {
		for h := 0; h < nv; h++ {
			g.f("VMOVUPS.Z %s(R13), K%d, Z31", disp(64*h), h+1)
			g.f("VADDPS Z31, Z%d, Z%d", acc(r, h), acc(r, h))
		}
		g.f("ADDQ R8, R13")
	}
	g.label(name + "_epinores")
	g.f("TESTQ $%d, R15", epiFloor)
	g.f("JZ %s_epinolo", name)
	g.f("VBROADCASTSS %d(AX), Z27", fLo)
	all(func(r, h int) { g.f("VMAXPS Z27, Z%d, Z%d", acc(r, h), acc(r, h)) })
	g.label(name + "_epinolo")
	g.f("TESTQ $%d, R15", epiCeil)
	g.f("JZ %s_epinohi", name)
	g.f("VBROADCASTSS %d(AX), Z28", fHi)
	all(func(r, h int) { g.f("VMINPS Z28, Z%d, Z%d", acc(r, h), acc(r, h)) })
	g.label(name + "_epinohi")
	for r := 0; r < rows; r++ {
		for h := 0; h < nv; h++ {
			g.f("VMOVUPS Z%d, K%d, %s(DI)", acc(r, h), h+1, disp(64*h))
		}
		g.f("ADDQ R8, DI")
	}
	g.f("VZEROUPPER")
	g.f("RET")
}

// disp is an assembler displacement: empty for 0.
func disp(d int) string {
	if d == 0 {
		return ""
	}
	return fmt.Sprint(d)
}

// masksN sets K1..Knv (16 columns each) from the column count at off(AX).
func (g *gen) masksN(off, nv int) {
	g.masks512(off)
	for k := 3; k <= nv; k++ {
		g.f("SHRQ $16, BX")
		g.f("KMOVW BX, K%d", k)
	}
}

// sgemmAVX2 emits the rows×16 fp32 kernel for AVX2+FMA (rows <= 6).
func (g *gen) sgemmAVX2(rows int) {
	name := fmt.Sprintf("sgemmAVX2_%d", rows)
	g.text(name)
	g.f("MOVQ %d(AX), SI", fA)
	g.f("MOVQ %d(AX), R9", fLda)
	g.f("SHLQ $2, R9")
	g.f("MOVQ %d(AX), DX", fB)
	g.f("MOVQ %d(AX), CX", fKc)
	g.setupBases(rows)
	for i := 0; i < 2*rows; i++ {
		g.f("VPXOR Y%d, Y%d, Y%d", i, i, i)
	}
	g.loop(name, rows, 4, 4, 64, func(s int) {
		g.f("VMOVUPS %d(DX), Y12", 64*s)
		g.f("VMOVUPS %d(DX), Y13", 64*s+32)
		for r := 0; r < rows; r++ {
			bc := 14 + r%2
			g.f("VBROADCASTSS %s, Y%d", rowAddr(r, 4*s), bc)
			g.f("VFMADD231PS Y12, Y%d, Y%d", bc, 2*r)
			g.f("VFMADD231PS Y13, Y%d, Y%d", bc, 2*r+1)
		}
	})
	g.f("VBROADCASTSS %d(AX), Y14", fAlpha)
	for i := 0; i < 2*rows; i++ {
		g.f("VMULPS Y14, Y%d, Y%d", i, i)
	}
	g.masks256(fNr)
	g.f("MOVQ %d(AX), DI", fC)
	g.f("MOVQ %d(AX), R8", fLdc)
	g.f("SHLQ $2, R8")
	g.f("VBROADCASTSS %d(AX), Y15", fBeta)
	g.f("MOVL %d(AX), BX", fBeta)
	g.f("ANDL $0x7fffffff, BX")
	g.f("JZ %s_beta0", name)
	for r := 0; r < rows; r++ {
		for h := 0; h < 2; h++ {
			m := 12 + h
			g.f("VMASKMOVPS %d(DI), Y%d, Y14", 32*h, m)
			g.f("VFMADD231PS Y15, Y14, Y%d", 2*r+h)
			g.f("VMASKMOVPS Y%d, Y%d, %d(DI)", 2*r+h, m, 32*h)
		}
		g.f("ADDQ R8, DI")
	}
	g.f("VZEROUPPER")
	g.f("RET")
	g.label(name + "_beta0")
	for r := 0; r < rows; r++ {
		for h := 0; h < 2; h++ {
			g.f("VMASKMOVPS Y%d, Y%d, %d(DI)", 2*r+h, 12+h, 32*h)
		}
		g.f("ADDQ R8, DI")
	}
	g.f("VZEROUPPER")
	g.f("RET")
}

// s8VNNI emits the rows×32 int8 kernel. A (s8) is read in place, 4 bytes of
// a row broadcast per step; B is a packed panel of u8 = b+128, k/4 steps of
// 32 columns × 4 bytes. Accumulators start at corr[r] = -128*sum(A[r,:]),
// which cancels the +128. The tail writes int32 (mode 0), or adds bias,
// scales, clamps to [lo,hi] and writes int8 (mode 1) or float32 (mode 2).
// With segs > 1 the k steps repeat segs times, the row pointers moving on
// by segSkip bytes in between (each row of A is segs runs of 4k bytes).
//
// With u8A (the u8VNNI kernels) the operands swap roles: A holds u8 =
// a+128 and B plain s8, so no row correction is needed (the caller folds
// -128·colSum into the bias and passes zero corr).
func (g *gen) s8VNNI(rows int, u8A bool) {
	name := fmt.Sprintf("s8VNNI_%d", rows)
	if u8A {
		name = fmt.Sprintf("u8VNNI_%d", rows)
	}
	g.text(name)
	g.f("MOVQ %d(AX), SI", iA)
	g.f("MOVQ %d(AX), R9", iLda)
	g.f("MOVQ %d(AX), DX", iB)
	g.f("MOVQ %d(AX), CX", iK)
	g.f("MOVQ %d(AX), BX", iCorr)
	for r := 0; r < rows; r++ {
		g.f("VPBROADCASTD %d(BX), Z%d", 4*r, 2*r)
		g.f("VMOVDQA64 Z%d, Z%d", 2*r, 2*r+1)
	}
	g.setupBases(rows)
	g.f("MOVQ %d(AX), DI", iSegs)
	g.f("MOVQ %d(AX), R8", iSegSkip)
	g.label(name + "_seg")
	g.loop(name, rows, 4, 4, 128, func(s int) {
		g.f("VMOVDQU32 %d(DX), Z28", 128*s)
		g.f("VMOVDQU32 %d(DX), Z29", 128*s+64)
		for r := 0; r < rows; r++ {
			bc := 30 + r%2
			g.f("VPBROADCASTD %s, Z%d", rowAddr(r, 4*s), bc)
			if u8A {
				g.f("VPDPBUSD Z28, Z%d, Z%d", bc, 2*r)
				g.f("VPDPBUSD Z29, Z%d, Z%d", bc, 2*r+1)
				continue
			}
			g.f("VPDPBUSD Z%d, Z28, Z%d", bc, 2*r)
			g.f("VPDPBUSD Z%d, Z29, Z%d", bc, 2*r+1)
		}
	})
	// Segments (implicit GEMM): after each run of k steps the row
	// pointers skip segSkip bytes to the next segment of every row.
	g.f("DECQ DI")
	g.f("JLE %s_segdone", name)
	bases := []string{"SI", "R10", "R11", "R12", "R13"}
	for i := 0; i*3 < rows; i++ {
		g.f("ADDQ R8, %s", bases[i])
	}
	g.f("MOVQ %d(AX), CX", iK)
	g.f("JMP %s_seg", name)
	g.label(name + "_segdone")
	g.masks512(iNr)
	g.f("MOVQ %d(AX), DI", iC)
	g.f("MOVQ %d(AX), R8", iLdc)
	g.f("MOVQ %d(AX), BX", iMode)
	g.f("CMPQ BX, $0")
	g.f("JNE %s_epi", name)
	g.f("SHLQ $2, R8")
	for r := 0; r < rows; r++ {
		g.f("VMOVDQU32 Z%d, K1, (DI)", 2*r)
		g.f("VMOVDQU32 Z%d, K2, 64(DI)", 2*r+1)
		g.f("ADDQ R8, DI")
	}
	g.f("VZEROUPPER")
	g.f("RET")
	g.label(name + "_epi")
	g.f("MOVQ %d(AX), R10", iBias)
	g.f("MOVQ %d(AX), R11", iScale)
	g.f("VMOVDQU32.Z (R10), K1, Z28")
	g.f("VMOVDQU32.Z 64(R10), K2, Z29")
	g.f("VMOVUPS.Z (R11), K1, Z30")
	g.f("VMOVUPS.Z 64(R11), K2, Z31")
	for i := 0; i < 2*rows; i++ {
		g.f("VPADDD Z%d, Z%d, Z%d", 28+i%2, i, i)
		g.f("VCVTDQ2PS Z%d, Z%d", i, i)
		g.f("VMULPS Z%d, Z%d, Z%d", 30+i%2, i, i)
		g.f("VMAXPS.BCST %d(AX), Z%d, Z%d", iLo, i, i)
		g.f("VMINPS.BCST %d(AX), Z%d, Z%d", iHi, i, i)
	}
	g.f("CMPQ BX, $1")
	g.f("JNE %s_f32", name)
	for r := 0; r < rows; r++ {
		for h := 0; h < 2; h++ {
			g.f("VCVTPS2DQ Z%d, Z%d", 2*r+h, 2*r+h)
			g.f("VPMOVSDB Z%d, K%d, %d(DI)", 2*r+h, h+1, 16*h)
		}
		g.f("ADDQ R8, DI")
	}
	g.f("VZEROUPPER")
	g.f("RET")
	g.label(name + "_f32")
	g.f("SHLQ $2, R8")
	for r := 0; r < rows; r++ {
		for h := 0; h < 2; h++ {
			g.f("VMOVUPS Z%d, K%d, %d(DI)", 2*r+h, h+1, 64*h)
		}
		g.f("ADDQ R8, DI")
	}
	g.f("VZEROUPPER")
	g.f("RET")
}

// s16AVX2 emits the rows×16 AVX2 int8 kernel (rows <= 6) over int16 data:
// A rows hold int16 (lda in bytes), B is packed k/2 steps of 16 columns × 2
// int16. VPMADDWD sums two exact int16 products into int32, so nothing
// saturates. It always writes int32.
func (g *gen) s16AVX2(rows int) {
	name := fmt.Sprintf("s16AVX2_%d", rows)
	g.text(name)
	g.f("MOVQ %d(AX), SI", iA)
	g.f("MOVQ %d(AX), R9", iLda)
	g.f("MOVQ %d(AX), DX", iB)
	g.f("MOVQ %d(AX), CX", iK)
	g.setupBases(rows)
	for i := 0; i < 2*rows; i++ {
		g.f("VPXOR Y%d, Y%d, Y%d", i, i, i)
	}
	g.loop(name, rows, 2, 4, 64, func(s int) {
		g.f("VMOVDQU %d(DX), Y12", 64*s)
		g.f("VMOVDQU %d(DX), Y13", 64*s+32)
		for r := 0; r < rows; r++ {
			g.f("VPBROADCASTD %s, Y14", rowAddr(r, 4*s))
			g.f("VPMADDWD Y12, Y14, Y15")
			g.f("VPADDD Y15, Y%d, Y%d", 2*r, 2*r)
			g.f("VPMADDWD Y13, Y14, Y15")
			g.f("VPADDD Y15, Y%d, Y%d", 2*r+1, 2*r+1)
		}
	})
	g.masks256(iNr)
	g.f("MOVQ %d(AX), DI", iC)
	g.f("MOVQ %d(AX), R8", iLdc)
	g.f("SHLQ $2, R8")
	for r := 0; r < rows; r++ {
		g.f("VPMASKMOVD Y%d, Y12, (DI)", 2*r)
		g.f("VPMASKMOVD Y%d, Y13, 32(DI)", 2*r+1)
		g.f("ADDQ R8, DI")
	}
	g.f("VZEROUPPER")
	g.f("RET")
}

// rowCorrVNNI emits func rowCorrVNNI(a *int8, lda, m, k int, corr *int32):
// corr[i] = -128 * sum(a[i*lda : i*lda+k]).
func (g *gen) rowCorrVNNI() {
	g.Buffer.WriteString("\n// func rowCorrVNNI(a *int8, lda, m, k int, corr *int32)\nTEXT ·rowCorrVNNI(SB), NOSPLIT, $0-40\n")
	g.f("MOVQ a+0(FP), SI")
	g.f("MOVQ lda+8(FP), R9")
	g.f("MOVQ m+16(FP), R10")
	g.f("MOVQ k+24(FP), R11")
	g.f("MOVQ corr+32(FP), DI")
	g.f("MOVL $0x01010101, BX")
	g.f("VPBROADCASTD BX, Z31")
	g.f("MOVQ R11, CX")
	g.f("ANDQ $63, CX")
	g.f("MOVQ $1, BX")
	g.f("SHLQ CX, BX")
	g.f("DECQ BX")
	g.f("KMOVQ BX, K1")
	g.f("SHRQ $6, R11")
	g.f("TESTQ R10, R10")
	g.f("JZ rc_done")
	g.label("rc_row")
	g.f("VPXORD Z0, Z0, Z0")
	g.f("VPXORD Z1, Z1, Z1")
	g.f("MOVQ SI, DX")
	g.f("MOVQ R11, CX")
	g.f("SHRQ $1, CX")
	g.f("JZ rc_one")
	g.label("rc_two")
	g.f("VPDPBUSD (DX), Z31, Z0")
	g.f("VPDPBUSD 64(DX), Z31, Z1")
	g.f("ADDQ $128, DX")
	g.f("DECQ CX")
	g.f("JNZ rc_two")
	g.label("rc_one")
	g.f("TESTQ $1, R11")
	g.f("JZ rc_rest")
	g.f("VPDPBUSD (DX), Z31, Z0")
	g.f("ADDQ $64, DX")
	g.label("rc_rest")
	g.f("VMOVDQU8.Z (DX), K1, Z2")
	g.f("VPDPBUSD Z2, Z31, Z1")
	g.f("VPADDD Z1, Z0, Z0")
	g.f("VEXTRACTI64X4 $1, Z0, Y1")
	g.f("VPADDD Y1, Y0, Y0")
	g.f("VEXTRACTI128 $1, Y0, X1")
	g.f("VPADDD X1, X0, X0")
	g.f("VPSHUFD $0x4e, X0, X1")
	g.f("VPADDD X1, X0, X0")
	g.f("VPSHUFD $0xb1, X0, X1")
	g.f("VPADDD X1, X0, X0")
	g.f("VMOVD X0, BX")
	g.f("IMULL $-128, BX")
	g.f("MOVL BX, (DI)")
	g.f("ADDQ $4, DI")
	g.f("ADDQ R9, SI")
	g.f("DECQ R10")
	g.f("JNZ rc_row")
	g.label("rc_done")
	g.f("VZEROUPPER")
	g.f("RET")
}

// transpose16 emits func transpose16(dst *float32, lds int, src *float32, lsrc int):
// dst[i*lds+p] = src[p*lsrc+i] for a 16×16 block, in four shuffle stages
// (32-bit and 64-bit unpacks, then two 128-bit lane shuffles).
func (g *gen) transpose16() {
	g.Buffer.WriteString("\n// func transpose16(dst *float32, lds int, src *float32, lsrc int)\nTEXT ·transpose16(SB), NOSPLIT, $0-32\n")
	g.f("MOVQ dst+0(FP), DI")
	g.f("MOVQ lds+8(FP), R8")
	g.f("SHLQ $2, R8")
	g.f("MOVQ src+16(FP), SI")
	g.f("MOVQ lsrc+24(FP), R9")
	g.f("SHLQ $2, R9")
	r := func(i int) string { return fmt.Sprintf("Z%d", i) }
	t := func(i int) string { return fmt.Sprintf("Z%d", 16+i) }
	for i := 0; i < 16; i++ {
		g.f("VMOVUPS (SI), %s", r(i))
		g.f("ADDQ R9, SI")
	}
	for i := 0; i < 16; i += 2 {
		g.f("VUNPCKLPS %s, %s, %s", r(i+1), r(i), t(i))
		g.f("VUNPCKHPS %s, %s, %s", r(i+1), r(i), t(i+1))
	}
	for i := 0; i < 16; i += 4 {
		g.f("VUNPCKLPD %s, %s, %s", t(i+2), t(i), r(i))
		g.f("VUNPCKHPD %s, %s, %s", t(i+2), t(i), r(i+1))
		g.f("VUNPCKLPD %s, %s, %s", t(i+3), t(i+1), r(i+2))
		g.f("VUNPCKHPD %s, %s, %s", t(i+3), t(i+1), r(i+3))
	}
	for h := 0; h < 16; h += 8 {
		for i := 0; i < 4; i++ {
			g.f("VSHUFF32X4 $0x88, %s, %s, %s", r(h+i+4), r(h+i), t(h+i))
			g.f("VSHUFF32X4 $0xdd, %s, %s, %s", r(h+i+4), r(h+i), t(h+i+4))
		}
	}
	for i := 0; i < 8; i++ {
		g.f("VSHUFF32X4 $0x88, %s, %s, %s", t(i+8), t(i), r(i))
		g.f("VSHUFF32X4 $0xdd, %s, %s, %s", t(i+8), t(i), r(i+8))
	}
	for i := 0; i < 16; i++ {
		g.f("VMOVUPS %s, (DI)", r(i))
		g.f("ADDQ R8, DI")
	}
	g.f("VZEROUPPER")
	g.f("RET")
}

// sdotRows emits func sdotRows(a, b *float32, ldb, k, n int, out *float32):
// out[j] = dot(a[:k], b[j*ldb:j*ldb+k]) for j < n, four B rows at a time
// with two accumulators each; the k%16 tail uses masked loads.
func (g *gen) sdotRows() {
	g.Buffer.WriteString("\n// func sdotRows(a, b *float32, ldb, k, n int, out *float32)\nTEXT ·sdotRows(SB), NOSPLIT, $0-48\n")
	g.f("MOVQ a+0(FP), SI")
	g.f("MOVQ b+8(FP), DX")
	g.f("MOVQ ldb+16(FP), R9")
	g.f("SHLQ $2, R9")
	g.f("MOVQ k+24(FP), R10")
	g.f("MOVQ n+32(FP), R11")
	g.f("MOVQ out+40(FP), DI")
	g.f("MOVQ R10, CX")
	g.f("ANDQ $15, CX")
	g.f("MOVQ $1, BX")
	g.f("SHLQ CX, BX")
	g.f("DECQ BX")
	g.f("KMOVW BX, K1")
	g.f("SHRQ $4, R10") // full 16-float steps
	// rows: group of 4 (or 1 for the remainder); body(rows) computes and stores.
	body := func(name string, rows int) {
		for i := 0; i < 2*rows; i++ {
			g.f("VPXORD Z%d, Z%d, Z%d", i, i, i)
		}
		g.f("MOVQ SI, R12") // a
		g.f("MOVQ DX, R13") // row 0
		g.f("LEAQ (DX)(R9*2), R14")
		g.f("ADDQ R9, R14") // row 3
		g.f("MOVQ R10, CX")
		addr := func(r, d int) string {
			switch r {
			case 0:
				return fmt.Sprintf("%d(R13)", d)
			case 1:
				return fmt.Sprintf("%d(R13)(R9*1)", d)
			case 2:
				return fmt.Sprintf("%d(R13)(R9*2)", d)
			}
			return fmt.Sprintf("%d(R14)", d)
		}
		g.f("SHRQ $1, CX")
		g.f("JZ %s_one", name)
		g.label(name + "_two")
		for u := 0; u < 2; u++ {
			g.f("VMOVUPS %d(R12), Z30", 64*u)
			for r := 0; r < rows; r++ {
				g.f("VFMADD231PS %s, Z30, Z%d", addr(r, 64*u), 2*r+u)
			}
		}
		g.f("ADDQ $128, R12")
		g.f("ADDQ $128, R13")
		g.f("ADDQ $128, R14")
		g.f("DECQ CX")
		g.f("JNZ %s_two", name)
		g.label(name + "_one")
		g.f("TESTQ $1, R10")
		g.f("JZ %s_rest", name)
		g.f("VMOVUPS (R12), Z30")
		for r := 0; r < rows; r++ {
			g.f("VFMADD231PS %s, Z30, Z%d", addr(r, 0), 2*r)
		}
		g.f("ADDQ $64, R12")
		g.f("ADDQ $64, R13")
		g.f("ADDQ $64, R14")
		g.label(name + "_rest")
		g.f("VMOVUPS.Z (R12), K1, Z30")
		for r := 0; r < rows; r++ {
			g.f("VMOVUPS.Z %s, K1, Z31", addr(r, 0))
			g.f("VFMADD231PS Z31, Z30, Z%d", 2*r+1)
		}
		for r := 0; r < rows; r++ {
			g.f("VADDPS Z%d, Z%d, Z%d", 2*r+1, 2*r, 2*r)
			g.f("VEXTRACTF64X4 $1, Z%d, Y15", 2*r)
			g.f("VADDPS Y15, Y%d, Y%d", 2*r, 2*r)
			g.f("VEXTRACTF128 $1, Y%d, X15", 2*r)
			g.f("VADDPS X15, X%d, X%d", 2*r, 2*r)
			g.f("VHADDPS X%d, X%d, X%d", 2*r, 2*r, 2*r)
			g.f("VHADDPS X%d, X%d, X%d", 2*r, 2*r, 2*r)
			g.f("VMOVSS X%d, %d(DI)", 2*r, 4*r)
		}
	}
	g.label("sdot_four")
	g.f("CMPQ R11, $4")
	g.f("JLT sdot_single")
	body("sdot4", 4)
	g.f("LEAQ (DX)(R9*4), DX")
	g.f("ADDQ $16, DI")
	g.f("SUBQ $4, R11")
	g.f("JMP sdot_four")
	g.label("sdot_single")
	g.f("TESTQ R11, R11")
	g.f("JZ sdot_done")
	body("sdot1", 1)
	g.f("ADDQ R9, DX")
	g.f("ADDQ $4, DI")
	g.f("DECQ R11")
	g.f("JMP sdot_single")
	g.label("sdot_done")
	g.f("VZEROUPPER")
	g.f("RET")
}

// packRows32 emits func packRows32(dst, src *float32, ld, rows, w int):
// copies rows rows of w <= 32 floats (rows ld floats apart) into dst as
// 32-float rows, zero filling columns w..31: a B panel of a non-transposed B.
func (g *gen) packRows32() {
	g.Buffer.WriteString("\n// func packRows32(dst, src *float32, ld, rows, w int)\nTEXT ·packRows32(SB), NOSPLIT, $0-40\n")
	g.f("MOVQ dst+0(FP), DI")
	g.f("MOVQ src+8(FP), SI")
	g.f("MOVQ ld+16(FP), R9")
	g.f("SHLQ $2, R9")
	g.f("MOVQ rows+24(FP), R10")
	g.f("MOVQ w+32(FP), CX")
	g.f("MOVQ $1, BX")
	g.f("SHLQ CX, BX")
	g.f("DECQ BX")
	g.f("KMOVW BX, K1")
	g.f("SHRQ $16, BX")
	g.f("KMOVW BX, K2")
	g.f("TESTQ R10, R10")
	g.f("JZ pr_done")
	g.label("pr_loop")
	g.f("VMOVUPS.Z (SI), K1, Z0")
	g.f("VMOVUPS.Z 64(SI), K2, Z1")
	g.f("VMOVUPS Z0, (DI)")
	g.f("VMOVUPS Z1, 64(DI)")
	g.f("ADDQ R9, SI")
	g.f("ADDQ $128, DI")
	g.f("DECQ R10")
	g.f("JNZ pr_loop")
	g.label("pr_done")
	g.f("VZEROUPPER")
	g.f("RET")
}

func main() {
	out := flag.String("o", "kernels_amd64.s", "assembly output file")
	stubs := flag.String("stubs", "stubs_amd64.go", "Go declarations output file")
	flag.Parse()
	var g gen
	g.WriteString("// Code generated by internal/gen (go generate ./ops/cpu/gemm); DO NOT EDIT.\n\n")
	g.WriteString("//go:build amd64 && !purego\n\n#include \"textflag.h\"\n\n")
	g.WriteString("// maskTab: 16 x -1 then 16 x 0; 8 words from (16-n)*4 mask the first n columns.\n")
	for i := 0; i < 32; i++ {
		v := "$0xffffffff"
		if i >= 16 {
			v = "$0"
		}
		fmt.Fprintf(&g.Buffer, "DATA maskTab<>+%d(SB)/4, %s\n", 4*i, v)
	}
	g.WriteString("GLOBL maskTab<>(SB), RODATA|NOPTR, $128\n")
	for r := 1; r <= 14; r++ {
		g.sgemmAVX512(r)
	}
	for r := 1; r <= 9; r++ {
		g.sgemmIdxAVX512(r)
	}
	for r := 1; r <= 9; r++ {
		g.sgemmIdxStreamAVX512(r)
	}
	for nv := 1; nv <= 2; nv++ {
		for r := 1; r <= 9; r++ {
			g.sgemmIdxNarrow(r, nv)
		}
	}
	for r := 1; r <= 6; r++ {
		g.sgemmAVX2(r)
	}
	for r := 1; r <= 14; r++ {
		g.s8VNNI(r, false)
	}
	for r := 1; r <= 14; r++ {
		g.s8VNNI(r, true)
	}
	for r := 1; r <= 6; r++ {
		g.s16AVX2(r)
	}
	g.rowCorrVNNI()
	g.transpose16()
	g.sdotRows()
	g.packRows32()
	if err := os.WriteFile(*out, g.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*stubs, goStubs(), 0o644); err != nil {
		log.Fatal(err)
	}
}

// goStubs declares every kernel and a table of each family indexed by rows.
func goStubs() []byte {
	var b bytes.Buffer
	b.WriteString("// Code generated by internal/gen (go generate ./ops/cpu/gemm); DO NOT EDIT.\n\n")
	b.WriteString("//go:build amd64 && !purego\n\npackage gemm\n")
	for _, f := range []struct {
		name, typ string
		rows      int
	}{{"sgemmAVX512", "sgemmArgs", 14}, {"sgemmIdxAVX512", "sgemmArgs", 9}, {"sgemmIdxStreamAVX512", "sgemmArgs", 9}, {"sgemmIdx16AVX512", "sgemmArgs", 9}, {"sgemmIdx32AVX512", "sgemmArgs", 9}, {"sgemmAVX2", "sgemmArgs", 6}, {"s8VNNI", "s8Args", 14}, {"u8VNNI", "s8Args", 14}, {"s16AVX2", "s8Args", 6}} {
		fmt.Fprintf(&b, "\n// %s[r] is the %s kernel for r rows.\nvar %s = [...]func(*%s){nil", f.name, f.name, f.name, f.typ)
		for r := 1; r <= f.rows; r++ {
			fmt.Fprintf(&b, ", %s_%d", f.name, r)
		}
		b.WriteString("}\n")
		for r := 1; r <= f.rows; r++ {
			fmt.Fprintf(&b, "\n//go:noescape\nfunc %s_%d(p *%s)\n", f.name, r, f.typ)
		}
	}
	return b.Bytes()
}
