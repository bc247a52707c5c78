package data

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
)

// Per-pixel corruptions: noise, brightness, contrast, pixelation, JPEG.

func gaussianNoise(img []float32, _, _, _, s int, rng *rand.Rand) {
	sigma := []float64{.04, .06, .08, .09, .10}[s]
	for i := range img {
		img[i] += float32(rng.NormFloat64() * sigma)
	}
}

func shotNoise(img []float32, _, _, _, s int, rng *rand.Rand) {
	lambda := []float64{500, 250, 100, 75, 50}[s]
	for i, v := range img {
		img[i] = float32(poisson(float64(v)*lambda, rng) / lambda)
	}
}

// poisson draws from Poisson(mean): Knuth's product method below 30, a
// rounded normal approximation above.
func poisson(mean float64, rng *rand.Rand) float64 {
	if mean <= 0 {
		return 0
	}
	if mean >= 30 {
		return math.Max(0, math.Round(mean+math.Sqrt(mean)*rng.NormFloat64()))
	}
	limit, p, k := math.Exp(-mean), 1.0, 0.0
	for {
		p *= rng.Float64()
		if p <= limit {
			return k
		}
		k++
	}
}

func impulseNoise(img []float32, _, _, _, s int, rng *rand.Rand) {
	amount := []float64{.01, .02, .03, .05, .07}[s]
	for i := range img {
		u, salt := rng.Float64(), rng.IntN(2) == 1 // two draws always: severities share the pattern
		if u < amount {
			img[i] = map[bool]float32{true: 1, false: 0}[salt]
		}
	}
}

func brightness(img []float32, c, h, w, s int, _ *rand.Rand) {
	add := float32([]float64{.1, .2, .3, .4, .5}[s])
	hw := h * w
	for p := 0; p < hw; p++ {
		v := float32(0) // V of HSV is the largest channel; H and S stay, so RGB scales with V
		for ch := 0; ch < c; ch++ {
			v = max(v, img[ch*hw+p])
		}
		nv := min(v+add, 1)
		for ch := 0; ch < c; ch++ {
			if v > 0 {
				img[ch*hw+p] *= nv / v
			} else {
				img[ch*hw+p] = nv
			}
		}
	}
}

func contrast(img []float32, c, h, w, s int, _ *rand.Rand) {
	k := float32([]float64{.75, .5, .4, .3, .15}[s])
	hw := h * w
	for ch := 0; ch < c; ch++ {
		plane := img[ch*hw : (ch+1)*hw]
		var sum float64
		for _, v := range plane {
			sum += float64(v)
		}
		m := float32(sum / float64(hw))
		for i, v := range plane {
			plane[i] = (v-m)*k + m
		}
	}
}

// pixelate shrinks and re-enlarges each plane with PIL's BOX filter both
// ways, as CIFAR-10-C does: exact area averaging, so enlarged pixels are
// blocks whose boundary rows blend two neighbours.
func pixelate(img []float32, c, h, w, s int, _ *rand.Rand) {
	f := []float64{.9, .8, .7, .6, .5}[s]
	sh, sw := max(int(float64(h)*f), 1), max(int(float64(w)*f), 1)
	for ch := 0; ch < c; ch++ {
		plane := img[ch*h*w : (ch+1)*h*w]
		small := resample(plane, h, w, sh, sw, boxWeights)
		copy(plane, resample(small, sh, sw, h, w, boxWeights))
	}
}

func jpegCompress(img []float32, c, h, w, s int, _ *rand.Rand) {
	quality := []int{80, 65, 58, 50, 40}[s]
	if c == 3 {
		jpegRoundTrip(img, 3, h, w, quality)
		return
	}
	for ch := 0; ch < c; ch++ { // gray, or each plane of an unusual channel count
		jpegRoundTrip(img[ch*h*w:(ch+1)*h*w], 1, h, w, quality)
	}
}

// jpegRoundTrip encodes a 1- or 3-channel image at quality and decodes it
// back in place. Encoding an in-memory image cannot fail, so errors leave
// the image unchanged.
func jpegRoundTrip(img []float32, c, h, w, quality int) {
	var buf bytes.Buffer
	if jpeg.Encode(&buf, chwToImage(img, c, h, w), &jpeg.Options{Quality: quality}) != nil {
		return
	}
	if dec, err := jpeg.Decode(&buf); err == nil {
		copy(img, imageToCHW(dec, c))
	}
}

// chwToImage quantises a 1- or 3-channel image to 8 bits.
func chwToImage(img []float32, c, h, w int) image.Image {
	q := func(v float32) uint8 { return uint8(math.Round(float64(min(max(v, 0), 1)) * 255)) }
	hw := h * w
	if c == 1 {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for p := 0; p < hw; p++ {
			g.Pix[p] = q(img[p])
		}
		return g
	}
	rgb := image.NewRGBA(image.Rect(0, 0, w, h))
	for p := 0; p < hw; p++ {
		rgb.SetRGBA(p%w, p/w, color.RGBA{q(img[p]), q(img[hw+p]), q(img[2*hw+p]), 255})
	}
	return rgb
}
