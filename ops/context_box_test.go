package ops

import (
	"slices"
	"testing"
)

// noBackend is enough of a Backend for arena tests (no primitive runs).
type noBackend struct{ Backend }

// Release hands a header made by empty back for the next empty, and only
// such a header, once, when its storage really went back to the arena:
// not a copy of it, not one whose shape was replaced, not one released
// twice, not in grad mode (where Release keeps everything).
func TestReleaseRecyclesOnlyItsOwnHeaders(t *testing.T) {
	c := NewContext(noBackend{}, Options{})
	a := c.empty([]int{2, 3})
	c.Release(a)
	b := c.empty([]int{4})
	if b != a || !slices.Equal(b.Shape, []int{4}) || len(b.Data) != 4 || cap(b.Shape) != 1 {
		t.Fatalf("released header not reused as a (4): same %v, shape %v, %d values", b == a, b.Shape, len(b.Data))
	}
	c.Release(b)
	c.Release(b) // the second finds nothing to return
	if len(c.boxes) != 1 {
		t.Fatalf("released twice: %d headers kept, want 1", len(c.boxes))
	}
	c.boxes = nil

	v := c.empty([]int{3})
	cp := *v
	c.Release(&cp) // the storage goes back, the copy is no box
	w := c.empty([]int{5, 1, 1, 1, 1})
	r := c.empty([]int{6})
	r.Shape = []int{2, 3}
	c.Release(w)
	c.Release(r)
	if len(c.boxes) != 0 {
		t.Fatalf("a copy, a 5-d tensor or a replaced shape recycled: %d headers", len(c.boxes))
	}

	c.SetGrad(true)
	g := c.empty([]int{7})
	c.Release(g)
	if len(c.boxes) != 0 || len(g.Data) != 7 {
		t.Fatal("grad mode released a header")
	}
}
