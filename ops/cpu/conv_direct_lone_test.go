package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// conv3Ref is p's convolution of x with w (one image) through the
// output pass f, in float64, and each output's sum of |w|·|x| over its
// taps (the scale of its rounding error).
func conv3Ref(p ops.ConvParams, x, w []float32, f ops.ConvFusion) (y, mag []float64) {
	L := p.OutH * p.OutW
	y, mag = make([]float64, p.OutC*L), make([]float64, p.OutC*L)
	for oc := range p.OutC {
		for oh := range p.OutH {
			for ow := range p.OutW {
				var s, m float64
				for c := range p.C {
					for kh := range 3 {
						for kw := range 3 {
							ih, iw := oh+kh-p.PadH, ow+kw-p.PadW
							if ih < 0 || ih >= p.H || iw < 0 || iw >= p.W {
								continue
							}
							a, b := float64(w[((oc*p.C+c)*3+kh)*3+kw]), float64(x[(c*p.H+ih)*p.W+iw])
							s, m = s+a*b, m+math.Abs(a*b)
						}
					}
				}
				at := oc*L + oh*p.OutW + ow
				scale := 1.0
				if f.Scale != nil {
					scale = float64(f.Scale[oc])
				}
				v := s*scale + float64(f.Shift[oc])
				if f.Res != nil {
					v += float64(f.Res.Data[at])
				}
				if f.ReLU {
					v = max(v, 0)
				}
				y[at], mag[at] = v, m*math.Abs(scale)
			}
		}
	}
	return y, mag
}

// loneGeoms are one-image 3×3 layers on small images: 7×7 (the gapless
// layout, 49 = 48 + 1 columns, the last a dot product) and 14×14 (196 =
// 4·48 + 4 outputs, in column phases), with channel counts that cut into
// parts off the kernel's 9 rows.
func loneGeoms() []ops.ConvParams {
	var out []ops.ConvParams
	for _, s := range [][3]int{{16, 20, 7}, {37, 512, 7}, {8, 13, 14}} {
		out = append(out, ops.ConvParams{N: 1, C: s[0], H: s[2], W: s[2], OutC: s[1], KH: 3, KW: 3, StrideH: 1, StrideW: 1,
			PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1, OutH: s[2], OutW: s[2]})
	}
	return out
}

// TestDirectLoneImageMatchesReference: the direct path computes a lone
// small image's fused convolution (scale, shift, residual, ReLU; and bias
// only) within float32 rounding of a float64 reference (1e-5 of the sum of
// |w|·|x| over each output's taps, plus 1e-6), and gives the same bits on
// 1, 2 and 3 workers; a 7×7 image is in the gapless layout (tapsPay
// counts its dot column), a 14×14 one in column phases.
func TestDirectLoneImageMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, p := range loneGeoms() {
		if g := directGeomFor(p); g.taps != (p.H == 7) {
			t.Errorf("%dx%d, C %d: gapless layout %v", p.H, p.W, p.C, g.taps)
		}
		x, w := ops.New(1, p.C, p.H, p.W), ops.New(p.OutC, p.C, 3, 3)
		for i := range x.Data {
			x.Data[i] = float32(r.NormFloat64())
		}
		for i := range w.Data {
			w.Data[i] = float32(r.NormFloat64())
		}
		res := ops.New(1, p.OutC, p.OutH, p.OutW)
		for i := range res.Data {
			res.Data[i] = float32(r.NormFloat64())
		}
		shift, scale := make([]float32, p.OutC), make([]float32, p.OutC)
		for i := range shift {
			shift[i], scale[i] = float32(r.NormFloat64()), 0.5+float32(r.Float64())
		}
		for _, f := range []ops.ConvFusion{{Shift: shift}, {Scale: scale, Shift: shift, Res: res, ReLU: true}} {
			want, mag := conv3Ref(p, x.Data, w.Data, f)
			var first []float32
			for threads := 1; threads <= 3; threads++ {
				y := ops.New(1, p.OutC, p.OutH, p.OutW)
				be := New(Options{Threads: threads})
				fo, g := newFusedOut(p, y.Data, f), directGeomFor(p)
				be.directForward(g, be.directTiles(g), x.Data, w.Data, fo.out(g), fo.into)
				for i, v := range y.Data {
					if d := math.Abs(float64(v) - want[i]); d > 1e-5*mag[i]+1e-6 {
						t.Fatalf("C %d OutC %d %dx%d, res %v, %d workers: y[%d] = %v, want %v (|w|·|x| %v)", p.C, p.OutC, p.H, p.W, f.Res != nil, threads, i, v, want[i], mag[i])
					}
				}
				if first == nil {
					first = y.Data
				} else if fmt.Sprint(y.Data) != fmt.Sprint(first) {
					t.Errorf("C %d OutC %d %dx%d: %d workers give other bits than one", p.C, p.OutC, p.H, p.W, threads)
				}
			}
		}
	}
}
