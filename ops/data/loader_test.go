package data

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"
	"time"
)

func collect(t *testing.T, l *Loader, epoch int) []*Batch {
	t.Helper()
	it := l.Epoch(context.Background(), epoch)
	defer it.Close()
	var out []*Batch
	for b, ok := it.Next(); ok; b, ok = it.Next() {
		out = append(out, b)
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
	return out
}

func indices(bs []*Batch) []int {
	var idx []int
	for _, b := range bs {
		idx = append(idx, b.Index...)
	}
	return idx
}

func TestLoaderVisitsEverySampleOncePerEpoch(t *testing.T) {
	ds := synthetic(103, 1, 3, 3, 5)
	l, err := NewLoader(ds, LoaderOptions{BatchSize: 10, Shuffle: true, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	bs := collect(t, l, 0)
	if len(bs) != 11 || l.Batches() != 11 || bs[10].N != 3 || bs[10].Shape != [4]int{3, 1, 3, 3} {
		t.Fatalf("%d batches, last N=%d shape %v", len(bs), bs[len(bs)-1].N, bs[len(bs)-1].Shape)
	}
	idx := indices(bs)
	sorted := slices.Sorted(slices.Values(idx))
	for i, v := range sorted {
		if v != i {
			t.Fatalf("epoch visits %v, want each of 0..102 once", sorted)
		}
	}
	if slices.IsSorted(idx) {
		t.Error("shuffled order is sorted")
	}
	for _, b := range bs { // pixels and labels follow the index
		for j, i := range b.Index {
			if b.Y[j] != int32(ds.Y[i]) || !slices.Equal(b.X[j*9:(j+1)*9], ds.Sample(i)) {
				t.Fatalf("batch sample %d does not match dataset sample %d", j, i)
			}
		}
	}
}

func TestLoaderOrderIsSeededPerEpoch(t *testing.T) {
	ds := synthetic(50, 1, 2, 2, 5)
	mk := func(seed uint64) *Loader {
		l, _ := NewLoader(ds, LoaderOptions{BatchSize: 8, Shuffle: true, Seed: seed, DropLast: true})
		return l
	}
	a0, a0again, a1, b0 := indices(collect(t, mk(1), 0)), indices(collect(t, mk(1), 0)), indices(collect(t, mk(1), 1)), indices(collect(t, mk(2), 0))
	if len(a0) != 48 {
		t.Fatalf("DropLast: %d samples, want 48", len(a0))
	}
	if !slices.Equal(a0, a0again) {
		t.Error("same seed and epoch gave different orders")
	}
	if slices.Equal(a0, a1) || slices.Equal(a0, b0) {
		t.Error("another epoch or seed gave the same order")
	}
	l, _ := NewLoader(ds, LoaderOptions{BatchSize: 8})
	if idx := indices(collect(t, l, 5)); !slices.IsSorted(idx) || len(idx) != 50 {
		t.Error("unshuffled loader is not in dataset order")
	}
}

func TestLoaderAugmentationIsDeterministicAndNormalisesAfter(t *testing.T) {
	ds := synthetic(16, 2, 6, 6, 4)
	opts := LoaderOptions{BatchSize: 4, Shuffle: true, Seed: 9, Augment: Augment{CropPadding: 2, HFlip: true},
		Normalize: &Normalize{Mean: []float32{0.5, 0.25}, Std: []float32{0.5, 2}}}
	l, _ := NewLoader(ds, opts)
	first, second := collect(t, l, 0), collect(t, l, 0)
	for i := range first {
		if !slices.Equal(first[i].X, second[i].X) {
			t.Fatal("augmentation differs between runs with the same seed")
		}
	}
	other := collect(t, l, 1)
	changed := false
	for i := range other {
		changed = changed || !slices.Equal(sortedCopy(first[i].X), sortedCopy(other[i].X))
	}
	if !changed {
		t.Error("epoch 1 augmented exactly like epoch 0")
	}
	// zero padding normalised: channel 0 maps 0 to (0-0.5)/0.5 = -1, channel 1 to -0.125
	for _, b := range first {
		for i, v := range b.X {
			ch := (i / 36) % 2
			lo := []float32{-1, -0.125}[ch]
			if v < lo-1e-6 {
				t.Fatalf("normalised value %v below the image of 0 (%v)", v, lo)
			}
		}
	}
}

func sortedCopy(x []float32) []float32 { return slices.Sorted(slices.Values(x)) }

func TestAugmentCropShiftsAndFlipMirrors(t *testing.T) {
	src := []float32{1, 2, 3, 4, 5, 6} // 1×2×3
	dst := make([]float32, 6)
	flips, keeps := 0, 0
	for seed := range uint64(20) {
		Augment{HFlip: true}.apply(dst, src, 1, 2, 3, newRand(seed, streamAugment, 0))
		switch {
		case slices.Equal(dst, []float32{3, 2, 1, 6, 5, 4}):
			flips++
		case slices.Equal(dst, src):
			keeps++
		default:
			t.Fatalf("flip gave %v", dst)
		}
	}
	if flips == 0 || keeps == 0 {
		t.Errorf("20 seeds: %d flips, %d unchanged; want both", flips, keeps)
	}
	seenShift := false
	for s := range uint64(20) {
		Augment{CropPadding: 1}.apply(dst, src, 1, 2, 3, newRand(s, 0, 0))
		var zeros int
		for _, v := range dst {
			if v == 0 {
				zeros++
			}
		}
		seenShift = seenShift || zeros > 0
		if zeros > 4 {
			t.Fatalf("crop with padding 1 lost too much: %v", dst)
		}
	}
	if !seenShift {
		t.Error("20 random crops never shifted the image")
	}
}

func TestLoaderCloseAndCancelStopTheProducer(t *testing.T) {
	ds := synthetic(64, 1, 4, 4, 2)
	l, _ := NewLoader(ds, LoaderOptions{BatchSize: 2, Prefetch: 1})
	before := runtime.NumGoroutine()
	for range 20 {
		it := l.Epoch(context.Background(), 0)
		it.Next()
		it.Close()
		it.Close() // twice is fine
	}
	ctx, cancel := context.WithCancel(context.Background())
	it := l.Epoch(ctx, 0)
	if _, ok := it.Next(); !ok {
		t.Fatal("no first batch")
	}
	cancel()
	for _, ok := it.Next(); ok; _, ok = it.Next() {
	}
	if !errors.Is(it.Err(), context.Canceled) {
		t.Errorf("Err after cancel = %v, want context.Canceled", it.Err())
	}
	it.Close()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after closing, %d before: producer leaked", n, before)
	}
	full := l.Epoch(context.Background(), 0)
	for _, ok := full.Next(); ok; _, ok = full.Next() {
	}
	full.Close()
	if full.Err() != nil {
		t.Errorf("Err after a full epoch and Close = %v, want nil", full.Err())
	}
}

func TestNewLoaderRejectsBadOptions(t *testing.T) {
	ds := synthetic(4, 3, 2, 2, 2)
	_, err := NewLoader(ds, LoaderOptions{})
	wantErr(t, err, "batch size 0")
	_, err = NewLoader(ds, LoaderOptions{BatchSize: 1, Normalize: &Normalize{Mean: []float32{0, 0}, Std: []float32{1, 1}}})
	wantErr(t, err, "1 or 3 means")
	_, err = NewLoader(ds, LoaderOptions{BatchSize: 1, Normalize: &Normalize{Mean: []float32{0}, Std: []float32{0}}})
	wantErr(t, err, "must be positive")
}
