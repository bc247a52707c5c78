package data

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// Corruptions for robustness evaluation, after CIFAR-10-C (Hendrycks &
// Dietterich, "Benchmarking Neural Network Robustness to Common Corruptions
// and Perturbations", ICLR 2019). Each works on one C×H×W image in [0,1]
// and its output is clipped to [0,1]. Severity s = 1..5 picks column s of
// the table below; the values are CIFAR-10-C's unless marked (*).
//
//	gaussian_noise  x + N(0, σ²), σ = .04 .06 .08 .09 .10
//	shot_noise      Poisson(λx)/λ, λ = 500 250 100 75 50
//	                (Poisson means above 30 drawn as rounded normals)
//	impulse_noise   each value set to 0 or 1 (even odds) with probability
//	                p = .01 .02 .03 .05 .07
//	defocus_blur    disk of radius r, then Gaussian of σ_a:
//	                (r, σ_a) = (.3,.4) (.4,.5) (.5,.6) (1,.2) (1.5,.1)
//	motion_blur     one-sided line kernel at a random angle in [-45°, 45°],
//	                Gaussian weights: (length, σ) = (10,1) (10,1.5) (10,2)
//	                (10,2.5) (12,3), lengths scaled by max(H,W)/32 (*)
//	brightness      V of HSV + c (gray: x + c), c = .1 .2 .3 .4 .5
//	contrast        (x - mean_c)·k + mean_c, k = .75 .5 .4 .3 .15
//	fog             (x + a·plasma)·m/(m + a), m = max x, plasma a
//	                diamond-square fractal with decay d:
//	                (a, d) = (.2,3) (.5,3) (.75,2.5) (1,2) (1.5,1.75)
//	pixelate (*)    box-shrink to a fraction f of the size and box-enlarge
//	                back (PIL's BOX filter both ways, as CIFAR-10-C):
//	                f = .9 .8 .7 .6 .5. CIFAR-10-C's .95 .9 .85 .75 .65 gives
//	                28-pixel images sizes 26 and 25 at severities 1 and 2,
//	                where resampling phase rather than resolution decides
//	                the damage: severity 1 changed MNIST more than 2.
//	jpeg            image/jpeg round trip at quality 80 65 58 50 40
//	elastic (*)     Simard-style: a uniform(-1,1) displacement field per axis,
//	                Gaussian-smoothed (σ = max(H,W)/8), rescaled to an RMS
//	                displacement of .5 .75 1 1.5 2 pixels × max(H,W)/32,
//	                bilinear resampling (CIFAR-10-C also applies a random
//	                affine warp; this does not)
//	rotate (*)      rotation about the centre by ±6 12 18 24 30 degrees
//	                (sign random), bilinear, zero fill outside
//
// Randomness for image i comes from a generator seeded with (seed, i), so
// a corrupted dataset is the same whatever the worker count.

// corruptFunc corrupts img (C×H×W) in place at severity index s (0..4).
type corruptFunc func(img []float32, c, h, w, s int, rng *rand.Rand)

func corruptions() map[string]corruptFunc {
	return map[string]corruptFunc{
		"gaussian_noise": gaussianNoise,
		"shot_noise":     shotNoise,
		"impulse_noise":  impulseNoise,
		"defocus_blur":   defocusBlur,
		"motion_blur":    motionBlur,
		"brightness":     brightness,
		"contrast":       contrast,
		"fog":            fog,
		"pixelate":       pixelate,
		"jpeg":           jpegCompress,
		"elastic":        elastic,
		"rotate":         rotate,
	}
}

// CorruptionNames lists the corruptions Corrupt knows, sorted.
func CorruptionNames() []string {
	var names []string
	for n := range corruptions() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Corrupt returns a copy of ds with corruption name at severity 1..5
// applied to every image, deterministically for seed.
func Corrupt(ds *Dataset, name string, severity int, seed uint64) (*Dataset, error) {
	f, ok := corruptions()[name]
	if !ok {
		return nil, fmt.Errorf("data: unknown corruption %q; known corruptions: %s",
			name, strings.Join(CorruptionNames(), ", "))
	}
	if severity < 1 || severity > 5 {
		return nil, fmt.Errorf("data: corruption severity %d must be 1..5", severity)
	}
	out := &Dataset{Name: fmt.Sprintf("%s+%s@%d", ds.Name, name, severity), C: ds.C, H: ds.H, W: ds.W,
		X: append([]float32(nil), ds.X...), Y: ds.Y, Classes: ds.Classes}
	parallelFor(ds.Len(), func(i int) {
		img := out.Sample(i)
		f(img, ds.C, ds.H, ds.W, severity-1, newRand(seed, streamCorrupt, uint64(i)))
		clip01(img)
	})
	return out, nil
}

// CorruptImage applies one corruption to a single C×H×W image in place,
// drawing randomness from (seed, index) exactly as Corrupt does for sample
// index.
func CorruptImage(img []float32, c, h, w int, name string, severity int, seed uint64, index int) error {
	f, ok := corruptions()[name]
	if !ok || severity < 1 || severity > 5 || len(img) != c*h*w {
		return fmt.Errorf("data: CorruptImage(%q, severity %d) on %d values for %dx%dx%d: unknown name, bad severity or size",
			name, severity, len(img), c, h, w)
	}
	f(img, c, h, w, severity-1, newRand(seed, streamCorrupt, uint64(index)))
	clip01(img)
	return nil
}

func clip01(x []float32) {
	for i, v := range x {
		x[i] = min(max(v, 0), 1)
	}
}

// parallelFor runs f(0..n-1) on GOMAXPROCS goroutines.
func parallelFor(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), max(n, 1))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				f(i)
			}
		}()
	}
	wg.Wait()
}
