package cpu

import "testing"

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
