package cpu

import (
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// TestMaxPool2x2RowNHWCMatchesWindow checks the 2×2 stride-2 channel-last
// row pool (one vector call per row where AVX-512BW runs) against the
// window's maximum byte by byte: channel counts around the 64-byte chunk
// (1..130), odd widths (a last column no window reads), the extremes
// -128 and 127, and no byte written past the row.
func TestMaxPool2x2RowNHWCMatchesWindow(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	for _, c := range []int{1, 3, 4, 31, 32, 33, 63, 64, 65, 96, 127, 128, 130} {
		for _, w := range []int{2, 3, 5, 8, 15} {
			p := ops.PoolParams{N: 1, C: c, H: 4, W: w, KH: 2, KW: 2, StrideH: 2, StrideW: 2, OutH: 2, OutW: w / 2}
			x := randInt8(r, p.H*p.W*c)
			x[0], x[len(x)-1] = -128, 127
			for oh := range p.OutH {
				n := p.OutW * c
				dst := make([]int8, n+64)
				for i := range dst {
					dst[i] = 55
				}
				maxPool2x2RowNHWC(p, x, dst[:n], oh, nil)
				for ow := range p.OutW {
					for ch := range c {
						want := int8(-128)
						for dh := range 2 {
							for dw := range 2 {
								want = max(want, x[((2*oh+dh)*p.W+2*ow+dw)*c+ch])
							}
						}
						if got := dst[ow*c+ch]; got != want {
							t.Fatalf("c=%d w=%d row %d pixel %d channel %d: %d, want %d", c, w, oh, ow, ch, got, want)
						}
					}
				}
				for i, v := range dst[n:] {
					if v != 55 {
						t.Fatalf("c=%d w=%d row %d: byte %d past the row written (%d)", c, w, oh, i, v)
					}
				}
			}
		}
	}
}
