package data

import (
	"fmt"
	"slices"
)

// CheckShift checks that target can measure a domain shift from source: the
// same image shape and the same classes (by name, in label order). MNIST ->
// UCI digits is a shift; MNIST -> Fashion-MNIST is not (other classes).
func CheckShift(source, target *Dataset) error {
	if source.Shape() != target.Shape() {
		return fmt.Errorf("data: %s images are %dx%dx%d but %s's are %dx%dx%d", target.Name, target.C, target.H, target.W,
			source.Name, source.C, source.H, source.W)
	}
	if !slices.Equal(source.Classes, target.Classes) {
		return fmt.Errorf("data: %s has classes %s but %s has %s; a domain shift keeps the classes", target.Name,
			classList(target.Classes), source.Name, classList(source.Classes))
	}
	return nil
}

func classList(c []string) string {
	if len(c) > 6 {
		return fmt.Sprintf("%q... (%d)", c[:6], len(c))
	}
	return fmt.Sprintf("%q", c)
}

// Apply normalizes x (samples of c channels of hw pixels each) in place.
func (n Normalize) Apply(x []float32, c, hw int) {
	for s := 0; s+c*hw <= len(x); s += c * hw {
		n.apply(x[s:s+c*hw], c, hw)
	}
}
