package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// TestValidRangeMatchesBruteForce pins the column range the fast im2col
// copies: exactly the ow whose input column lies inside the row.
func TestValidRangeMatchesBruteForce(t *testing.T) {
	for iw0 := -5; iw0 <= 5; iw0++ {
		for stride := 1; stride <= 3; stride++ {
			for w := 1; w <= 6; w++ {
				for outW := 1; outW <= 7; outW++ {
					lo, hi := validRange(iw0, stride, w, outW)
					for ow := range outW {
						iw := iw0 + ow*stride
						if in, got := iw >= 0 && iw < w, ow >= lo && ow < hi; in != got {
							t.Fatalf("iw0=%d stride=%d w=%d outW=%d: ow=%d inside=%v, range [%d,%d)", iw0, stride, w, outW, ow, in, lo, hi)
						}
					}
				}
			}
		}
	}
}

// convRef is a direct float64 convolution with optional ReLU and its
// gradients (dy masked where the output is not positive).
func convRef(p ops.ConvParams, x, w, bias, dy []float32, relu bool) (y, dx, dw, db []float64) {
	cg, ocg := p.C/p.Groups, p.OutC/p.Groups
	L := p.OutH * p.OutW
	y = make([]float64, p.N*p.OutC*L)
	dx, dw, db = make([]float64, len(x)), make([]float64, len(w)), make([]float64, p.OutC)
	type tap struct{ xi, wi int }
	taps := func(n, oc, oh, ow int, f func(tap)) {
		g := oc / ocg
		for c := range cg {
			for i := range p.KH {
				for j := range p.KW {
					ih, iw := oh*p.StrideH-p.PadH+i*p.DilH, ow*p.StrideW-p.PadW+j*p.DilW
					if ih >= 0 && ih < p.H && iw >= 0 && iw < p.W {
						f(tap{((n*p.C+g*cg+c)*p.H+ih)*p.W + iw, ((oc*cg+c)*p.KH+i)*p.KW + j})
					}
				}
			}
		}
	}
	for n := range p.N {
		for oc := range p.OutC {
			for oh := range p.OutH {
				for ow := range p.OutW {
					o := (n*p.OutC+oc)*L + oh*p.OutW + ow
					s := float64(bias[oc])
					taps(n, oc, oh, ow, func(t tap) { s += float64(x[t.xi]) * float64(w[t.wi]) })
					if relu {
						s = math.Max(s, 0)
					}
					y[o] = s
					g := float64(dy[o])
					if relu && s <= 0 {
						g = 0
					}
					db[oc] += g
					taps(n, oc, oh, ow, func(t tap) {
						dx[t.xi] += g * float64(w[t.wi])
						dw[t.wi] += g * float64(x[t.xi])
					})
				}
			}
		}
	}
	return
}

// Conv2dAct and Conv2dActBackward against the direct convolution: several
// im2col chunks (the kept columns of each), groups, stride, dilation,
// padding, with and without the fused ReLU and kept columns.
func TestConvActMatchesDirect(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	geoms := []ops.ConvParams{
		{N: 40, C: 16, H: 20, W: 20, OutC: 2, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1},
		{N: 5, C: 4, H: 9, W: 11, OutC: 6, KH: 3, KW: 2, StrideH: 2, StrideW: 1, PadH: 1, PadW: 0, DilH: 1, DilW: 2, Groups: 2},
		{N: 3, C: 1, H: 28, W: 28, OutC: 5, KH: 4, KW: 4, StrideH: 4, StrideW: 4, DilH: 1, DilW: 1, Groups: 1},
	}
	fill := func(n int) []float32 { return normals(r, n) }
	for gi, p := range geoms {
		p.OutH = (p.H+2*p.PadH-p.DilH*(p.KH-1)-1)/p.StrideH + 1
		p.OutW = (p.W+2*p.PadW-p.DilW*(p.KW-1)-1)/p.StrideW + 1
		if gi == 0 && convChunk(p) >= p.N {
			t.Fatalf("geometry 0 should span several im2col chunks")
		}
		x := fill(p.N * p.C * p.H * p.W)
		w := fill(p.OutC * p.C / p.Groups * p.KH * p.KW)
		bias := fill(p.OutC)
		dy := fill(p.N * p.OutC * p.OutH * p.OutW)
		for _, relu := range []bool{false, true} {
			for _, keep := range []bool{false, true} {
				be := New(Options{})
				T := func(d []float32, shape ...int) *ops.Tensor { return &ops.Tensor{Shape: shape, Data: d} }
				y := ops.New(p.N, p.OutC, p.OutH, p.OutW)
				saved, err := be.Conv2dAct(p, T(x, len(x)), T(w, len(w)), T(bias, len(bias)), y, relu, keep)
				if err != nil {
					t.Fatal(err)
				}
				dx, dw, db := fill(len(x)), fill(len(w)), fill(len(bias))
				dx0, dw0, db0 := append([]float32(nil), dx...), append([]float32(nil), dw...), append([]float32(nil), db...)
				if err := be.Conv2dActBackward(p, T(x, len(x)), T(w, len(w)), y, T(dy, len(dy)), T(dx, len(dx)), T(dw, len(dw)), T(db, len(db)), relu, saved); err != nil {
					t.Fatal(err)
				}
				wy, wdx, wdw, wdb := convRef(p, x, w, bias, dy, relu)
				check := func(what string, got, base []float32, want []float64, tol float64) {
					for i := range want {
						g := float64(got[i])
						if base != nil {
							g -= float64(base[i])
						}
						if math.Abs(g-want[i]) > tol*(1+math.Abs(want[i])) {
							t.Fatalf("geometry %d relu=%v keep=%v: %s[%d] = %v, want %v", gi, relu, keep, what, i, g, want[i])
						}
					}
				}
				check("y", y.Data, nil, wy, 1e-4)
				check("dx", dx, dx0, wdx, 1e-4)
				check("dw", dw, dw0, wdw, 1e-3)
				check("db", db, db0, wdb, 1e-3)
			}
		}
	}
}

// The AVX-512 tap copies against their definition: every row offset and
// column range of a small plane, one and two vectors per row.
func TestIm2colTap32(t *testing.T) {
	requireVec16(t)
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{3, 14, 16, 17, 28, 32} {
		h, w := 9, n+2
		plane := make([]float32, h*w)
		for i := range plane {
			plane[i] = float32(r.NormFloat64())
		}
		for _, stride := range []int{1, 2} {
			for ih0 := -2; ih0 <= 2; ih0++ {
				for iw0 := -2; iw0 <= 2; iw0++ {
					lo, hi := validRange(iw0, 1, w, n)
					rows := 7
					out := make([]float32, rows*n+1)
					out[rows*n] = 42
					for i := range out[:rows*n] {
						out[i] = float32(math.NaN())
					}
					im2colTap32(&plane[0], h, w, &out[0], n, rows, ih0, lo, hi, iw0, stride)
					back := append([]float32(nil), plane...)
					src := make([]float32, rows*n)
					for i := range src {
						src[i] = float32(r.NormFloat64())
					}
					col2imTap32(&back[0], h, w, &src[0], n, rows, ih0, lo, hi, iw0, stride)
					want := append([]float32(nil), plane...)
					for oh := range rows {
						ih := ih0 + oh*stride
						for ow := range n {
							v := float32(0)
							if ih >= 0 && ih < h && ow >= lo && ow < hi {
								v = plane[ih*w+iw0+ow]
								want[ih*w+iw0+ow] += src[oh*n+ow]
							}
							if out[oh*n+ow] != v {
								t.Fatalf("n=%d stride=%d ih0=%d iw0=%d: out[%d,%d] = %v, want %v", n, stride, ih0, iw0, oh, ow, out[oh*n+ow], v)
							}
						}
					}
					if out[rows*n] != 42 {
						t.Fatalf("n=%d: im2col wrote past the end", n)
					}
					for i := range want {
						if d := back[i] - want[i]; d > 1e-6 || d < -1e-6 {
							t.Fatalf("n=%d stride=%d ih0=%d iw0=%d: col2im plane[%d] = %v, want %v", n, stride, ih0, iw0, i, back[i], want[i])
						}
					}
				}
			}
		}
	}
}

// normals is n floats drawn from r's standard normal distribution, the
// random operands of the convolution tests.
func normals(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}
