package cpu

// The gapless layout of strided direct convolutions.
//
// With column phases (newDirectGeom) a strided convolution's rows carry
// gap columns: a tap left of the image reads the gap after the previous
// row. Those columns are computed by the GEMM and dropped by an output
// pass over its result (at 8×8, rows of 8 floats: half a vector). Here a
// convolution with a column stride of 2 or more gets one plane per row
// phase and kernel column instead: plane (a, j) holds, at column ow of
// phase row u, input (u·sH + a, ow·sW + j·dW − padW), zero outside the
// image. A tap is then a shift by whole rows of one plane, every GEMM
// column is an output and the GEMM writes y through its epilogue
// (directForward's into). The planes hold KW/sW times the floats of the
// column phases (1.5× for 3×3 stride 2); a stride-2 row's two
// neighbouring kernel columns are written from one read of it
// (fillRowsAt).

import "github.com/qpipe/qpipe/ops"

// newTapGeom lays out p's direct convolution in planes of row phase and
// kernel column (p.StrideW ≥ 2).
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
// row phase a, kernel column j at (c·used + slot(a)·KW + j)·plane, two
// neighbouring columns of a stride-2 undilated kernel from one read.
func (g *directGeom) fillTaps(t directTile, x, buf []float32) {
	p := g.p
	plane := g.planeLen(t)
	pair := p.StrideW == 2 && p.DilW == 1
	for c := range p.C {
		for a, slot := range g.slot {
			if slot < 0 {
				continue
			}
			at := (c*g.used + slot*p.KW) * plane
			for j := 0; j < p.KW; j++ {
				dst, dst1 := buf[at+j*plane:][:plane], []float32(nil)
				if pair && j+1 < p.KW {
					dst1 = buf[at+(j+1)*plane:][:plane]
				}
				g.fillPlanes(t, x, c, a, j*p.DilW-p.PadW, dst, dst1)
				if dst1 != nil {
					j++
				}
			}
		}
	}
}

// fillRowsAtGo is fillRowsAt in Go.
func fillRowsAtGo(src []float32, lds int, dst0, dst1 []float32, wp, rows, wr, shift, s int) {
	for k, dst := range [2][]float32{dst0, dst1} {
		if dst == nil {
			continue
		}
		for r := range rows {
			row := dst[r*wp:][:wp]
			for v := range row {
				q := v*s + shift + k
				row[v] = 0
				if q >= 0 && q < wr {
					row[v] = src[r*lds+q]
				}
			}
		}
	}
}
