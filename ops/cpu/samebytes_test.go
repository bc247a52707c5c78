package cpu

import (
	"bytes"
	"testing"
)

// TestSameBytes: sameBytes agrees with bytes.Equal on 1-3 workers for
// lengths around its piece size, with one byte changed at the start, the
// end or a piece boundary, and for different lengths.
func TestSameBytes(t *testing.T) {
	for threads := 1; threads <= 3; threads++ {
		b := New(Options{Threads: threads})
		for _, n := range []int{0, 1, sameChunk - 1, sameChunk, sameChunk + 1, 3*sameChunk + 5} {
			x := make([]byte, n)
			for i := range x {
				x[i] = byte(i * 7)
			}
			y := bytes.Clone(x)
			if !b.sameBytes(x, y) {
				t.Errorf("%d workers, %d bytes: equal bytes reported different", threads, n)
			}
			for _, at := range []int{0, n - 1, sameChunk, n / 2} {
				if at < 0 || at >= n {
					continue
				}
				y[at]++
				if b.sameBytes(x, y) {
					t.Errorf("%d workers, %d bytes: byte %d changed, reported the same", threads, n, at)
				}
				y[at]--
			}
			if n > 0 && b.sameBytes(x, y[:n-1]) {
				t.Errorf("%d workers: lengths %d and %d reported the same", threads, n, n-1)
			}
		}
	}
}
