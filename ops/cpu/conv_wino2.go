package cpu

// Winograd F(4×4,3×3) in 2-D for 3×3, stride-1 inference convolutions.
//
// Each 6×6 input tile d (rows and columns 4 apart, overlapping by two)
// gives a 4×4 output tile
//
//	y = Aᵀ·[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]·A
//
// with the 1-D path's matrices (conv_wino.go) applied along both axes:
// 36 products of depth C per tile, 2.25 multiply-adds per output and
// channel against F(4,3)'s 4.5 and the direct convolution's 9, for
// larger transforms and a larger weight transform (36·C·OutC floats).
//
//   - The input transform runs per channel over the tile's images and
//     row blocks: the column half Bᵀ·d is the 1-D path's winoIn and
//     winoInRows (six whole rows per block, vector over columns) into a
//     row scratch that carries the left and right zero padding; the row
//     half ·B (winoInH) takes a tile per vector lane, de-interleaving the
//     four column phases of each scratch row with permutes, and writes
//     V_k[c][tile], k = 0..35, packed (wino2Geom).
//   - The 36 products M_k = U_k·V_k are plain GEMMs of depth C over the
//     tile's tiles (gemm.SgemmIndirect with one offset per channel).
//   - The output transform's row half ·A (winoOutH, a tile per lane,
//     interleaving the four output columns back) writes the six rows of
//     each block that the 1-D path's products would be, so the 1-D
//     output pass finishes the column half Aᵀ· and applies the epilogue
//     (winoOutAct: scale, shift, residual, ReLU or clip; or the cnn's
//     fused 2×2 pool) as it stores into y.
//
// Every multiplier in Bᵀ and Aᵀ is a power of two, so the vector and Go
// transforms agree bit for bit, and an output depends only on its own
// tile's GEMM columns: results are the same on any number of workers.
// The error is larger than F(4,3)'s (the transforms' growth applies
// along both axes); the tests bound it against the float64 convolution.

import (
	"math/bits"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// wino2Prods is the products of one 2-D tile (6×6).
const wino2Prods = winoIns * winoIns

// winoHRow is the floats a scratch row of the input transform holds for
// tiles slots: winoInH's vector kernel reads windows of 64 columns (16
// slots) and the next 16.
func winoHRow(tiles int) int { return 64*((tiles+15)/16) + 16 }

// winoHOut is the floats a row of winoOutH's output takes for tiles
// slots (whole groups of 16 slots of four columns).
func winoHOut(tiles int) int { return 64 * ((tiles + 15) / 16) }

// wino2Geom is the layout of one convolution's 2-D Winograd tiles. The
// input transform runs over the block rows of an image laid end to end,
// tw + 1 slots of four columns each, so every vector lane holds a tile
// (images narrower than 64 columns would leave most lanes empty
// otherwise); the last slot of a block row, whose columns reach into the
// next block row, is dropped as the transformed tiles are packed
// (wino2Masks), so the GEMMs see only the tw real tiles per block row.
type wino2Geom struct {
	p      ops.ConvParams
	blocks int // block rows of 4 output rows per image
	tw     int // tiles per block row (4 output columns each)
	slots  int // slots per block row: tw + 1
	// row lays out the re-assembled products of a band (six rows, block
	// row b at column b·wp) as the 1-D path's output pass reads them.
	row *winoGeom
}

// newWino2Geom lays out p.
func newWino2Geom(p ops.ConvParams) *wino2Geom {
	tw := (p.OutW + winoRows - 1) / winoRows
	g := &wino2Geom{p: p, blocks: (p.OutH + winoRows - 1) / winoRows, tw: tw, slots: tw + 1}
	g.row = &winoGeom{p: p, blocks: g.blocks, wp: winoRows * g.slots}
	return g
}

// cols is the GEMM columns of tile t: one per 2-D tile.
func (g *wino2Geom) cols(t winoTile) int { return t.cnt * (t.b1 - t.b0) * g.tw }

// wino2Masks returns, per group of 16 slots of nb block rows of slots
// slots each, the bits of the slots that are tiles (all but the last of
// each block row).
func wino2Masks(nb, slots int) []uint16 {
	n := nb * slots
	masks := make([]uint16, (n+15)/16)
	for s := range n {
		if s%slots != slots-1 {
			masks[s/16] |= 1 << (s % 16)
		}
	}
	return masks
}

// maskCount is the bits set in masks.
func maskCount(masks []uint16) int {
	n := 0
	for _, m := range masks {
		n += bits.OnesCount16(m)
	}
	return n
}

// wino2Stride is the floats between two of the 36 transforms (or
// products) of rows rows of n columns and the 16 floats the vector
// kernels write (read) past a row's end: whole cache lines and one
// more, so that the 36 rows a kernel reads or writes together do not
// share the L1's sets.
func wino2Stride(rows, n int) int { return (rows*(n+16)+15)/16*16 + 16 }

// wino2Budget is the floats of transformed input (and of products) a
// 2-D tile aims for. Every tile reads all 36·C·OutC transformed weights,
// which outweigh the tile's data at small batches, so tiles are larger
// than the other paths': each of the 36 GEMMs still works on a 36th.
const wino2Budget = 1 << 18

// wino2Tiles cuts p's batch as winoTiles does, a row block being tw
// tiles of 36 transformed values per channel.
func (b *Backend) wino2Tiles(g *wino2Geom) []winoTile { return b.wino2TilesAs(g, b.winoSplits(g.p)) }

// wino2TilesAs is wino2Tiles with splitsImage's answer for p given (split).
func (b *Backend) wino2TilesAs(g *wino2Geom, split bool) []winoTile {
	p := g.p
	return b.cutWino(p, g.blocks, wino2Prods*max(p.C, p.OutC)*g.tw, g.tw, wino2Budget, split)
}

// wino2Forward runs the tiles ts of p's convolution of x with the 2-D
// transformed weights u (winoWeights2), handing each output plane of a
// tile's block rows to out as six rows of products in the 1-D layout of
// g.row (winoOutFunc). Scheduling is winoForward's.
func (b *Backend) wino2Forward(g *wino2Geom, ts []winoTile, x, u []float32, out winoOutFunc) {
	p := g.p
	maxIn, maxOut, maxRows := 0, 0, 0
	for _, t := range ts {
		nb, n := t.b1-t.b0, g.cols(t)
		maxIn = max(maxIn, wino2Prods*wino2Stride(p.C, n))
		maxOut = max(maxOut, wino2Prods*wino2Stride(t.oc1-t.oc0, n))
		slots := t.cnt * nb * g.slots
		maxRows = max(maxRows, winoIns*winoHRow(slots)+winoIns*winoHOut(slots)+winoRows*nb*g.row.wp)
	}
	run := func(ti int, st *tileState) {
		if st.col == nil {
			st.col, st.t, st.dcol, st.off = b.tmp.get(st.slot, maxIn), b.tmp.get(st.slot, maxOut), b.tmp.get(st.slot, maxRows), b.tmp.getInts(st.slot, p.C)
		}
		b.wino2Tile(g, ts[ti], x, u, st, out)
	}
	b.tilesPut(len(ts), run)
}

// wino2Tile runs one tile: the input transform, the 36 products and,
// per image and output channel, the row half of the output transform
// before out.
func (b *Backend) wino2Tile(g *wino2Geom, t winoTile, x, u []float32, st *tileState, out winoOutFunc) {
	p := g.p
	nb, n, oc := t.b1-t.b0, g.cols(t), t.oc1-t.oc0
	ld := n + 16 // a row of V or M and the vector kernels' overrun
	vs, ms := wino2Stride(p.C, n), wino2Stride(oc, n)
	v, m := st.col[:wino2Prods*vs], st.t[:wino2Prods*ms]
	masks := wino2Masks(t.cnt*nb, g.slots)
	ri, ro := winoHRow(16*len(masks)), winoHOut(16*len(masks))
	sa := st.dcol[:winoIns*ri]
	s2 := st.dcol[len(sa):][:winoIns*ro]
	rows := st.dcol[len(sa)+len(s2):][:winoRows*nb*g.row.wp]
	g.transformIn(t, x, v, vs, ld, sa, ri, masks)
	off := st.off[:p.C]
	for c := range off {
		off[c] = c * ld
	}
	for k := range wino2Prods {
		gemm.SgemmIndirect(oc, n, p.C, u[(k*p.OutC+t.oc0)*p.C:][:oc*p.C], p.C, v[k*vs:][:p.C*ld], off, m[k*ms:][:oc*ld], ld)
	}
	for o := range oc {
		winoOutH(s2, ro, m[o*ld:], ms, masks)
		for img := range t.cnt {
			out(s2[img*nb*g.row.wp:], ro, rows, t, img, t.oc0+o)
		}
	}
}

// transformIn writes the tile's transformed input into v: transform k
// of channel c, 2-D tile j of image img at v[k·vs + c·ld + img·per + j]
// (per the tiles per image). sa is a row scratch of six rows of ri
// floats: Bᵀ·d of the tile's block rows end to end, image after image,
// each block row's 4·(tw + 1) columns holding PadW zeros, the image's
// columns and zeros.
func (g *wino2Geom) transformIn(t winoTile, x, v []float32, vs, ld int, sa []float32, ri int, masks []uint16) {
	p := g.p
	nb, hw := t.b1-t.b0, p.H*p.W
	bw := g.row.wp
	// interior blocks: 4·b - PadH ≥ 0 and 4·b - PadH + 5 < H
	lo := min(max(t.b0, (p.PadH+winoRows-1)/winoRows), t.b1)
	hi := max(min(t.b1, floorDiv(p.H-winoIns+p.PadH, winoRows)+1), lo)
	clear(sa)
	imgs := x[t.n0*p.C*hw : (t.n0+t.cnt)*p.C*hw]
	for c := range p.C {
		if hi > lo {
			for img := range t.cnt {
				src := imgs[(img*p.C+c)*hw:][:hw]
				winoIn(sa[img*nb*bw+(lo-t.b0)*bw+p.PadW:], ri, src[(lo*winoRows-p.PadH)*p.W:], p.W, p.W, 0, hi-lo, winoRows*p.W, bw)
			}
		}
		for bi := t.b0; bi < t.b1; bi++ { // border blocks: one call for the tile's images
			if bi >= lo && bi < hi {
				continue
			}
			var rows [winoIns][]float32
			for i := range rows {
				if r := bi*winoRows - p.PadH + i; r >= 0 && r < p.H {
					rows[i] = imgs[c*hw+r*p.W:]
				}
			}
			winoInRows(sa[(bi-t.b0)*bw+p.PadW:], ri, &rows, p.W, 0, t.cnt, p.C*hw, nb*bw)
		}
		winoInH(v[c*ld:], vs, sa, ri, masks)
	}
}

// winoInHGo is winoInH in Go: winoIn's operations on each tile's six
// columns, in order.
func winoInHGo(dst []float32, dstStride int, src []float32, srcStride int, masks []uint16) {
	for k := range winoIns {
		row, d := src[k*srcStride:], dst[winoIns*k*dstStride:]
		i := 0
		for s := range 16 * len(masks) {
			if masks[s/16]&(1<<(s%16)) == 0 {
				continue
			}
			c := row[winoRows*s:][:winoIns]
			for m, x := range winoIn1(c[0], c[1], c[2], c[3], c[4], c[5]) {
				d[m*dstStride+i] = x
			}
			i++
		}
	}
}

// winoOutHGo is winoOutH in Go: winoOut's operations on each tile's six
// products of a row, in order.
func winoOutHGo(dst []float32, dstStride int, src []float32, srcStride int, masks []uint16) {
	for r := range winoIns {
		s, d := src[winoIns*r*srcStride:], dst[r*dstStride:][:winoHOut(16*len(masks))]
		clear(d)
		i := 0
		for slot := range 16 * len(masks) {
			if masks[slot/16]&(1<<(slot%16)) == 0 {
				continue
			}
			y := winoOut1(s[i], s[srcStride+i], s[2*srcStride+i], s[3*srcStride+i], s[4*srcStride+i], s[5*srcStride+i])
			copy(d[winoRows*slot:][:winoRows], y[:])
			i++
		}
	}
}

// winoWeights2 transforms w (OutC, C, 3, 3) into the 36 products'
// matrices: u[(k·OutC + oc)·C + c] = (G·g·Gᵀ)[i][m], k = 6i + m, for
// the kernel g of (oc, c) (rows i along the kernel's height), in float64.
// An output channel's 36 rows are made in a scratch and copied out whole
// (written in place, the 36 rows C·OutC apart share the L1's sets).
func winoWeights2(p ops.ConvParams, w []float32) []float32 {
	u := make([]float32, wino2Prods*p.OutC*p.C)
	rows := make([]float32, wino2Prods*p.C)
	for oc := range p.OutC {
		for c := range p.C {
			g := w[(oc*p.C+c)*9:][:9]
			var cols [3][winoIns]float64 // G·g, column by column
			for j := range 3 {
				cols[j] = winoG(float64(g[j]), float64(g[3+j]), float64(g[6+j]))
			}
			for i := range winoIns {
				for m, x := range winoG(cols[0][i], cols[1][i], cols[2][i]) {
					rows[(i*winoIns+m)*p.C+c] = float32(x)
				}
			}
		}
		for k := range wino2Prods {
			copy(u[(k*p.OutC+oc)*p.C:][:p.C], rows[k*p.C:][:p.C])
		}
	}
	return u
}
