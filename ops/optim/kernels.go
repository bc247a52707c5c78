package optim

import "math"

// The update loops. Each is one pass over a parameter's elements with the
// settings hoisted out of the loop; the common ones (SGD with momentum
// after its first step, AdamW) have AVX-512 versions in kernels_amd64.s
// that process 16 elements at a time and leave the last n%16 to the loops
// here. Both perform the same float32 operations in the same order, with
// no fused multiply-add (the explicit float32 conversions below forbid the
// compiler from fusing), so they agree bit for bit and a run's weights do
// not depend on which path or how many goroutines updated them.

// sgdHyper are one SGD update's settings, as float32.
type sgdHyper struct {
	lr, wd, mom, damp float32
}

// sgdPlain: w -= lr·(g + wd·w).
func sgdPlain(w, grad []float32, h sgdHyper) {
	grad = grad[:len(w)]
	for i := range w {
		g := grad[i] + float32(h.wd*w[i])
		w[i] -= float32(h.lr * g)
	}
}

// sgdFirst is the first momentum step: buf = g + wd·w, then the update
// (buf itself, or g + mom·buf with Nesterov).
func sgdFirst(w, grad, buf []float32, h sgdHyper, nesterov bool) {
	grad, buf = grad[:len(w)], buf[:len(w)]
	for i := range w {
		g := grad[i] + float32(h.wd*w[i])
		buf[i] = g
		if nesterov {
			g += float32(h.mom * g)
		}
		w[i] -= float32(h.lr * g)
	}
}

// sgdMomentum is a later momentum step: buf = mom·buf + damp·(g + wd·w),
// w -= lr·buf (lr·(g + mom·buf) with Nesterov).
func sgdMomentum(w, grad, buf []float32, h sgdHyper, nesterov bool) {
	n := len(w)
	if !nesterov && vecKernels {
		v := n &^ 15
		if v > 0 {
			sgdMomentum16(&w[0], &grad[0], &buf[0], v, h.lr, h.wd, h.mom, h.damp)
		}
		w, grad, buf = w[v:], grad[v:n], buf[v:n]
	}
	grad, buf = grad[:len(w)], buf[:len(w)]
	for i := range w {
		g := grad[i] + float32(h.wd*w[i])
		b := float32(h.mom*buf[i]) + float32(h.damp*g)
		buf[i] = b
		if nesterov {
			b = g + float32(h.mom*b)
		}
		w[i] -= float32(h.lr * b)
	}
}

// adamHyper are one AdamW update's settings, as float32: decay = 1-lr·wd,
// c1 = 1-β1, c2 = 1-β2, invBC2 = 1/sqrt(1-β2ᵗ), step = lr/(1-β1ᵗ).
type adamHyper struct {
	decay, b1, c1, b2, c2, invBC2, eps, step float32
}

// adamW: w = w·decay; m = β1·m + c1·g; v = β2·v + c1·g·g;
// w -= step·m / (sqrt(v)·invBC2 + eps).
func adamW(w, grad, m, v []float32, h adamHyper) {
	n := len(w)
	if vecKernels {
		k := n &^ 15
		if k > 0 {
			adamW16(&w[0], &grad[0], &m[0], &v[0], k, &h)
		}
		w, grad, m, v = w[k:], grad[k:n], m[k:n], v[k:n]
	}
	grad, m, v = grad[:len(w)], m[:len(w)], v[:len(w)]
	for i := range w {
		g := grad[i]
		wi := w[i] * h.decay
		mi := float32(h.b1*m[i]) + float32(h.c1*g)
		vi := float32(h.b2*v[i]) + float32(float32(h.c2*g)*g)
		denom := float32(float32(math.Sqrt(float64(vi)))*h.invBC2) + h.eps
		m[i], v[i] = mi, vi
		w[i] = wi - float32(h.step*mi)/denom
	}
}
