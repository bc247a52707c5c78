package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Augment is the training-time augmentation a Loader applies to each
// sample, before normalisation. The zero value does nothing.
type Augment struct {
	// CropPadding > 0 pads the image with this many zero pixels on every
	// side and takes a random crop of the original size (the CIFAR
	// "pad 4, crop 32" recipe).
	CropPadding int
	// HFlip mirrors the image left-right with probability 1/2. Leave it off
	// for digits, whose mirror images are other symbols.
	HFlip bool
}

// Enabled reports whether the augmentation changes anything.
func (a Augment) Enabled() bool { return a.CropPadding > 0 || a.HFlip }

// DefaultAugment is the usual training augmentation for a dataset: a crop
// with padding H/8 (4 for 32×32 CIFAR, 3 for 28×28), and horizontal flips
// only for datasets whose classes survive mirroring (not MNIST or digits).
func DefaultAugment(datasetName string) Augment {
	switch key(baseName(datasetName)) {
	case "mnist", "digits", "idx":
		return Augment{CropPadding: 3}
	case "fashionmnist":
		return Augment{CropPadding: 3, HFlip: true}
	}
	return Augment{CropPadding: 4, HFlip: true}
}

// baseName strips a split suffix and a source prefix: "mnist/train[val]" -> "mnist".
func baseName(name string) string {
	for i, r := range name {
		if r == '/' || r == '[' || r == ':' {
			return name[:i]
		}
	}
	return name
}

// apply writes the augmented src into dst (both C×H×W), drawing from rng.
func (a Augment) apply(dst, src []float32, c, h, w int, rng *rand.Rand) {
	dy, dx := 0, 0
	if a.CropPadding > 0 {
		p := a.CropPadding
		dy, dx = rng.IntN(2*p+1)-p, rng.IntN(2*p+1)-p
	}
	flip := a.HFlip && rng.IntN(2) == 1
	for ch := 0; ch < c; ch++ {
		plane, out := src[ch*h*w:(ch+1)*h*w], dst[ch*h*w:(ch+1)*h*w]
		for y := 0; y < h; y++ {
			sy := y + dy
			for x := 0; x < w; x++ {
				sx := x + dx
				if flip {
					sx = w - 1 - x + dx
				}
				if sy < 0 || sy >= h || sx < 0 || sx >= w {
					out[y*w+x] = 0
				} else {
					out[y*w+x] = plane[sy*w+sx]
				}
			}
		}
	}
}

// Normalize maps each pixel of channel c to (x - Mean[c]) / Std[c]. Mean and
// Std hold one value per channel, or one value for all channels.
type Normalize struct {
	Mean, Std []float32
}

// check validates n for images with c channels.
func (n Normalize) check(c int) error {
	if len(n.Mean) != len(n.Std) || (len(n.Mean) != 1 && len(n.Mean) != c) {
		return fmt.Errorf("data: normalize needs 1 or %d means and as many stds, got %d and %d", c, len(n.Mean), len(n.Std))
	}
	for i, s := range n.Std {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return fmt.Errorf("data: normalize std[%d] = %v must be positive", i, s)
		}
	}
	return nil
}

// apply normalises one C×H×W sample in place.
func (n Normalize) apply(x []float32, c, hw int) {
	for ch := 0; ch < c; ch++ {
		k := min(ch, len(n.Mean)-1)
		m, inv := n.Mean[k], 1/n.Std[k]
		plane := x[ch*hw : (ch+1)*hw]
		for i, v := range plane {
			plane[i] = (v - m) * inv
		}
	}
}

// ChannelStats are the per-channel mean and (population) standard
// deviation over all samples, the usual source of Normalize's values.
func (d *Dataset) ChannelStats() (mean, std []float32) {
	hw := d.H * d.W
	mean, std = make([]float32, d.C), make([]float32, d.C)
	for ch := 0; ch < d.C; ch++ {
		var s, ss float64
		for i := 0; i < d.Len(); i++ {
			for _, v := range d.Sample(i)[ch*hw : (ch+1)*hw] {
				s += float64(v)
				ss += float64(v) * float64(v)
			}
		}
		n := float64(d.Len() * hw)
		m := s / n
		mean[ch], std[ch] = float32(m), float32(math.Sqrt(max(ss/n-m*m, 0)))
	}
	return mean, std
}
