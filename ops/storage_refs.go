package ops

import "unsafe"

// storageRefs counts, per storage (the address of its first element), the
// live values of a forward that use it (see lifetimes). It is a table
// with open addressing and linear probing instead of a map: a forward
// counts a few values per step, and a table kept on the Context (see
// forwardState) costs no hashing by the runtime and no allocation per
// forward. Within a forward its keys are never removed: a count of 0 is
// a storage no live value uses, as an absent key was in the map. The
// keys are addresses, not pointers: a key with a count above 0 is the
// storage of a value still in the forward's values, so it cannot be
// freed and its address reused while it is counted, and the table keeps
// no buffer alive after the forward.
type storageRefs struct {
	keys   []uintptr // 0: an empty slot
	counts []int32
	used   int  // keys set
	shift  uint // 64 - log2(len(keys))
}

// minRefSlots is the table's first size (a power of two).
const minRefSlots = 64

// storageOf is the key of t's storage (t has data).
func storageOf(t *Tensor) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(t.Data))) }

// add adds d to the count of storage k and returns the new count; a count
// that would drop below 0 stays 0 (and the result is the count before
// clamping, so a storage no value counted still reads as unused).
func (r *storageRefs) add(k uintptr, d int32) int32 {
	if 2*(r.used+1) > len(r.keys) {
		r.grow()
	}
	i := r.slot(k)
	if r.keys[i] == 0 {
		r.keys[i], r.used = k, r.used+1
	}
	n := r.counts[i] + d
	r.counts[i] = max(n, 0)
	return n
}

// slot is k's slot, or the empty slot where k goes.
func (r *storageRefs) slot(k uintptr) int {
	mask := len(r.keys) - 1
	for i := int((uint64(k) * 0x9e3779b97f4a7c15) >> r.shift); ; i = (i + 1) & mask {
		if r.keys[i] == k || r.keys[i] == 0 {
			return i
		}
	}
}

// grow doubles the table (or makes the first one) and re-inserts the keys.
func (r *storageRefs) grow() {
	keys, counts := r.keys, r.counts
	n := max(2*len(keys), minRefSlots)
	r.keys, r.counts, r.used = make([]uintptr, n), make([]int32, n), 0
	r.shift = 64
	for s := n; s > 1; s >>= 1 {
		r.shift--
	}
	for i, k := range keys {
		if k != 0 {
			j := r.slot(k)
			r.keys[j], r.counts[j], r.used = k, counts[i], r.used+1
		}
	}
}

// reset empties the table, keeping its size.
func (r *storageRefs) reset() {
	clear(r.keys)
	clear(r.counts)
	r.used = 0
}
