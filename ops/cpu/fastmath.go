package cpu

import "math"

// Float32 exp and erf for the activation and softmax kernels. The float64
// math.Exp and math.Erf they replace were a third of a ViT training step
// (softmax over attention scores, GELU and its derivative).
//
// exp32 is Cephes' expf: x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in two
// parts so n·ln2 is exact), e^r from a degree-6 polynomial, 2^n put into
// the exponent bits. Relative error is within 2 ulp over the range where
// the result is a normal float32; below that it returns 0, above +Inf.
//
// erf32 is Abramowitz & Stegun 7.1.26, erf(z) = 1 - t·P(t)·e^{-z²} with
// t = 1/(1+p·z) (absolute error 1.5e-7, plus float32 rounding: about 3
// ulp of 1+erf) for |z| ≥ 0.5, and the Taylor series to z¹¹ below. Its
// exponential is the Gaussian density's, so gelu32Grad shares it.

const (
	expHi    = 88.72283905206835
	expLo    = -87.33654475055310 // smallest normal result
	log2e32  = 1.44269504088896341
	ln2Hi32  = 0.693359375
	ln2Lo32  = -2.12194440e-4
	erfP     = 0.3275911
	erfA1    = 0.254829592
	erfA2    = -0.284496736
	erfA3    = 1.421413741
	erfA4    = -1.453152027
	erfA5    = 1.061405429
	invSqrt2 = 0.7071067811865476
)

func exp32(x float32) float32 {
	switch {
	case x != x:
		return x
	case x > expHi:
		return float32(math.Inf(1))
	case x < expLo:
		return 0
	}
	// Adding 1.5·2²³ rounds to the nearest integer (float32 arithmetic is
	// exact IEEE in Go), cheaper than math.Floor through float64.
	n := (x*log2e32 + 12582912) - 12582912
	r := x - n*ln2Hi32
	r -= n * ln2Lo32
	z := r * r
	p := ((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r + 5.0000001201e-1
	y := p*z + r + 1
	if n > 127 { // 2^128 is not a float32; y < 1 here brings it back
		return 2 * y * math.Float32frombits(uint32(int32(n)+126)<<23)
	}
	return y * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// erfExp returns erf(z) and e^{-z²}.
func erfExp(z float32) (erf, e float32) {
	a := z
	if a < 0 {
		a = -a
	}
	e = exp32(-a * a)
	if a < 0.5 { // Taylor series: keeps the error relative near 0
		z2 := z * z
		return z * (1.1283791670955126 * (1 + z2*(-1.0/3+z2*(1.0/10+z2*(-1.0/42+z2*(1.0/216+z2*(-1.0/1320))))))), e
	}
	t := 1 / (1 + erfP*a)
	y := 1 - t*(erfA1+t*(erfA2+t*(erfA3+t*(erfA4+t*erfA5))))*e
	if z < 0 {
		y = -y
	}
	return y, e
}

// gelu32 is x·Φ(x) = 0.5·x·(1 + erf(x/√2)).
func gelu32(x float32) float32 {
	erf, _ := erfExp(x * invSqrt2)
	return 0.5 * x * (1 + erf)
}

// gelu32Grad is Φ(x) + x·φ(x).
func gelu32Grad(x float32) float32 {
	erf, e := erfExp(x * invSqrt2)
	return 0.5*(1+erf) + x*invSqrt2Pi*e
}
