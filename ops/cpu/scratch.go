package cpu

import (
	"sync"
	"sync/atomic"
)

// scratch recycles temporary buffers of kernels (im2col columns, GEMM
// outputs, Winograd transforms) by exact length, so a training step's
// kernels allocate nothing after the first step.
//
// It keeps one free list per slot of the worker pool (gemm.ParallelSlots:
// slot 0 for the calling goroutines, slot s for pool worker s), and a
// piece of a parallel loop takes and returns its buffers on the slot that
// runs it. A worker thus gets back the buffers it wrote itself, still in
// its core's cache, instead of whichever one the other core returned last
// (with one shared list a split layer handed every other tile a buffer
// the other core had just written, and paid for moving its cache lines).
// The lists hold their buffers for good: unlike a sync.Pool, a garbage
// collection does not empty them, so training does not re-allocate its
// buffers after every collection. Memory stays bounded: at most
// keepPerLength buffers of each length per slot, and as many slots as the
// pool has workers, plus one.
type scratch struct {
	grow  sync.Mutex // serialises adding slots
	slots atomic.Pointer[[]*freeList]
}

// keepPerLength is how many buffers of one length a slot keeps: a tile
// holds up to three at once (columns, products, rows), and a layer can
// hold a few more outside its tiles.
const keepPerLength = 4

// freeList is one slot's buffers by length. Only slot 0's list is used by
// several goroutines at once (every caller that is not a pool worker);
// the lock of a worker's list is never contended.
// A length's buffers are behind a pointer, so that a get or put looks its
// length up once (a put of a new length adds it).
type freeList struct {
	mu   sync.Mutex
	free map[int]*[][]float32
	ints map[int]*[][]int // the direct and Winograd paths' tap offsets
	_    [64]byte         // keeps the next allocation's hot fields off mu's cache line
}

// list returns slot's free list, adding slots up to it on first use.
func (s *scratch) list(slot int) *freeList {
	if ls := s.slots.Load(); ls != nil && slot < len(*ls) {
		return (*ls)[slot]
	}
	s.grow.Lock()
	defer s.grow.Unlock()
	var ls []*freeList
	if p := s.slots.Load(); p != nil {
		ls = *p
	}
	for len(ls) <= slot {
		ls = append(ls[:len(ls):len(ls)], &freeList{free: map[int]*[][]float32{}, ints: map[int]*[][]int{}})
	}
	s.slots.Store(&ls)
	return ls[slot]
}

// get returns a buffer of n floats (contents undefined) for a thread
// running as slot.
func (s *scratch) get(slot, n int) []float32 {
	l := s.list(slot)
	l.mu.Lock()
	defer l.mu.Unlock()
	return take(l.free, n)
}

// put gives buf back to slot's list (dropped if the list already keeps
// keepPerLength buffers of its length).
func (s *scratch) put(slot int, buf []float32) {
	l := s.list(slot)
	l.mu.Lock()
	defer l.mu.Unlock()
	keep(l.free, buf)
}

// getInts is get for a buffer of n ints.
func (s *scratch) getInts(slot, n int) []int {
	l := s.list(slot)
	l.mu.Lock()
	defer l.mu.Unlock()
	return take(l.ints, n)
}

// putInts is put for a buffer of ints (nil is ignored).
func (s *scratch) putInts(slot int, buf []int) {
	if buf == nil {
		return
	}
	l := s.list(slot)
	l.mu.Lock()
	defer l.mu.Unlock()
	keep(l.ints, buf)
}

// take removes and returns the last kept buffer of length n, or a new one.
func take[T any](free map[int]*[][]T, n int) []T {
	if p := free[n]; p != nil && len(*p) > 0 {
		bs := *p
		buf := bs[len(bs)-1]
		bs[len(bs)-1] = nil
		*p = bs[:len(bs)-1]
		return buf
	}
	return make([]T, n)
}

// keep adds buf to free unless keepPerLength of its length are kept.
func keep[T any](free map[int]*[][]T, buf []T) {
	p := free[len(buf)]
	if p == nil {
		p = &[][]T{}
		free[len(buf)] = p
	}
	if len(*p) < keepPerLength {
		*p = append(*p, buf)
	}
}
