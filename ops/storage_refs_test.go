package ops

import (
	"math/rand/v2"
	"testing"
)

// storageRefs must count as the map it replaced did: add returns the
// count after the change, and a storage whose count dropped to 0 or below
// (or was never counted) is absent again. Many keys, so the table grows
// several times, and keys that collide in the low bits.
func TestStorageRefsCountLikeAMap(t *testing.T) {
	var r storageRefs
	for round := range 2 { // the second after reset: an empty table of the grown size
		want := map[uintptr]int32{}
		rng := rand.New(rand.NewPCG(uint64(round), 7))
		for range 20000 {
			k := uintptr(64 + 4096*rng.IntN(300)) // page-aligned: equal low bits
			d := int32(1)
			if rng.IntN(2) == 0 {
				d = -1
			}
			n := want[k] + d
			if n <= 0 {
				delete(want, k)
			} else {
				want[k] = n
			}
			if got := r.add(k, d); got != n {
				t.Fatalf("round %d: add(%#x, %d) = %d, want %d", round, k, d, got, n)
			}
		}
		for k, n := range want {
			if got := r.add(k, 0); got != n {
				t.Fatalf("round %d: count of %#x = %d, want %d", round, k, got, n)
			}
		}
		if len(r.keys) < 2*r.used {
			t.Fatalf("round %d: %d keys in %d slots", round, r.used, len(r.keys))
		}
		r.reset()
		if got := r.add(64, 0); got != 0 {
			t.Fatalf("round %d: after reset a count of %d", round, got)
		}
	}
}
