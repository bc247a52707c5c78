package cpu

import (
	"bytes"
	"sync/atomic"
)

// sameChunk is the bytes one piece of sameBytes compares (256 KiB: a
// 256→256 3×3 weight tensor, 2.4 MB, makes nine pieces).
const sameChunk = 1 << 18

// sameBytes reports whether x and y hold the same bytes, comparing pieces
// of sameChunk bytes on the workers. The Winograd paths check a weight
// tensor against the copy its cached transform was made from on every
// forward (winoWeightsFor): at batch 1 that comparison streams both from
// memory (resnet18's 14×14 layers: 4.7 MB a layer) while the other worker
// waits, about 0.75 ms of a 12 ms forward on one thread. The answer is
// exact; a piece stops early once another has found a difference.
func (b *Backend) sameBytes(x, y []byte) bool {
	if len(x) != len(y) {
		return false
	}
	var differ atomic.Bool
	pieces := (len(x) + sameChunk - 1) / sameChunk
	b.w.For(pieces, 1, func(lo, hi int) {
		for i := lo; i < hi && !differ.Load(); i++ {
			s, e := i*sameChunk, min((i+1)*sameChunk, len(x))
			if !bytes.Equal(x[s:e], y[s:e]) {
				differ.Store(true)
			}
		}
	})
	return !differ.Load()
}
