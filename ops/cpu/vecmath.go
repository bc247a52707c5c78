package cpu

import "math"

// Slice loops over the float32 exp and GELU of fastmath.go: AVX-512 where
// the CPU has it (vecmath_amd64.s), the scalar functions elsewhere. Both
// compute the same formulas; the vector forms differ only by FMA rounding
// (and give subnormals instead of 0 just below exp's normal range).

// maxRow returns the largest element of x (-Inf for an empty x; a NaN
// element may or may not win, as with the scalar max).
func maxRow(x []float32) float32 {
	if vec16 && len(x) > 0 {
		return maxRow16(&x[0], len(x))
	}
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	return m
}

// expShiftSum writes y[i] = e^(x[i]-shift) and returns Σ y.
func expShiftSum(x, y []float32, shift float32) float32 {
	y = y[:len(x)]
	if vec16 && len(x) > 0 {
		return expShiftSum16(&x[0], &y[0], len(x), shift)
	}
	var s float32
	for i, v := range x {
		e := exp32(v - shift)
		y[i] = e
		s += e
	}
	return s
}

// scaleRow multiplies y by s in place.
func scaleRow(y []float32, s float32) {
	if vec16 && len(y) > 0 {
		scale16(&y[0], len(y), s)
		return
	}
	for i := range y {
		y[i] *= s
	}
}

// geluRow writes y = gelu(x).
func geluRow(x, y []float32) {
	y = y[:len(x)]
	if vec16 && len(x) > 0 {
		gelu16(&x[0], &y[0], len(x))
		return
	}
	for i, v := range x {
		y[i] = gelu32(v)
	}
}

// geluGradRow accumulates dx += gelu'(x)·dy.
func geluGradRow(x, dy, dx []float32) {
	dy, dx = dy[:len(x)], dx[:len(x)]
	if vec16 && len(x) > 0 {
		geluGradAcc16(&x[0], &dy[0], &dx[0], len(x))
		return
	}
	for i, v := range x {
		dx[i] += gelu32Grad(v) * dy[i]
	}
}

// softmaxGradRow accumulates dx += y·(dy - Σ dy·y) for one contiguous
// softmax row y.
func softmaxGradRow(y, dy, dx []float32) {
	dy, dx = dy[:len(y)], dx[:len(y)]
	if vec16 && len(y) > 0 {
		softmaxGrad16(&y[0], &dy[0], &dx[0], len(y))
		return
	}
	var s float64
	for i, v := range y {
		s += float64(dy[i] * v)
	}
	for i, v := range y {
		dx[i] += v * (dy[i] - float32(s))
	}
}

// reluRow writes y = max(x, 0).
func reluRow(x, y []float32) {
	y = y[:len(x)]
	if vec16 && len(x) > 0 {
		relu16(&x[0], &y[0], len(x))
		return
	}
	for i, v := range x {
		y[i] = max(v, 0)
	}
}

// reluGradRow accumulates dx += dy where x > 0.
func reluGradRow(x, dy, dx []float32) {
	dy, dx = dy[:len(x)], dx[:len(x)]
	if vec16 && len(x) > 0 {
		reluGradAcc16(&x[0], &dy[0], &dx[0], len(x))
		return
	}
	for i, v := range x {
		if v > 0 {
			dx[i] += dy[i]
		}
	}
}

// biasReLURow writes y = x + b, or max(x + b, 0) with relu.
func biasReLURow(x, y []float32, b float32, relu bool) {
	y = y[:len(x)]
	if vec16 && len(x) > 0 {
		biasReLU16(&x[0], &y[0], len(x), b, relu)
		return
	}
	if relu {
		for i, v := range x {
			y[i] = max(v+b, 0)
		}
		return
	}
	for i, v := range x {
		y[i] = v + b
	}
}

// maskedCopyRow writes y = x where mask > 0 and 0 elsewhere (the ReLU
// gradient, mask being the ReLU's output).
func maskedCopyRow(mask, x, y []float32) {
	x, y = x[:len(mask)], y[:len(mask)]
	if vec16 && len(mask) > 0 {
		maskedCopy16(&mask[0], &x[0], &y[0], len(mask))
		return
	}
	for i, m := range mask {
		if m > 0 {
			y[i] = x[i]
		} else {
			y[i] = 0
		}
	}
}
