package data

import (
	"math"
	"slices"
	"testing"
)

// natural is a dataset of smooth-plus-edge images, closer to photographs
// than noise: blobs of varying phase, a bright rectangle, values in [.1,.9].
func natural(n, c, h, w int) *Dataset {
	ds := &Dataset{Name: "natural", C: c, H: h, W: w, Classes: numberedClasses(2), Y: make([]int, n)}
	for i := range n {
		for ch := range c {
			for y := range h {
				for x := range w {
					v := 0.5 + 0.25*math.Sin(float64(x+i)/3+float64(ch)) + 0.15*math.Cos(float64(y*(i+1))/5)
					if y > h/4 && y < h/2 && x > w/3 && x < 2*w/3 {
						v = 0.9
					}
					ds.X = append(ds.X, float32(min(max(v, 0.1), 0.9)))
				}
			}
		}
	}
	return ds
}

func meanAbsChange(a, b *Dataset) float64 {
	var s float64
	for i := range a.X {
		s += math.Abs(float64(a.X[i] - b.X[i]))
	}
	return s / float64(len(a.X))
}

func TestCorruptionSeverityIsMonotoneInMeanAbsoluteChange(t *testing.T) {
	for _, shape := range [][3]int{{3, 32, 32}, {1, 28, 28}} {
		ds := natural(6, shape[0], shape[1], shape[2])
		for _, name := range CorruptionNames() {
			prev := 0.0
			var changes []float64
			for sev := 1; sev <= 5; sev++ {
				out, err := Corrupt(ds, name, sev, 11)
				if err != nil {
					t.Fatal(err)
				}
				d := meanAbsChange(ds, out)
				changes = append(changes, d)
				if d <= prev {
					t.Errorf("%v %s: mean |change| by severity %v is not increasing", shape, name, changes)
					break
				}
				prev = d
			}
			t.Logf("%v %-15s %.4f", shape, name, changes)
		}
	}
}

func TestCorruptionsClipDeterminismAndSeeds(t *testing.T) {
	ds := natural(4, 3, 16, 16)
	ds.X[0], ds.X[1] = 0, 1 // extremes must stay in range
	random := map[string]bool{"gaussian_noise": true, "shot_noise": true, "impulse_noise": true,
		"motion_blur": true, "fog": true, "elastic": true, "rotate": true}
	for _, name := range CorruptionNames() {
		a, _ := Corrupt(ds, name, 5, 1)
		b, _ := Corrupt(ds, name, 5, 1)
		c, _ := Corrupt(ds, name, 5, 2)
		if err := a.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if !slices.Equal(a.X, b.X) {
			t.Errorf("%s: same seed, different output", name)
		}
		if random[name] && slices.Equal(a.X, c.X) {
			t.Errorf("%s: seeds 1 and 2 gave the same output", name)
		}
		if !random[name] && !slices.Equal(a.X, c.X) {
			t.Errorf("%s is deterministic but depends on the seed", name)
		}
		if &a.X[0] == &ds.X[0] || ds.X[1] != 1 {
			t.Errorf("%s modified its input", name)
		}
		img := append([]float32(nil), ds.Sample(3)...)
		if err := CorruptImage(img, 3, 16, 16, name, 5, 1, 3); err != nil || !slices.Equal(img, a.Sample(3)) {
			t.Errorf("%s: CorruptImage of sample 3 differs from Corrupt (%v)", name, err)
		}
	}
}

func TestCorruptRejectsUnknownNameAndSeverity(t *testing.T) {
	ds := natural(1, 1, 4, 4)
	_, err := Corrupt(ds, "snow", 1, 0)
	wantErr(t, err, `unknown corruption "snow"`, "brightness, contrast, defocus_blur, elastic, fog, gaussian_noise, impulse_noise, jpeg, motion_blur, pixelate, rotate, shot_noise")
	_, err = Corrupt(ds, "fog", 6, 0)
	wantErr(t, err, "severity 6 must be 1..5")
	wantErr(t, CorruptImage(make([]float32, 3), 1, 2, 2, "fog", 1, 0, 0), "bad severity or size")
}

func TestCorruptionFormulas(t *testing.T) {
	gray := &Dataset{Name: "g", C: 1, H: 2, W: 2, X: []float32{0, .2, .6, 1}, Y: []int{0}, Classes: []string{"a"}}
	b, _ := Corrupt(gray, "brightness", 3, 0) // +0.3
	if want := []float32{.3, .5, .9, 1}; !approxEqual(b.X, want, 1e-6) {
		t.Errorf("brightness gray %v, want %v", b.X, want)
	}
	c, _ := Corrupt(gray, "contrast", 2, 0) // mean .45, k .5
	if want := []float32{.225, .325, .525, .725}; !approxEqual(c.X, want, 1e-6) {
		t.Errorf("contrast %v, want %v", c.X, want)
	}
	rgb := &Dataset{Name: "c", C: 3, H: 1, W: 1, X: []float32{.4, .2, 0}, Y: []int{0}, Classes: []string{"a"}}
	b, _ = Corrupt(rgb, "brightness", 1, 0) // V .4 -> .5, hue and saturation kept
	if want := []float32{.5, .25, 0}; !approxEqual(b.X, want, 1e-6) {
		t.Errorf("brightness RGB %v, want %v", b.X, want)
	}
	flat := &Dataset{Name: "f", C: 1, H: 9, W: 9, X: slices.Repeat([]float32{.5}, 81), Y: []int{0}, Classes: []string{"a"}}
	for _, name := range []string{"defocus_blur", "motion_blur", "pixelate", "elastic"} {
		out, _ := Corrupt(flat, name, 5, 3) // a flat image is a fixed point of every blur and warp
		if !approxEqual(out.X, flat.X, 1e-5) {
			t.Errorf("%s changed a flat image: %v", name, out.X[:9])
		}
	}
}

func approxEqual(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !near(float64(a[i]), float64(b[i]), tol) {
			return false
		}
	}
	return true
}

func TestPlasmaFractalSpansUnitRangeAndIsSeeded(t *testing.T) {
	a := plasmaFractal(32, 3, newRand(1, 0, 0))
	b := plasmaFractal(32, 3, newRand(1, 0, 0))
	lo, hi := slices.Min(a), slices.Max(a)
	if lo != 0 || hi != 1 || !slices.Equal(a, b) {
		t.Errorf("plasma range [%v,%v], deterministic %v", lo, hi, slices.Equal(a, b))
	}
}
