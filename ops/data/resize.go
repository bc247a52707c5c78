package data

import "math"

// resizePlane resamples one h×w plane to oh×ow with a separable triangle
// (tent) filter whose support widens with the shrink factor: plain bilinear
// interpolation (pixel centres aligned, edges clamped) when enlarging, an
// area-weighted average when shrinking, so downsizing does not alias.
func resizePlane(src []float32, h, w, oh, ow int) []float32 {
	return resample(src, h, w, oh, ow, tentWeights)
}

// resample resizes a plane separably with the taps that weights gives.
func resample(src []float32, h, w, oh, ow int, weights func(m, n int) [][]tap) []float32 {
	if h == oh && w == ow {
		return append([]float32(nil), src...)
	}
	rows := weights(h, oh)
	cols := weights(w, ow)
	tmp := make([]float32, h*ow) // resize along x first
	for y := 0; y < h; y++ {
		applyWeights(src[y*w:(y+1)*w], 1, cols, tmp[y*ow:(y+1)*ow], 1)
	}
	out := make([]float32, oh*ow)
	for x := 0; x < ow; x++ {
		applyWeights(tmp[x:], ow, rows, out[x:], ow)
	}
	return out
}

// tap is one source index and its weight.
type tap struct {
	i int
	w float32
}

// tentWeights gives, for each of the n output positions, the source taps
// of an input of length m.
func tentWeights(m, n int) [][]tap {
	scale := float64(m) / float64(n)
	support := math.Max(scale, 1)
	out := make([][]tap, n)
	for o := range out {
		center := (float64(o)+0.5)*scale - 0.5
		lo := int(math.Floor(center - support))
		hi := int(math.Ceil(center + support))
		var taps []tap
		var sum float64
		for i := max(lo, 0); i <= min(hi, m-1); i++ {
			if w := 1 - math.Abs(float64(i)-center)/support; w > 0 {
				taps = append(taps, tap{i, float32(w)})
				sum += w
			}
		}
		if sum == 0 { // centre beyond the edge: clamp
			taps, sum = []tap{{min(max(int(math.Round(center)), 0), m-1), 1}}, 1
		}
		for k := range taps {
			taps[k].w /= float32(sum)
		}
		out[o] = taps
	}
	return out
}

// applyWeights writes dst[o*dstStride] = Σ w·src[i*srcStride].
func applyWeights(src []float32, srcStride int, weights [][]tap, dst []float32, dstStride int) {
	for o, taps := range weights {
		var s float32
		for _, t := range taps {
			s += t.w * src[t.i*srcStride]
		}
		dst[o*dstStride] = s
	}
}

// resizeCHW resizes every channel of a C×H×W image.
func resizeCHW(src []float32, c, h, w, oh, ow int) []float32 {
	out := make([]float32, 0, c*oh*ow)
	for ch := 0; ch < c; ch++ {
		out = append(out, resizePlane(src[ch*h*w:(ch+1)*h*w], h, w, oh, ow)...)
	}
	return out
}

// boxWeights averages, for each of n outputs, the input interval
// [o·m/n, (o+1)·m/n) weighted by overlap: PIL's BOX filter, exact area
// averaging when shrinking and near-nearest blocks when enlarging.
func boxWeights(m, n int) [][]tap {
	scale := float64(m) / float64(n)
	out := make([][]tap, n)
	for o := range out {
		lo, hi := float64(o)*scale, float64(o+1)*scale
		for i := int(lo); i < m && float64(i) < hi; i++ {
			if cover := math.Min(hi, float64(i+1)) - math.Max(lo, float64(i)); cover > 0 {
				out[o] = append(out[o], tap{i, float32(cover / scale)})
			}
		}
	}
	return out
}
