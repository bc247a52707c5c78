package data

import (
	"math"
	"math/rand/v2"
)

// Spatial corruptions: blurs, fog, elastic warps, rotation, and the
// filtering and resampling helpers they share.

func defocusBlur(img []float32, c, h, w, s int, _ *rand.Rand) {
	p := [][2]float64{{.3, .4}, {.4, .5}, {.5, .6}, {1, .2}, {1.5, .1}}[s]
	k, size := diskKernel(p[0], p[1])
	for ch := 0; ch < c; ch++ {
		convolve(img[ch*h*w:(ch+1)*h*w], h, w, k, size)
	}
}

// diskKernel is CIFAR-10-C's aliased disk: the pixels with x²+y² <= r²,
// normalised, then blurred by a Gaussian of σ alias. It returns a size×size
// kernel.
func diskKernel(radius, alias float64) ([]float32, int) {
	half := int(math.Ceil(radius)) + int(math.Ceil(3*alias))
	size := 2*half + 1
	disk := make([]float32, size*size)
	var sum float32
	for y := -half; y <= half; y++ {
		for x := -half; x <= half; x++ {
			if float64(x*x+y*y) <= radius*radius {
				disk[(y+half)*size+x+half] = 1
				sum++
			}
		}
	}
	for i := range disk {
		disk[i] /= sum
	}
	gaussianBlur(disk, size, size, alias)
	return disk, size
}

// convolve filters one h×w plane in place with a size×size kernel,
// reflecting at the borders (like OpenCV's BORDER_REFLECT_101).
func convolve(plane []float32, h, w int, k []float32, size int) {
	half := size / 2
	pw := w + 2*half
	pad := make([]float32, (h+2*half)*pw)
	for y := range h + 2*half {
		for x := range pw {
			pad[y*pw+x] = plane[reflect101(y-half, h)*w+reflect101(x-half, w)]
		}
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var acc float32
			for ky := 0; ky < size; ky++ {
				row := pad[(y+ky)*pw+x : (y+ky)*pw+x+size]
				for kx, kv := range k[ky*size : (ky+1)*size] {
					acc += kv * row[kx]
				}
			}
			plane[y*w+x] = acc
		}
	}
}

// reflect101 maps an index outside [0,n) back inside by mirroring about
// the edge pixels: -1 -> 1, n -> n-2.
func reflect101(i, n int) int {
	if n == 1 {
		return 0
	}
	for i < 0 || i >= n {
		if i < 0 {
			i = -i
		}
		if i >= n {
			i = 2*(n-1) - i
		}
	}
	return i
}

// gaussianBlur filters one plane in place with a separable Gaussian of σ
// (truncated at 3σ, borders reflected). σ <= 0 leaves it unchanged.
func gaussianBlur(plane []float32, h, w int, sigma float64) {
	if sigma <= 0 {
		return
	}
	half := int(math.Ceil(3 * sigma))
	k := make([]float32, 2*half+1)
	var sum float32
	for i := range k {
		d := float64(i - half)
		k[i] = float32(math.Exp(-d * d / (2 * sigma * sigma)))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	line := make([]float32, max(h, w)+2*half)
	for y := 0; y < h; y++ { // rows
		filterLine(plane[y*w:], 1, w, k, line)
	}
	for x := 0; x < w; x++ { // columns
		filterLine(plane[x:], w, h, k, line)
	}
}

// filterLine convolves the n values v[0], v[stride], ... with kernel k in
// place, reflecting at the ends; line is scratch of at least n+len(k)-1.
func filterLine(v []float32, stride, n int, k, line []float32) {
	half := len(k) / 2
	for i := 0; i < n+2*half; i++ {
		line[i] = v[reflect101(i-half, n)*stride]
	}
	for i := 0; i < n; i++ {
		var acc float32
		for j, kv := range k {
			acc += kv * line[i+j]
		}
		v[i*stride] = acc
	}
}

// bilinear samples a plane at (y, x), clamping coordinates to the image;
// with zeroOutside, points more than half a pixel outside read as 0.
func bilinear(plane []float32, h, w int, y, x float64, zeroOutside bool) float32 {
	if zeroOutside && (y < -0.5 || y > float64(h)-0.5 || x < -0.5 || x > float64(w)-0.5) {
		return 0
	}
	y = math.Min(math.Max(y, 0), float64(h-1))
	x = math.Min(math.Max(x, 0), float64(w-1))
	y0, x0 := int(y), int(x)
	y1, x1 := min(y0+1, h-1), min(x0+1, w-1)
	fy, fx := float32(y-float64(y0)), float32(x-float64(x0))
	top := plane[y0*w+x0]*(1-fx) + plane[y0*w+x1]*fx
	bot := plane[y1*w+x0]*(1-fx) + plane[y1*w+x1]*fx
	return top*(1-fy) + bot*fy
}

func motionBlur(img []float32, c, h, w, s int, rng *rand.Rand) {
	p := [][2]float64{{10, 1}, {10, 1.5}, {10, 2}, {10, 2.5}, {12, 3}}[s]
	scale := float64(max(h, w)) / 32
	length, sigma := max(int(math.Round(p[0]*scale)), 1), p[1]*scale
	angle := (rng.Float64()*90 - 45) * math.Pi / 180
	dy, dx := math.Sin(angle), math.Cos(angle)
	taps := make([]shiftTap, length)
	var sum float64
	for k := range taps { // one-sided: the image smears behind the motion
		wt := math.Exp(-float64(k*k) / (2 * sigma * sigma))
		taps[k] = newShiftTap(-float64(k)*dy, -float64(k)*dx, wt)
		sum += wt
	}
	for ch := 0; ch < c; ch++ {
		plane := img[ch*h*w : (ch+1)*h*w]
		src := append([]float32(nil), plane...)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				var acc float32
				for _, t := range taps {
					acc += t.sample(src, h, w, y, x)
				}
				plane[y*w+x] = acc / float32(sum)
			}
		}
	}
}

// shiftTap reads a plane at a fixed sub-pixel offset (oy, ox) from each
// pixel, bilinearly, clamping indices at the edges, times a weight.
type shiftTap struct {
	iy, ix             int
	w00, w01, w10, w11 float32
}

func newShiftTap(oy, ox, weight float64) shiftTap {
	fy, fx := math.Floor(oy), math.Floor(ox)
	ay, ax := float32(oy-fy), float32(ox-fx)
	wt := float32(weight)
	return shiftTap{iy: int(fy), ix: int(fx),
		w00: wt * (1 - ay) * (1 - ax), w01: wt * (1 - ay) * ax, w10: wt * ay * (1 - ax), w11: wt * ay * ax}
}

func (t shiftTap) sample(src []float32, h, w, y, x int) float32 {
	y0, x0 := min(max(y+t.iy, 0), h-1), min(max(x+t.ix, 0), w-1)
	y1, x1 := min(max(y+t.iy+1, 0), h-1), min(max(x+t.ix+1, 0), w-1)
	return t.w00*src[y0*w+x0] + t.w01*src[y0*w+x1] + t.w10*src[y1*w+x0] + t.w11*src[y1*w+x1]
}

func fog(img []float32, c, h, w, s int, rng *rand.Rand) {
	p := [][2]float64{{.2, 3}, {.5, 3}, {.75, 2.5}, {1, 2}, {1.5, 1.75}}[s]
	size := 2
	for size < max(h, w) {
		size *= 2
	}
	plasma := plasmaFractal(size, p[1], rng)
	var top float32
	for _, v := range img {
		top = max(top, v)
	}
	a := float32(p[0])
	for ch := 0; ch < c; ch++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				i := (ch*h+y)*w + x
				img[i] = (img[i] + a*float32(plasma[y*size+x])) * top / (top + a)
			}
		}
	}
}

// plasmaFractal is the diamond-square height map CIFAR-10-C's fog uses, on
// a size×size torus (size a power of two), scaled to [0,1]: the random
// offsets start at ±100² and shrink by decay each octave.
func plasmaFractal(size int, decay float64, rng *rand.Rand) []float64 {
	m := make([]float64, size*size)
	at := func(y, x int) *float64 { return &m[((y+size)%size)*size+(x+size)%size] }
	wibble := 100.0
	jitter := func(sum float64) float64 { return sum/4 + wibble*(rng.Float64()*2-1)*wibble }
	for step := size; step >= 2; step /= 2 {
		half := step / 2
		for y := 0; y < size; y += step { // squares: centres from corners
			for x := 0; x < size; x += step {
				*at(y+half, x+half) = jitter(*at(y, x) + *at(y+step, x) + *at(y, x+step) + *at(y+step, x+step))
			}
		}
		for y := 0; y < size; y += step { // diamonds: edge midpoints from centres and corners
			for x := 0; x < size; x += step {
				*at(y, x+half) = jitter(*at(y+half, x+half) + *at(y-half, x+half) + *at(y, x) + *at(y, x+step))
				*at(y+half, x) = jitter(*at(y+half, x+half) + *at(y+half, x-half) + *at(y, x) + *at(y+step, x))
			}
		}
		wibble /= decay
	}
	lo, hi := m[0], m[0]
	for _, v := range m {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	for i := range m {
		m[i] = (m[i] - lo) / math.Max(hi-lo, 1e-12)
	}
	return m
}

func elastic(img []float32, c, h, w, s int, rng *rand.Rand) {
	scale := float64(max(h, w)) / 32
	rms := []float64{.5, .75, 1, 1.5, 2}[s] * scale
	sigma := float64(max(h, w)) / 8
	dy, dx := smoothField(h, w, sigma, rng), smoothField(h, w, sigma, rng)
	var ss float64
	for i := range dy {
		ss += float64(dy[i]*dy[i] + dx[i]*dx[i])
	}
	k := rms / math.Max(math.Sqrt(ss/float64(len(dy))), 1e-12)
	remap(img, c, h, w, func(y, x int) (float64, float64) {
		i := y*w + x
		return float64(y) + k*float64(dy[i]), float64(x) + k*float64(dx[i])
	}, false)
}

// smoothField is uniform(-1,1) noise blurred by a Gaussian of σ.
func smoothField(h, w int, sigma float64, rng *rand.Rand) []float32 {
	f := make([]float32, h*w)
	for i := range f {
		f[i] = float32(rng.Float64()*2 - 1)
	}
	gaussianBlur(f, h, w, sigma)
	return f
}

func rotate(img []float32, c, h, w, s int, rng *rand.Rand) {
	deg := []float64{6, 12, 18, 24, 30}[s]
	if rng.IntN(2) == 1 {
		deg = -deg
	}
	sin, cos := math.Sincos(deg * math.Pi / 180)
	cy, cx := float64(h-1)/2, float64(w-1)/2
	remap(img, c, h, w, func(y, x int) (float64, float64) { // inverse map: where each output pixel comes from
		ry, rx := float64(y)-cy, float64(x)-cx
		return cy + cos*ry - sin*rx, cx + sin*ry + cos*rx
	}, true)
}

// remap resamples every plane: output (y, x) reads the input at src(y, x).
func remap(img []float32, c, h, w int, src func(y, x int) (float64, float64), zeroOutside bool) {
	for ch := 0; ch < c; ch++ {
		plane := img[ch*h*w : (ch+1)*h*w]
		orig := append([]float32(nil), plane...)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				sy, sx := src(y, x)
				plane[y*w+x] = bilinear(orig, h, w, sy, sx, zeroOutside)
			}
		}
	}
}
