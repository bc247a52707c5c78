package cpu

import (
	"math"

	"github.com/qpipe/qpipe/ops"
)

// Softmax computes (log-)softmax along the middle axis of (Outer, Dim,
// Inner); each (outer, inner) line is independent.
func (b *Backend) Softmax(p ops.SoftmaxParams, x, y *ops.Tensor) error {
	lines := p.Outer * p.Inner
	b.w.For(lines, max(grain/max(p.Dim, 1), 1), func(lo, hi int) {
		for l := lo; l < hi; l++ {
			base := (l/p.Inner)*p.Dim*p.Inner + l%p.Inner
			softmaxLine(x.Data[base:], y.Data[base:], p.Dim, p.Inner, p.Log)
		}
	})
	return nil
}

func softmaxLine(x, y []float32, n, stride int, log bool) {
	if stride == 1 && !log {
		x, y = x[:n], y[:n]
		s := expShiftSum(x, y, maxRow(x))
		scaleRow(y, 1/s)
		return
	}
	m := float32(math.Inf(-1))
	for i := range n {
		m = max(m, x[i*stride])
	}
	var s float64
	for i := range n {
		e := exp32(x[i*stride] - m)
		s += float64(e)
		if !log {
			y[i*stride] = e
		}
	}
	if log {
		lse := m + float32(math.Log(s))
		for i := range n {
			y[i*stride] = x[i*stride] - lse
		}
		return
	}
	inv := float32(1 / s)
	for i := range n {
		y[i*stride] *= inv
	}
}

// SoftmaxBackward accumulates dx: y·(dy - Σdy·y) for softmax, dy - e^y·Σdy
// for log-softmax.
func (b *Backend) SoftmaxBackward(p ops.SoftmaxParams, y, dy, dx *ops.Tensor) error {
	lines := p.Outer * p.Inner
	b.w.For(lines, max(grain/max(p.Dim, 1), 1), func(lo, hi int) {
		for l := lo; l < hi; l++ {
			base := (l/p.Inner)*p.Dim*p.Inner + l%p.Inner
			ys, gs, ds := y.Data[base:], dy.Data[base:], dx.Data[base:]
			if p.Inner == 1 && !p.Log {
				softmaxGradRow(ys[:p.Dim], gs, ds)
				continue
			}
			var s float64
			for i := range p.Dim {
				j := i * p.Inner
				if p.Log {
					s += float64(gs[j])
				} else {
					s += float64(gs[j] * ys[j])
				}
			}
			for i := range p.Dim {
				j := i * p.Inner
				if p.Log {
					ds[j] += gs[j] - exp32(ys[j])*float32(s)
				} else {
					ds[j] += ys[j] * (gs[j] - float32(s))
				}
			}
		}
	})
	return nil
}

// CrossEntropy computes per-row losses and stores the softmax.
func (b *Backend) CrossEntropy(logits *ops.Tensor, labels []int, probs, loss *ops.Tensor) error {
	rows, k := logits.Shape[0], logits.Shape[1]
	b.w.For(rows, max(grain/max(k, 1), 1), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			x, pr := logits.Data[r*k:(r+1)*k], probs.Data[r*k:(r+1)*k]
			softmaxLine(x, pr, k, 1, true) // log-probabilities first
			loss.Data[r] = -pr[labels[r]]
			for i, v := range pr {
				pr[i] = exp32(v)
			}
		}
	})
	return nil
}

// CrossEntropyBackward accumulates dlogits += (probs - onehot)·dloss.
func (b *Backend) CrossEntropyBackward(probs *ops.Tensor, labels []int, dloss, dlogits *ops.Tensor) error {
	rows, k := probs.Shape[0], probs.Shape[1]
	b.w.For(rows, max(grain/max(k, 1), 1), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			pr, d, g := probs.Data[r*k:(r+1)*k], dlogits.Data[r*k:(r+1)*k], dloss.Data[r]
			for i, v := range pr {
				d[i] += v * g
			}
			d[labels[r]] -= g
		}
	})
	return nil
}
