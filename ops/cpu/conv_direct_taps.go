package cpu

// The gapless layout of strided direct convolutions.
//
// With column phases (newDirectGeom) a strided convolution's rows carry
// gap columns: a tap left of the image reads the gap after the previous
// row. Those columns are computed by the GEMM and dropped by an output
// pass over its result (at 8×8, rows of 8 floats: half a vector). Here a
// convolution with a column stride of 2 or more, or a small stride-1 one
// whose gaps cost its GEMM a vector (tapsPay), gets one plane per row
// phase and kernel column instead: plane (a, j) holds, at column ow of
// phase row u, input (u·sH + a, ow·sW + j·dW − padW), zero outside the
// image. A tap is then a shift by whole rows of one plane, every GEMM
// column is an output and the GEMM writes y through its epilogue
// (directForward's into). The planes hold KW/sW times the floats of the
// column phases (1.5× for 3×3 stride 2); a stride-2 row's two
// neighbouring kernel columns are written from one read of it
// (fillTapPlanes).

import (
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// tapsPay reports whether a stride-1 convolution (in column phases, g)
// takes the gapless layout instead: a small image (at most four kernel
// blocks of outputs) whose gap columns cost its GEMM a 16-column vector
// or more. resnet20's 8×8 layers at batch 1: 71 columns in the phases
// (48 + 23, two vectors of the narrow kernel), 64 without (48 + 16);
// resnet18's 7×7 layers at batch 1: 55 columns (48 + 7, a vector) against
// 49, whose last one is a dot product (dotTail). A larger image's gaps
// are a small share of its columns, and the planes hold KW times the
// input.
func tapsPay(g *directGeom) bool {
	p := g.p
	n := p.OutH * p.OutW
	if p.KW == 1 || g.gapless() || n > 4*idxNR {
		return false
	}
	phases := (p.OutH-1)*g.wp + p.OutW
	return colVecs(p, phases, p.OutH*g.wp) > colVecs(p, n, n)
}

// colVecs is the 16-column vectors the GEMM kernel runs over cols columns
// of one image (span: its output rows × row stride), the last
// gemm.SgemmIndirectDotTail columns left out where they are dot products
// (dotTail: a lone image under dotTailCols).
func colVecs(p ops.ConvParams, cols, span int) int {
	if tail := cols % idxNR; p.N == 1 && cols >= idxNR && span < dotTailCols && tail <= gemm.DotTailMax {
		cols -= tail
	}
	return (cols + 15) / 16
}

// gemmCalls is the indirect GEMM kernel calls of tile t on the fused
// path (Conv2dFused): a gapless layout's product per image (gemmInto),
// else one product over the tile's columns.
func (g *directGeom) gemmCalls(t directTile) int {
	if g.gapless() {
		return t.cnt * idxCalls(t.oc1-t.oc0, (t.oh1-t.oh0)*g.p.OutW)
	}
	return idxCalls(t.oc1-t.oc0, g.cols(t))
}

// newTapGeom lays out p's direct convolution in planes of row phase and
// kernel column.
func newTapGeom(p ops.ConvParams) *directGeom {
	g := &directGeom{p: p, taps: true, phases: p.StrideH}
	g.hq, g.gh, g.top, g.bot = gapFor(p.H, p.PadH, p.KH, p.DilH, p.StrideH, p.OutH)
	g.wq, g.wp = p.OutW, p.OutW
	g.slot = make([]int, p.StrideH) // row phase → its rank among the used ones, -1 unused
	for i := range g.slot {
		g.slot[i] = -1
	}
	rowPhase := func(i int) (a, di int) {
		ri := i*p.DilH - p.PadH
		di = floorDiv(ri, p.StrideH)
		return ri - di*p.StrideH, di
	}
	for i := range p.KH {
		if a, _ := rowPhase(i); g.slot[a] < 0 {
			g.slot[a] = 0
		}
	}
	rowsUsed := 0
	for a, s := range g.slot {
		if s == 0 {
			g.slot[a] = rowsUsed
			rowsUsed++
		}
	}
	g.used = rowsUsed * p.KW
	taps := p.KH * p.KW
	g.offBase, g.planeIdx = make([]int, p.C*taps), make([]int, p.C*taps)
	for c := range p.C {
		for i := range p.KH {
			a, di := rowPhase(i)
			for j := range p.KW {
				k := (c*p.KH+i)*p.KW + j
				g.planeIdx[k] = c*g.used + g.slot[a]*p.KW + j
				g.offBase[k] = (g.top + di) * g.wp
			}
		}
	}
	return g
}

// fillTaps is fill for the gapless layout: channel c's planes of each used
// row phase a, kernel column j at (c·used + slot(a)·KW + j)·plane, all
// the tile's images and kernel columns in one call (fillTapPlanes).
func (g *directGeom) fillTaps(t directTile, x, buf []float32) {
	p := g.p
	plane := g.planeLen(t)
	rowsPer, extra := g.rows(t)
	uLo := t.oh0 - g.top
	for c := range p.C {
		for a, slot := range g.slot {
			if slot < 0 {
				continue
			}
			planes := buf[(c*g.used+slot*p.KW)*plane:][:p.KW*plane]
			hqa := (p.H - a + p.StrideH - 1) / p.StrideH // phase rows with data
			u0, u1 := max(uLo, 0), min(uLo+rowsPer, hqa)
			lead, rows, src := rowsPer, 0, x
			if u1 > u0 {
				lead, rows = u0-uLo, u1-u0
				src = x[(((t.n0*p.C)+c)*p.H+u0*p.StrideH+a)*p.W:]
			}
			fillTapPlanes(src, p.StrideH*p.W, p.C*p.H*p.W, planes, plane, g.wp, t.cnt, lead, rows, rowsPer-lead-rows,
				p.W, -p.PadW, p.KW, p.StrideW, p.DilW, p.H*p.W)
			for j := range p.KW { // the rows below the last image
				clear(planes[j*plane+t.cnt*rowsPer*g.wp:][:extra*g.wp])
			}
		}
	}
}

// fillTapPlanesGo is fillTapPlanes in Go.
func fillTapPlanesGo(src []float32, lds, srcImg int, dst []float32, plane, wp, imgs, lead, rows, trail, wr, shift, kw, s, dil int) {
	per := (lead + rows + trail) * wp
	for i := range imgs {
		for j := range kw {
			d := dst[j*plane+i*per:][:per]
			clear(d[:lead*wp])
			clear(d[(lead+rows)*wp:])
			if rows > 0 {
				fillRowsAtGo(src[i*srcImg:], lds, d[lead*wp:(lead+rows)*wp], wp, rows, wr, shift+j*dil, s)
			}
		}
	}
}

// fillRowsAtGo writes rows rows of wp floats into dst (packed): row r
// holds src[r·lds + v·s + shift] where 0 ≤ v·s + shift < wr, zeros
// elsewhere (shift < 0: the columns left of the row).
func fillRowsAtGo(src []float32, lds int, dst []float32, wp, rows, wr, shift, s int) {
	for r := range rows {
		row := dst[r*wp:][:wp]
		for v := range row {
			q := v*s + shift
			row[v] = 0
			if q >= 0 && q < wr {
				row[v] = src[r*lds+q]
			}
		}
	}
}
