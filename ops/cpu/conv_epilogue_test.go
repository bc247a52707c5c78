package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// convEpilogueRef is a direct float64 grouped convolution plus bias,
// followed by act in float64.
func convEpilogueRef(p ops.ConvParams, x, w, bias []float32, act ops.Epilogue) []float64 {
	y := make([]float64, p.N*p.OutC*p.OutH*p.OutW)
	cin, cout := p.C/p.Groups, p.OutC/p.Groups
	for n := range p.N {
		for oc := range p.OutC {
			g := oc / cout
			for oh := range p.OutH {
				for ow := range p.OutW {
					s := float64(bias[oc])
					for ic := range cin {
						for kh := range p.KH {
							for kw := range p.KW {
								ih, iw := oh*p.StrideH-p.PadH+kh*p.DilH, ow*p.StrideW-p.PadW+kw*p.DilW
								if ih < 0 || ih >= p.H || iw < 0 || iw >= p.W {
									continue
								}
								s += float64(x[((n*p.C+g*cin+ic)*p.H+ih)*p.W+iw]) * float64(w[((oc*cin+ic)*p.KH+kh)*p.KW+kw])
							}
						}
					}
					switch act.Kind {
					case ops.EpilogueClip:
						s = math.Min(math.Max(s, float64(act.Lo)), float64(act.Hi))
					case ops.EpilogueHardswish:
						s = s * math.Min(math.Max(s+3, 0), 6) / 6
					case ops.EpilogueHardSigmoid:
						s = math.Min(math.Max(float64(act.Alpha)*s+float64(act.Beta), 0), 1)
					}
					y[((n*p.OutC+oc)*p.OutH+oh)*p.OutW+ow] = s
				}
			}
		}
	}
	return y
}

// TestConv2dEpilogueMatchesFloat64Reference: every epilogue, on a dense,
// a depthwise and a grouped strided convolution, within float32 rounding
// of a direct float64 convolution.
func TestConv2dEpilogueMatchesFloat64Reference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	geoms := []ops.ConvParams{
		{N: 3, C: 8, H: 9, W: 9, OutC: 16, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: 1},
		{N: 2, C: 16, H: 10, W: 10, OutC: 16, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 16},
		{N: 5, C: 8, H: 7, W: 11, OutC: 12, KH: 5, KW: 3, StrideH: 1, StrideW: 2, PadH: 2, PadW: 1, DilH: 1, DilW: 1, Groups: 4},
		// one image of 19M multiply-adds: the batch-1 path that spreads
		// the lone tile over the workers (wideTiles)
		{N: 1, C: 32, H: 32, W: 32, OutC: 64, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1},
	}
	acts := []ops.Epilogue{
		{Kind: ops.EpilogueNone},
		{Kind: ops.EpilogueClip, Lo: 0, Hi: 6},
		{Kind: ops.EpilogueHardswish},
		{Kind: ops.EpilogueHardSigmoid, Alpha: 1.0 / 6, Beta: 0.5},
	}
	fill := func(n int, scale float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(scale * r.NormFloat64())
		}
		return v
	}
	be := New(Options{})
	for gi, p := range geoms {
		p.OutH = (p.H+2*p.PadH-p.DilH*(p.KH-1)-1)/p.StrideH + 1
		p.OutW = (p.W+2*p.PadW-p.DilW*(p.KW-1)-1)/p.StrideW + 1
		// scale 2: pre-activations spread over the clip and hardswish knees
		x, w, bias := fill(p.N*p.C*p.H*p.W, 2), fill(p.OutC*p.C/p.Groups*p.KH*p.KW, 1), fill(p.OutC, 1)
		if gi == len(geoms)-1 && be.w.n > 1 && !be.wide(p, convTile(p), 1) {
			t.Fatalf("geometry %d no longer takes the wide batch-1 path; give it more work", gi)
		}
		for _, act := range acts {
			y := ops.New(p.N, p.OutC, p.OutH, p.OutW)
			T := func(d []float32, shape ...int) *ops.Tensor { return &ops.Tensor{Shape: shape, Data: d} }
			if err := be.Conv2dEpilogue(p, T(x, len(x)), T(w, len(w)), T(bias, len(bias)), y, act); err != nil {
				t.Fatal(err)
			}
			want := convEpilogueRef(p, x, w, bias, act)
			var saturated int
			for i, g := range y.Data {
				// 1e-3: geometry 3 takes the Winograd path, F(4×4,3×3)
				// (conv_wino2.go), which rounds more than the direct one
				// (6.9e-4 at |y| = 1.17 here; its own tests bound the
				// error by the sum of |w|·|x| over the input tile)
				if d := math.Abs(float64(g) - want[i]); d > 1e-3*(1+math.Abs(want[i])) {
					t.Fatalf("geometry %d, epilogue %+v: y[%d] = %v, want %v", gi, act, i, g, want[i])
				}
				if act.Kind != ops.EpilogueNone && (want[i] == float64(act.Hi) && act.Kind == ops.EpilogueClip || want[i] == 1 && act.Kind == ops.EpilogueHardSigmoid) {
					saturated++
				}
			}
			if (act.Kind == ops.EpilogueClip || act.Kind == ops.EpilogueHardSigmoid) && saturated == 0 {
				t.Errorf("geometry %d, epilogue %+v: no output reached the upper bound; the test does not exercise it", gi, act)
			}
		}
	}
}
