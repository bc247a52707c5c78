package data

import "math/rand/v2"

// Stream numbers separate the random draws made for different purposes from
// the same user seed, so that, say, turning augmentation on does not change
// the shuffle order.
const (
	streamSplit uint64 = 0x5e1175 + iota
	streamShuffle
	streamAugment
	streamCorrupt
	streamTestSplit
)

// newRand is a PCG generator for (seed, stream, index): the same triple
// gives the same sequence everywhere.
func newRand(seed, stream, index uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed^(stream*0x9e3779b97f4a7c15), mix(index+stream)))
}

// mix is SplitMix64's finaliser: nearby indices give unrelated seeds.
func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// permutation is a seeded permutation of 0..n-1.
func permutation(n int, seed, stream uint64) []int {
	return newRand(seed, stream, 0).Perm(n)
}
