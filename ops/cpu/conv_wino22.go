package cpu

// Winograd F(2×2,3×3) for a lone image's 8×8 or 16×16 output.
//
// Each 4×4 input window d (rows and columns 2 apart, overlapping by two)
// gives a 2×2 output tile
//
//	y = Aᵀ·[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]·A
//
// with Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; ½ ½ ½;
// ½ -½ ½; 0 0 1] and Aᵀ = [1 1 1 0; 0 1 -1 -1] (Lavin & Gray's F(2,3)
// along both axes): 16 products of depth C per tile, four outputs, 4
// multiply-adds per output and channel against the direct path's 9.
// An 8×8 output is 4×4 = 16 tiles, one AVX-512 vector:
//
//   - the input transform (wino22In) writes, per input channel c and
//     point k = 4a + b of the 4×4 transform, the 16 tiles' values as one
//     vector V_k[c] (v[k·vs + c·16 + tile], tile = 4·ty + tx, vs =
//     wino22Stride(C));
//   - the 16 products M_k = U_k·V_k (OutC × 16 = (OutC × C)·(C × 16)) are
//     16-column GEMMs (wino22Gemm: a vector of 16 tiles per output
//     channel, 16 channels' accumulators at a time, U_k's entries
//     broadcast), U_k the weights transformed once per weight tensor
//     (winoWeights22, cached by winoWeightsFor: 16·OutC·C floats, 262 KB
//     for 64→64);
//   - the output transform (wino22Out) makes each output channel's 8×8
//     plane from its 16 product vectors and applies Conv2dFused's
//     epilogue (scale, shift, residual, ReLU or clip) as it stores.
//
// A 16×16 output is 8×8 = 64 tiles, four vectors j of two tile rows
// (tile t = 8·ty + tx in vector t/16, lane t%16): the input transform
// writes V_k of vector j at v[(16·j + k)·vs:], going along each input
// row first into row buffers (even and odd input rows apart, so that
// one load gives a window row of two tile rows), then along the
// columns; the products and the output transform run one vector at a
// time (its M_k stay in the L1), the output transform writing the
// vector's four output rows.
//
// The transforms only add and subtract, so the vector and Go versions
// agree bit for bit; G's halves are exact in float64. An output depends
// only on its own tile's GEMM columns and the GEMM's sums do not depend
// on its row tiles, so the results are the same on any number of workers
// (two workers take output-channel halves). The error is of F(4,3)'s
// order (Aᵀ has ±1 only): the tests bound it by eps·Σ|w||x|.
//
// It is taken for one image (N = 1), 3×3, stride 1, padding 1 on an 8×8
// or 16×16 input with at most wino22MaxWeights transformed weights
// (resnet20's 64→64 and 32→32 layers; its 32×32 stage keeps F(4,3),
// wino22Side); resnet18's 7×7 stage (512 channels: 16.8 MB of
// transformed weights per layer from memory on every forward) stays on
// the direct path (docs/performance.md, "The 7×7 stage"), and batch 64
// keeps winoPick's choice.

import (
	"sync"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// wino22Pts is the points of one 2-D tile's transform (4×4), and the
// tiles of an 8×8 output.
const wino22Pts = 16

// wino22MaxWeights is the most transformed weights (16·OutC·C floats,
// 1 MB) F(2×2,3×3) is taken for: they stay in the L2/L3 across forwards.
const wino22MaxWeights = 1 << 18

// wino22OK reports whether F(2×2,3×3) applies to p (besides winoOK): a
// lone 8×8 or 16×16 image (wino22Side), padding 1, small weights.
func wino22OK(p ops.ConvParams) bool {
	return wino2On && p.N == 1 && wino22Side(p.H) && p.W == p.H && p.PadH == 1 && p.PadW == 1 &&
		p.OutH == p.H && p.OutW == p.W && wino22Pts*p.OutC*p.C <= wino22MaxWeights
}

// wino22Side reports whether F(2×2,3×3) is taken on side×side planes:
// 8×8 and 16×16. On resnet20's 32×32 stage (16→16) it measured slower
// than F(4,3) in the model (BenchmarkWino22InModel, one and two workers:
// 0.74-1.01× of its time per layer; docs/performance.md, session 12,
// branch s21-w22g).
func wino22Side(side int) bool { return side == 8 || side == 16 }

// wino22Vecs is the vectors of 16 tiles of a side×side output: 1 or 4
// (tile t = (side/2)·ty + tx in vector t/16, lane t%16).
func wino22Vecs(side int) int { return side * side / 64 }

// wino22HLen is the floats of the input transform's row buffers for a
// side×side plane (wino22In): for 16×16, 4 points × even and odd rows ×
// 9 rows of 8 tiles; none for 8×8.
func wino22HLen(side int) int {
	if side == 8 {
		return 0
	}
	return 8 * 9 * 8
}

// wino22Tiles is p's work cut for b's workers: one tile (output
// channels oc0..oc1, tile vectors b0..b1) where a lone image is not
// split (winoSplits), else a part per worker: halves of the output
// channels at multiples of 8 for an 8×8 image (one vector), of the four
// tile vectors for a 16×16 one (each part then transforms only its
// vectors' inputs along the columns).
func (b *Backend) wino22Tiles(p ops.ConvParams) []winoTile {
	parts, nv := 1, wino22Vecs(p.W)
	if b.winoSplits(p) {
		parts = b.w.n
	}
	ts := make([]winoTile, 0, parts)
	for k := range parts {
		t := winoTile{cnt: 1, b1: nv, oc1: p.OutC}
		if nv > 1 {
			t.b0, t.b1 = nv*k/parts, nv*(k+1)/parts
		} else {
			t.oc0, t.oc1 = p.OutC*k/parts/8*8, p.OutC*(k+1)/parts/8*8
			if k == parts-1 {
				t.oc1 = p.OutC
			}
		}
		if t.oc1 > t.oc0 && t.b1 > t.b0 {
			ts = append(ts, t)
		}
	}
	return ts
}

// wino22Layouts holds wino22Tiles per geometry, worker count and split
// answer, as winoLayouts does for the other paths.
var wino22Layouts sync.Map // winoLayoutKey → []winoTile

// wino22TilesFor is wino22Tiles, made once per key.
func (b *Backend) wino22TilesFor(p ops.ConvParams) []winoTile {
	key := winoLayoutKey{p: p, kind: wino22, workers: b.w.n, split: b.winoSplits(p)}
	if v, ok := wino22Layouts.Load(key); ok {
		return v.([]winoTile)
	}
	v, _ := wino22Layouts.LoadOrStore(key, b.wino22Tiles(p))
	return v.([]winoTile)
}

// wino22Job is one wino22Fused call, pooled with its tile function bound
// once, like winoJob.
type wino22Job struct {
	b    *Backend
	p    ops.ConvParams
	ts   []winoTile
	x, u []float32
	fc   *fusedCall
	fn   func(ti int, st *tileState)
}

var wino22Jobs = sync.Pool{New: func() any {
	j := &wino22Job{}
	j.fn = j.tile
	return j
}}

// wino22Fused is Conv2dFused on F(2×2,3×3) (wino22OK(p)).
func (b *Backend) wino22Fused(p ops.ConvParams, x, w, y *ops.Tensor, f ops.ConvFusion) {
	b.wino22FusedOn(b.wino22TilesFor(p), p, x, y, b.winoWeightsFor(p, w, wino22), f)
}

// wino22FusedOn is wino22Fused on the tiles ts with the transformed
// weights u.
func (b *Backend) wino22FusedOn(ts []winoTile, p ops.ConvParams, x, y *ops.Tensor, u []float32, f ops.ConvFusion) {
	j := wino22Jobs.Get().(*wino22Job)
	j.b, j.p, j.ts, j.x, j.u = b, p, ts, x.Data, u
	j.fc = getFusedCall(p, y.Data, f)
	b.tilesPut(len(j.ts), j.fn)
	j.fc.put()
	*j = wino22Job{fn: j.fn}
	wino22Jobs.Put(j)
}

// tile runs tile ti: the input transform, the 16 products of each
// vector of 16 tiles and the output transform of its output channels.
func (j *wino22Job) tile(ti int, st *tileState) {
	p, t, b := j.p, j.ts[ti], j.b
	side, nv, plane := p.W, t.b1-t.b0, p.W*p.W
	vs, ms := wino22Stride(p.C), wino22Stride(t.oc1-t.oc0)
	vl, hl := nv*wino22Pts*vs, wino22HLen(side)
	if st.col == nil { // for any tile of p
		st.col, st.t = b.tmp.get(st.slot, wino22Vecs(side)*wino22Pts*vs+hl), b.tmp.get(st.slot, wino22Pts*wino22Stride(p.OutC))
	}
	oc := t.oc1 - t.oc0
	v, m := st.col[:vl], st.t[:wino22Pts*ms]
	wino22In(v, j.x[t.n0*p.C*plane:][:p.C*plane], st.col[vl:][:hl], p.C, side, t.b0, t.b1, vs)
	fc := j.fc
	for k := range nv { // the products of 16 tiles, then their 64 outputs: M_k stays in the L1
		wino22Gemm(m, j.u[t.oc0:], v[k*wino22Pts*vs:], p.C, p.OutC, oc, vs, ms)
		for o := range oc {
			at := ((t.n0*p.OutC)+t.oc0+o)*plane + (t.b0+k)*64
			var res []float32
			if fc.res != nil {
				res = fc.res[at:][:64]
			}
			wino22Out(fc.y[at:][:64], m[o*16:], ms, side, res, fc.scale(t.oc0+o), fc.f.Shift[t.oc0+o], fc.act)
		}
	}
}

// wino22Stride is the floats between two points' vectors of n channels
// (V_k, M_k): n·16 and one cache line more, so that the 16 vectors of a
// channel the transforms write or read together do not share the L1's
// sets (at 64 channels they were 4 KB apart: the input transform took
// 2.2-2.4 µs, the output transform 1.2).
func wino22Stride(n int) int { return n*16 + 16 }

// wino22InGo is wino22In in Go: for each of C channels of side×side
// planes (src[c·side²:]), the Bᵀ·d·B of the tiles of vectors j0..j1,
// point k = 4a + b of tile t = (side/2)·ty + tx at
// dst[(16·(t/16 - j0) + k)·vs + c·16 + t%16], d the
// tile's 4×4 window (rows 2·ty-1.., columns 2·tx-1.., zeros outside the
// plane). The operations are the vector kernels', in order: along rows
// first, then along columns.
func wino22InGo(dst, src []float32, C, side, j0, j1, vs int) {
	tw := side / 2
	for c := range C {
		x := src[c*side*side:][:side*side]
		at := func(r, q int) float32 {
			if r < 0 || r >= side || q < 0 || q >= side {
				return 0
			}
			return x[r*side+q]
		}
		for ty := range tw {
			for tx := range tw {
				t := ty*tw + tx
				if t/16 < j0 || t/16 >= j1 {
					continue
				}
				var h [4][4]float32 // h[i][b]: window row i along the row
				for i := range 4 {
					r, q := 2*ty+i-1, 2*tx-1
					d0, d1, d2, d3 := at(r, q), at(r, q+1), at(r, q+2), at(r, q+3)
					h[i] = [4]float32{d0 - d2, d1 + d2, d2 - d1, d1 - d3}
				}
				for b := range 4 {
					v := [4]float32{h[0][b] - h[2][b], h[1][b] + h[2][b], h[2][b] - h[1][b], h[1][b] - h[3][b]}
					for a, s := range v {
						dst[((t/16-j0)*wino22Pts+4*a+b)*vs+c*16+t%16] = s
					}
				}
			}
		}
	}
}

// wino22GemmGo is wino22Gemm through gemm.Sgemm (its sums in its own
// order).
func wino22GemmGo(m, u, v []float32, C, ldu, rows, vs, ms int) {
	for k := range wino22Pts {
		gemm.Sgemm(true, false, rows, 16, C, 1, u[k*C*ldu:], ldu, v[k*vs:][:C*16], 16, 0, m[k*ms:][:rows*16], 16)
	}
}

// wino22OutGo is wino22Out in Go: Aᵀ·M·A of a vector of 16 tiles from
// product k's vector src[k·srcStride:][:16] (along rows first, then
// along columns), then directOutGo's epilogue into its 64 outputs dst:
// 64/side rows of a side×side plane, tile l at rows 2·(l/(side/2)) and
// one more, columns 2·(l%(side/2)) and one more.
func wino22OutGo(dst, src []float32, srcStride, side int, res []float32, scale, shift float32, act outAct) {
	tw := side / 2
	var piece [64]float32
	for l := range 16 {
		ty, tx := l/tw, l%tw
		var s [4][2]float32 // s[a]: row a of M·A
		for a := range 4 {
			m0, m1, m2, m3 := src[(4*a)*srcStride+l], src[(4*a+1)*srcStride+l], src[(4*a+2)*srcStride+l], src[(4*a+3)*srcStride+l]
			s[a] = [2]float32{(m0 + m1) + m2, (m1 - m2) - m3}
		}
		for q := range 2 {
			piece[(2*ty)*side+2*tx+q] = (s[0][q] + s[1][q]) + s[2][q]
			piece[(2*ty+1)*side+2*tx+q] = (s[1][q] - s[2][q]) - s[3][q]
		}
	}
	directOutGo(piece[:], 64, dst, res, 1, 64, scale, shift, act)
}

// winoWeights22 transforms w (OutC, C, 3, 3) into the 16 products'
// matrices, transposed: u[(k·C + c)·OutC + oc] = (G·g·Gᵀ)[a][b], k =
// 4a + b, for the kernel g of (oc, c) (a along the kernel's height), in
// float64. (wino22Gemm broadcasts a row of U_kᵀ's consecutive floats.)
func winoWeights22(p ops.ConvParams, w []float32) []float32 {
	u := make([]float32, wino22Pts*p.OutC*p.C)
	for oc := range p.OutC {
		for c := range p.C {
			g := w[(oc*p.C+c)*9:][:9]
			var cols [3][4]float64 // G·g, column by column
			for j := range 3 {
				cols[j] = wino22G(float64(g[j]), float64(g[3+j]), float64(g[6+j]))
			}
			for a := range 4 {
				for b, x := range wino22G(cols[0][a], cols[1][a], cols[2][a]) {
					u[((4*a+b)*p.C+c)*p.OutC+oc] = float32(x)
				}
			}
		}
	}
	return u
}

// wino22G is G·g for three taps g0..g2 (F(2,3)), in float64.
func wino22G(g0, g1, g2 float64) [4]float64 {
	return [4]float64{g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2}
}
