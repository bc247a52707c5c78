package data

import (
	"slices"
	"testing"
)

func TestSplitIsDeterministicDisjointAndComplete(t *testing.T) {
	ds := synthetic(100, 1, 2, 2, 10)
	for i := range ds.X { // make each sample identifiable by its first pixel
		ds.X[i] = float32(i/4) / 100
	}
	tr1, va1, err := ds.Split(0.2, 7)
	if err != nil {
		t.Fatal(err)
	}
	tr2, va2, _ := ds.Split(0.2, 7)
	_, va3, _ := ds.Split(0.2, 8)
	if tr1.Len() != 80 || va1.Len() != 20 {
		t.Fatalf("sizes %d/%d, want 80/20", tr1.Len(), va1.Len())
	}
	if !slices.Equal(va1.X, va2.X) || !slices.Equal(tr1.Y, tr2.Y) {
		t.Error("same seed gave different splits")
	}
	if slices.Equal(va1.X, va3.X) {
		t.Error("seeds 7 and 8 gave the same validation set")
	}
	seen := map[float32]bool{}
	for _, part := range []*Dataset{tr1, va1} {
		for i := range part.Len() {
			id := part.Sample(i)[0]
			if seen[id] {
				t.Fatalf("sample %v in both splits", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != 100 {
		t.Errorf("splits cover %d samples, want 100", len(seen))
	}
	if _, _, err := ds.Split(1, 0); err == nil {
		t.Error("fraction 1 accepted")
	}
}

func TestSubsetSelectConcatAndTensors(t *testing.T) {
	ds := synthetic(10, 3, 4, 5, 4)
	sub := ds.Subset(3)
	if sub.Len() != 3 || &sub.X[0] != &ds.X[0] || ds.Subset(0) != ds || ds.Subset(99) != ds {
		t.Error("Subset: wrong length or copied pixels")
	}
	sel, err := ds.Select([]int{9, 0})
	if err != nil || sel.Y[0] != ds.Y[9] || sel.Sample(1)[59] != ds.Sample(0)[59] {
		t.Errorf("Select: %v", err)
	}
	if _, err := ds.Select([]int{10}); err == nil {
		t.Error("Select out of range accepted")
	}
	all, err := Concat("all", sub, sel)
	if err != nil || all.Len() != 5 {
		t.Errorf("Concat: %v, len %d", err, all.Len())
	}
	if _, err := Concat("bad", ds, synthetic(2, 1, 4, 5, 4)); err == nil {
		t.Error("Concat of different shapes accepted")
	}
	if s := ds.Shape(); s != [3]int{3, 4, 5} || len(ds.X) != 10*3*4*5 {
		t.Errorf("shape %v with %d values", s, len(ds.X))
	}
	if got := ds.ClassCounts(); !slices.Equal(got, []int{3, 3, 2, 2}) {
		t.Errorf("class counts %v", got)
	}
	bad := synthetic(2, 1, 1, 1, 2)
	bad.X[1] = 1.5
	wantErr(t, bad.Validate(), "pixel 0 of sample 1 is 1.5")
}

func TestChannelStats(t *testing.T) {
	ds := &Dataset{C: 2, H: 1, W: 2, X: []float32{0, 1, 0.5, 0.5, 0, 1, 0.5, 0.5}, Y: []int{0, 0}, Classes: []string{"a"}}
	mean, std := ds.ChannelStats()
	if !near(float64(mean[0]), 0.5, 1e-6) || !near(float64(std[0]), 0.5, 1e-6) ||
		!near(float64(mean[1]), 0.5, 1e-6) || !near(float64(std[1]), 0, 1e-6) {
		t.Errorf("mean %v std %v, want [0.5 0.5] [0.5 0]", mean, std)
	}
}

func TestRegistryUnknownNameListsNamesAndSuggests(t *testing.T) {
	_, err := Open("minst", Options{})
	wantErr(t, err, `unknown dataset "minst"`, "cifar10, cifar100, digits, fashion-mnist, idx, imagefolder, mnist, npy", `did you mean "mnist"?`)
	r := NewRegistry()
	r.Register("tiny", "three samples", func(Options) (*Splits, error) {
		return &Splits{Train: synthetic(3, 1, 1, 1, 2)}, nil
	})
	s, err := r.Open("TINY", Options{})
	if err != nil || s.Train.Len() != 3 || r.Doc("tiny") != "three samples" {
		t.Errorf("custom dataset: %v", err)
	}
}
