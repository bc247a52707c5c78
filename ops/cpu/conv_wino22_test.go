package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/internal/cpufeature"
	"github.com/qpipe/qpipe/ops"
)

// wino22Tol is the bound on F(2×2,3×3)'s error as a multiple of
// eps·convAbsTiles(·, 2) (the sum of |w| over each kernel times |x| over
// the output's 4×4 input tile).
const wino22Tol = 1

// wino22Geom is a lone side×side image's 3×3, stride-1, padding-1
// convolution of c to oc channels.
func wino22Geom(c, oc, side int) ops.ConvParams {
	return ops.ConvParams{N: 1, C: c, H: side, W: side, OutC: oc, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
		PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1, OutH: side, OutW: side}
}

// TestWino22MatchesReference runs F(2×2,3×3) with each epilogue on a few
// channel counts and sides (resnet20's 64→64 8×8 and 32→32 16×16, counts that are not multiples of the GEMM's rows) against the float64 convolution within wino22Tol, with
// the output channels in one tile, halves and thirds (at multiples of 8)
// and on 1-3 workers, all with the same bits; Conv2dFused takes it for
// these geometries (Conv2dReLUMaxPool2, without a fused pool here, takes
// F(4,3)).
func TestWino22MatchesReference(t *testing.T) {
	if !winoOn || !wino2On {
		t.Skip("QPIPE_WINOGRAD=0 or 1d: no F(2×2,3×3)")
	}
	cpufeature.Require(t, directOK(ops.ConvParams{Groups: 1}) && vec16, "AVX-512F and AVX-512VL (the Winograd paths)")
	r := rand.New(rand.NewPCG(41, 42))
	fill := func(n int) []float32 { return normals(r, n) }
	var worst, worstDirect float64
	for _, s := range [][3]int{{64, 64, 8}, {8, 8, 8}, {11, 20, 8}, {16, 40, 8}, {32, 32, 16}, {11, 20, 16}, {8, 13, 16}} {
		p := wino22Geom(s[0], s[1], s[2])
		plane := p.H * p.W
		if !winoOK(p) || winoKindFor(p) != wino22 {
			t.Fatalf("%v: F(2×2,3×3) not picked", s)
		}
		x, w := fill(p.C*plane), fill(p.OutC*p.C*9)
		conv, abs43 := convAbsRef(p, x, w)
		abs := convAbsTiles(p, x, w, 2)
		checkPooled(t, fmt.Sprintf("%v", s), wino22, p, x, w, conv, abs43, winoTol, fill(p.OutC)) // on F(4,3)
		for i, c := range directConv(p, x, w) {
			worstDirect = max(worstDirect, math.Abs(float64(c)-conv[i])/(abs[i]*epsF32))
		}
		for fi, fusion := range winoFusions(fill) {
			res := fill(len(conv))
			f := fusion(p.OutC, res)
			var first []float32
			nv := wino22Vecs(p.W)
			for cut, c := range []struct { // whole, output channels in 2 and 3 parts, tile vectors in 2 and 3
				parts  int
				byVecs bool
			}{{1, false}, {2, false}, {3, false}, {2, true}, {3, true}} {
				parts, byVecs := c.parts, c.byVecs
				if byVecs && nv == 1 {
					continue
				}
				var ts []winoTile
				for k := range parts {
					tl := winoTile{cnt: 1, b0: nv * k / parts, b1: nv * (k + 1) / parts, oc1: p.OutC}
					if !byVecs {
						tl.b0, tl.b1 = 0, nv
						tl.oc0, tl.oc1 = p.OutC*k/parts/8*8, p.OutC*(k+1)/parts/8*8
						if k == parts-1 {
							tl.oc1 = p.OutC
						}
					}
					ts = append(ts, tl)
				}
				for threads := 1; threads <= 3; threads++ {
					name := fmt.Sprintf("%v/fusion%d/cut%d/t%d", s, fi, cut, threads)
					be := New(Options{Threads: threads})
					y := ops.New(1, p.OutC, p.H, p.W)
					if parts == 1 {
						if err := be.Conv2dFused(p, &ops.Tensor{Data: x}, &ops.Tensor{Data: w}, y, f); err != nil {
							t.Fatal(err)
						}
					} else {
						be.wino22FusedOn(ts, p, &ops.Tensor{Data: x}, y, winoWeights22(p, w), f)
					}
					worst = max(worst, checkFused(t, name, p, y.Data, conv, abs, wino22Tol, res, f))
					if first == nil {
						first = y.Data
					} else if i := firstBitDiff(first, y.Data); i >= 0 {
						t.Fatalf("%s: y[%d] = %v in one tile on 1 worker, %v here", name, i, first[i], y.Data[i])
					}
				}
			}
		}
	}
	t.Logf("largest error / (eps·Σ|w||x|, 4×4 tiles): F(2×2,3×3) %.3f, direct %.3f", worst, worstDirect)
}

// TestWino22TransformsMatchGo: the vector transforms write the same bits
// as the Go ones (every epilogue flag, a residual or none, NaN and
// infinities in the input) and nothing past their outputs.
func TestWino22TransformsMatchGo(t *testing.T) {
	cpufeature.Require(t, vec16, "AVX-512F and AVX-512VL (the vector transforms)")
	r := rand.New(rand.NewPCG(43, 44))
	for _, side := range []int{8, 16} {
		plane, nv := side*side, wino22Vecs(side)
		for _, C := range []int{1, 3, 8} {
			for _, js := range [][2]int{{0, nv}, {1, 3}, {3, 4}} {
				if js[1] > nv {
					continue
				}
				src := normals(r, C*plane)
				src[5], src[(plane+6)%len(src)], src[plane-1] = float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))
				vs := wino22Stride(C) + 3 // and the floats between the points left alone
				n := (js[1] - js[0]) * wino22Pts * vs
				got, want := make([]float32, n), make([]float32, n)
				for i := range got {
					got[i], want[i] = 42, 42
				}
				h := normals(r, wino22HLen(side)) // whatever the buffers held before
				wino22In(got, src, h, C, side, js[0], js[1], vs)
				wino22InGo(want, src, C, side, js[0], js[1], vs)
				if i := firstBitDiff(got, want); i >= 0 {
					t.Fatalf("wino22In side %d C=%d vectors %v: dst[%d] = %v, want %v", side, C, js, i, got[i], want[i])
				}
				if js[0] > 0 { // against the whole plane's transform
					all := make([]float32, nv*wino22Pts*vs)
					for i := range all {
						all[i] = 42
					}
					wino22InGo(all, src, C, side, 0, nv, vs)
					if i := firstBitDiff(got, all[js[0]*wino22Pts*vs:][:n]); i >= 0 {
						t.Fatalf("wino22In side %d C=%d vectors %v: dst[%d] = %v, the whole plane's %v", side, C, js, i, got[i], all[js[0]*wino22Pts*vs+i])
					}
				}
			}
		}
		const stride = 21
		m := normals(r, (nv*wino22Pts-1)*stride+16)
		res := normals(r, plane)
		for _, act := range []outAct{{}, {hasLo: true}, {lo: -0.3, hi: 0.5, hasLo: true, hasHi: true}} {
			for _, rs := range [][]float32{nil, res} {
				got, want := make([]float32, plane+1), make([]float32, plane+1)
				got[plane], want[plane] = 42, 42
				for j := range nv { // the plane, a vector of 16 tiles at a time, as wino22Job.tile
					var rj []float32
					if rs != nil {
						rj = rs[j*64:][:64]
					}
					wino22Out(got[j*64:][:64], m[j*wino22Pts*stride:], stride, side, rj, 0.7, -0.2, act)
					wino22OutGo(want[j*64:][:64], m[j*wino22Pts*stride:], stride, side, rj, 0.7, -0.2, act)
				}
				if i := firstBitDiff(got, want); i >= 0 {
					t.Fatalf("wino22Out side %d %+v res %v: dst[%d] = %v, want %v", side, act, rs != nil, i, got[i], want[i])
				}
			}
		}
	}
}

// TestWino22GemmMatchesReference: the 16 products over every block size
// (16, 8 and single rows) against their float64 sums, the same bits
// whether the rows are computed at once or cut at a multiple of 8, and
// nothing written past them.
func TestWino22GemmMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(45, 46))
	for _, C := range []int{1, 5, 64} {
		for _, rows := range []int{1, 7, 8, 9, 16, 20, 25, 33} {
			ldu, vs, ms := rows+3, wino22Stride(C), wino22Stride(rows)+5
			u, v := normals(r, wino22Pts*C*ldu), normals(r, wino22Pts*vs)
			m := make([]float32, wino22Pts*ms)
			for i := range m {
				m[i] = 42
			}
			wino22Gemm(m, u, v, C, ldu, rows, vs, ms)
			for k := range wino22Pts {
				for o := range rows {
					for tl := range 16 {
						var want, abs float64
						for c := range C {
							x := float64(u[(k*C+c)*ldu+o]) * float64(v[k*vs+c*16+tl])
							want, abs = want+x, abs+math.Abs(x)
						}
						if got := m[k*ms+o*16+tl]; math.Abs(float64(got)-want) > float64(C)*epsF32*abs {
							t.Fatalf("C %d rows %d: M_%d[%d][%d] = %v, want %v", C, rows, k, o, tl, got, want)
						}
					}
				}
			}
			for k := range wino22Pts {
				for i := rows * 16; i < ms; i++ {
					if m[k*ms+i] != 42 {
						t.Fatalf("C %d rows %d: M_%d written past its rows", C, rows, k)
					}
				}
			}
			if rows > 8 {
				cut := rows / 2 / 8 * 8
				if cut == 0 {
					cut = 8
				}
				lo, hi := make([]float32, wino22Pts*cut*16), make([]float32, wino22Pts*(rows-cut)*16)
				wino22Gemm(lo, u, v, C, ldu, cut, vs, cut*16)
				wino22Gemm(hi, u[cut:], v, C, ldu, rows-cut, vs, (rows-cut)*16)
				for k := range wino22Pts {
					for o := range rows {
						part, at := lo, (k*cut+o)*16
						if o >= cut {
							part, at = hi, (k*(rows-cut)+o-cut)*16
						}
						if i := firstBitDiff(part[at:][:16], m[k*ms+o*16:][:16]); i >= 0 {
							t.Fatalf("C %d rows %d cut at %d: M_%d[%d] differs", C, rows, cut, k, o)
						}
					}
				}
			}
		}
	}
}

// BenchmarkWino22Parts times resnet20's 64→64 8×8 and 32→32 16×16
// layers on F(2×2,3×3) on two workers, their output channels whole (one
// tile) or in halves (a tile per worker), the weights' transform given
// (a frozen model's is used without comparing the weights):
//
//	go test -run XXX -bench Wino22Parts -benchtime 20000x -cpu 2 ./ops/cpu
func BenchmarkWino22Parts(b *testing.B) {
	for _, p := range []ops.ConvParams{wino22Geom(64, 64, 8), wino22Geom(32, 32, 16)} {
		x, w, y := ops.New(1, p.C, p.H, p.W), ops.New(p.OutC, p.C, 3, 3), ops.New(1, p.OutC, p.H, p.W)
		copy(x.Data, normals(rand.New(rand.NewPCG(47, 48)), len(x.Data)))
		copy(w.Data, normals(rand.New(rand.NewPCG(49, 50)), len(w.Data)))
		u := winoWeights22(p, w.Data) // as a frozen model's: no comparison
		f := ops.ConvFusion{Shift: make([]float32, p.OutC), ReLU: true}
		be := New(Options{Threads: 2})
		for _, parts := range []int{1, 2} {
			nv := wino22Vecs(p.W)
			ts := []winoTile{{cnt: 1, b1: nv, oc1: p.OutC}}
			if parts == 2 {
				ts = []winoTile{{cnt: 1, b1: nv, oc1: p.OutC / 2}, {cnt: 1, b1: nv, oc0: p.OutC / 2, oc1: p.OutC}}
			}
			name := fmt.Sprintf("%dx%d/parts%d", p.H, p.W, parts)
			if parts == 2 && nv > 1 { // and in halves of the tile vectors
				halves := []winoTile{{cnt: 1, b1: nv / 2, oc1: p.OutC}, {cnt: 1, b0: nv / 2, b1: nv, oc1: p.OutC}}
				b.Run(name+"vecs", func(b *testing.B) {
					for b.Loop() {
						be.wino22FusedOn(halves, p, x, y, u, f)
					}
				})
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					be.wino22FusedOn(ts, p, x, y, u, f)
				}
			})
		}
	}
}
