package cpu

import (
	"slices"
	"testing"
	"time"
)

// AlternateThreads calls call(0) (one worker) and call(1) (two workers)
// per times each in turn until b.N calls in all, after one warm-up round
// of each: the µs per call of each round on one and on two workers, and
// each round's ratio t2/t1, so that both see the same load.
func AlternateThreads(b *testing.B, per int, call func(i int)) (t1, t2, ratio []float64) {
	round := func(i int) float64 {
		start := time.Now()
		for range per {
			call(i)
		}
		return float64(time.Since(start).Nanoseconds()) / 1e3 / float64(per)
	}
	round(0)
	round(1)
	b.ResetTimer()
	for n := 0; n < b.N; n += 2 * per {
		a, c := round(0), round(1)
		t1, t2, ratio = append(t1, a), append(t2, c), append(ratio, c/a)
	}
	return t1, t2, ratio
}

// MedianOf returns the median of v (0 when empty); v is sorted in place.
func MedianOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}
