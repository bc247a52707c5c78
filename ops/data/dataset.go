package data

import (
	"fmt"
	"math"
)

// Dataset is N images of shape C×H×W held as one flat float32 slice
// (sample-major, channels first, values in [0,1]) with one label per image.
// Datasets are values: the functions that derive one (Subset, Select,
// Split, Corrupt) copy what they change and never modify their input.
type Dataset struct {
	Name    string    // e.g. "mnist/train"; used in error messages and reports
	C, H, W int       // per-sample shape
	X       []float32 // Len()*C*H*W pixels
	Y       []int     // labels in [0, len(Classes))
	Classes []string  // class names, index = label
}

// Len is the number of samples.
func (d *Dataset) Len() int { return len(d.Y) }

// SampleSize is C*H*W, the number of floats per sample.
func (d *Dataset) SampleSize() int { return d.C * d.H * d.W }

// Shape is (C, H, W).
func (d *Dataset) Shape() [3]int { return [3]int{d.C, d.H, d.W} }

// Sample returns sample i's pixels (a view into X, not a copy).
func (d *Dataset) Sample(i int) []float32 {
	s := d.SampleSize()
	return d.X[i*s : (i+1)*s : (i+1)*s]
}

// Validate checks the invariants every loader guarantees: positive shape,
// len(X) = Len()*C*H*W, labels in range, pixels finite and in [0,1].
func (d *Dataset) Validate() error {
	if d.C <= 0 || d.H <= 0 || d.W <= 0 {
		return fmt.Errorf("data: dataset %q has invalid sample shape %dx%dx%d", d.Name, d.C, d.H, d.W)
	}
	if len(d.X) != len(d.Y)*d.SampleSize() {
		return fmt.Errorf("data: dataset %q has %d pixel values for %d samples of %dx%dx%d",
			d.Name, len(d.X), len(d.Y), d.C, d.H, d.W)
	}
	if len(d.Classes) == 0 {
		return fmt.Errorf("data: dataset %q has no class names", d.Name)
	}
	if err := checkLabels(d.Y, len(d.Classes)); err != nil {
		return fmt.Errorf("data: dataset %q: %w", d.Name, err)
	}
	for i, v := range d.X {
		if !(v >= 0 && v <= 1) { // also catches NaN
			return fmt.Errorf("data: dataset %q: pixel %d of sample %d is %v, outside [0,1]",
				d.Name, i%d.SampleSize(), i/d.SampleSize(), v)
		}
	}
	return nil
}

func checkLabels(y []int, nclass int) error {
	for i, l := range y {
		if l < 0 || l >= nclass {
			return fmt.Errorf("label %d of sample %d is out of range [0,%d)", l, i, nclass)
		}
	}
	return nil
}

// Subset returns the first n samples (all of them when n <= 0 or n >=
// Len()). The pixels are shared with d, which is safe because derived
// datasets never write to X.
func (d *Dataset) Subset(n int) *Dataset {
	if n <= 0 || n >= d.Len() {
		return d
	}
	out := *d
	out.X = d.X[:n*d.SampleSize()]
	out.Y = d.Y[:n]
	return &out
}

// Select returns the samples at idx, in that order, copied.
func (d *Dataset) Select(idx []int) (*Dataset, error) {
	s := d.SampleSize()
	out := d.withSize(len(idx))
	for j, i := range idx {
		if i < 0 || i >= d.Len() {
			return nil, fmt.Errorf("data: dataset %q: index %d out of range [0,%d)", d.Name, i, d.Len())
		}
		copy(out.X[j*s:(j+1)*s], d.Sample(i))
		out.Y[j] = d.Y[i]
	}
	return out, nil
}

// withSize is an empty dataset with d's shape, classes and name, holding n samples.
func (d *Dataset) withSize(n int) *Dataset {
	return &Dataset{Name: d.Name, C: d.C, H: d.H, W: d.W,
		X: make([]float32, n*d.SampleSize()), Y: make([]int, n), Classes: d.Classes}
}

// ClassCounts is the number of samples of each class.
func (d *Dataset) ClassCounts() []int {
	c := make([]int, len(d.Classes))
	for _, l := range d.Y {
		c[l]++
	}
	return c
}

// Concat joins datasets of the same shape and classes, in order.
func Concat(name string, parts ...*Dataset) (*Dataset, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("data: Concat %q of no datasets", name)
	}
	first := parts[0]
	out := &Dataset{Name: name, C: first.C, H: first.H, W: first.W, Classes: first.Classes}
	for _, p := range parts {
		if p.Shape() != first.Shape() || len(p.Classes) != len(first.Classes) {
			return nil, fmt.Errorf("data: cannot concatenate %q (%v, %d classes) with %q (%v, %d classes)",
				p.Name, p.Shape(), len(p.Classes), first.Name, first.Shape(), len(first.Classes))
		}
		out.X = append(out.X, p.X...)
		out.Y = append(out.Y, p.Y...)
	}
	return out, nil
}

// Split carves a validation set out of d: round(frac*Len()) samples chosen by
// a permutation drawn from seed go to val, the rest to train, each keeping
// d's order. frac must be in [0,1); frac 0 gives an empty val.
func (d *Dataset) Split(frac float64, seed uint64) (train, val *Dataset, err error) {
	if !(frac >= 0 && frac < 1) {
		return nil, nil, fmt.Errorf("data: validation fraction %v must be in [0,1)", frac)
	}
	nval := int(math.Round(frac * float64(d.Len())))
	perm := permutation(d.Len(), seed, streamSplit)
	inVal := make([]bool, d.Len())
	for _, i := range perm[:nval] {
		inVal[i] = true
	}
	var ti, vi []int
	for i, v := range inVal {
		if v {
			vi = append(vi, i)
		} else {
			ti = append(ti, i)
		}
	}
	if train, err = d.Select(ti); err != nil {
		return nil, nil, err
	}
	if val, err = d.Select(vi); err != nil {
		return nil, nil, err
	}
	train.Name, val.Name = d.Name+"[train]", d.Name+"[val]"
	return train, val, nil
}

// Splits are the parts of a dataset a recipe uses. Validation is nil when
// no fraction was asked for; Test is nil when the source has none.
type Splits struct {
	Train, Validation, Test *Dataset
}

// All joins every non-nil split (train, validation, test) into one dataset,
// e.g. to evaluate on the whole of a domain-shift target.
func (s *Splits) All() (*Dataset, error) {
	var parts []*Dataset
	for _, p := range []*Dataset{s.Train, s.Validation, s.Test} {
		if p != nil {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("data: Splits.All of empty splits")
	}
	return Concat(parts[0].Name+"[all]", parts...)
}
