package data

import (
	"errors"
	"testing"
)

// TestDescribe checks the built-in facts against every built-in dataset
// present on this machine, with a validation split carved out.
func TestDescribe(t *testing.T) {
	checked := 0
	for _, name := range []string{"mnist", "fashion-mnist", "digits", "cifar10", "cifar100"} {
		for _, val := range []float64{0.1} { // the split also checks the whole training set's size
			info, ok := Describe(name, Options{ValSplit: val})
			if !ok {
				t.Fatalf("%s is not described", name)
			}
			s, err := Open(name, Options{ValSplit: val, Seed: 1})
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			tr := s.Train
			got := Info{C: tr.C, H: tr.H, W: tr.W, Classes: len(tr.Classes), Train: tr.Len(), Test: s.Test.Len()}
			if got != info {
				t.Errorf("%s val_split=%v: opened %+v, described %+v", name, val, got, info)
			}
			checked++
		}
	}
	t.Logf("%d datasets opened and compared", checked)
	if _, ok := Describe("imagefolder", Options{}); ok {
		t.Error("a folder format was described without opening it")
	}
}
