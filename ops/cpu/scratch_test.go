package cpu

import (
	"runtime"
	"sync"
	"testing"
)

// TestScratchSlots: a buffer comes back on the slot that returned it, not
// on another slot; a garbage collection does not empty the lists (a
// sync.Pool would, and training would re-allocate after every GC); and a
// slot keeps at most keepPerLength buffers of one length.
func TestScratchSlots(t *testing.T) {
	var s scratch
	a := s.get(1, 100)
	a[0] = 1
	s.put(1, a)
	if b := s.get(0, 100); &b[0] == &a[0] {
		t.Fatal("slot 0 got the buffer slot 1 returned")
	}
	runtime.GC()
	runtime.GC()
	if b := s.get(1, 100); &b[0] != &a[0] {
		t.Fatal("slot 1 did not get back its own buffer after a GC")
	}
	if b := s.get(1, 100); &b[0] == &a[0] {
		t.Fatal("slot 1 handed out the same buffer twice")
	}
	var bufs [][]float32
	for range keepPerLength + 3 {
		bufs = append(bufs, make([]float32, 7))
	}
	for _, b := range bufs {
		s.put(2, b)
	}
	if n := len(*s.list(2).free[7]); n != keepPerLength {
		t.Fatalf("slot 2 keeps %d buffers of one length, want %d", n, keepPerLength)
	}
	if b := s.get(2, 7); &b[0] != &bufs[keepPerLength-1][0] {
		t.Fatal("slot 2 did not hand out its last kept buffer first")
	}
}

// TestScratchConcurrent gets and puts from many goroutines on shared slots
// (slot 0 is every caller's) and on new slots added while others are in
// use; run with -race. Every buffer handed out must be one no other
// goroutine holds.
func TestScratchConcurrent(t *testing.T) {
	var s scratch
	var held sync.Map
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				slot := (g + i) % 5 * (g % 2) // odd goroutines spread over slots, even ones all on slot 0
				b := s.get(slot, 16+i%3)
				if _, dup := held.LoadOrStore(&b[0], g); dup {
					t.Errorf("buffer handed out while another goroutine holds it")
				}
				b[0] = float32(g)
				held.Delete(&b[0])
				s.put(slot, b)
			}
		})
	}
	wg.Wait()
}

// TestScratchInts: int buffers (tap offsets) come back on the slot that
// returned them, apart from the float buffers of the same length.
func TestScratchInts(t *testing.T) {
	var s scratch
	a := s.getInts(1, 48)
	s.putInts(1, a)
	s.putInts(1, nil) // ignored
	if f := s.get(1, 48); len(f) != 48 {
		t.Fatalf("float buffer of %d, want 48", len(f))
	}
	if b := s.getInts(0, 48); &b[0] == &a[0] {
		t.Fatal("slot 0 got the int buffer slot 1 returned")
	}
	if b := s.getInts(1, 48); &b[0] != &a[0] {
		t.Fatal("slot 1 did not get back its own int buffer")
	}
	if n := len(*s.list(1).ints[48]); n != 0 {
		t.Fatalf("slot 1 still keeps %d int buffers after handing its one out", n)
	}
}
