package compress

import (
	"math"

	"github.com/qpipe/qpipe/ops"
)

// Observer gathers an activation's statistics over calibration batches
// and chooses the clipping threshold t of its symmetric range [-t, t].
type Observer interface {
	Observe(x []float32)
	// Threshold is the chosen t for bits-wide signed codes (0 when
	// nothing but zeros was seen).
	Threshold(bits int) float32
}

// MinMaxObserver keeps the largest |x| seen: no clipping.
type MinMaxObserver struct{ max float32 }

// Observe implements Observer.
func (o *MinMaxObserver) Observe(x []float32) { o.max = max(o.max, maxAbs(x)) }

// Threshold implements Observer.
func (o *MinMaxObserver) Threshold(int) float32 { return o.max }

// histBins is the resolution of HistogramObserver.
const histBins = 2048

// HistogramObserver keeps a histogram of |x| over [0, hi) in histBins
// bins; when a batch exceeds hi, hi doubles (merging bins pairwise) until
// it covers it, so the histogram never loses a value. The threshold is
// the Percentile-th percentile of |x| (the upper edge of the bin reaching
// it, capped at the largest |x| seen), or with MSE the candidate
// t = hi·k/256 (k = 1..256) minimising the expected squared error: s²/12
// for values inside the range (s = t/qmax) and (|x| - t)² for clipped
// ones, each bin taken at its centre.
type HistogramObserver struct {
	Percentile float64
	MSE        bool

	hist  []float64
	hi    float32
	max   float32
	total float64
}

// Observe implements Observer.
func (o *HistogramObserver) Observe(x []float32) {
	if o.hist == nil {
		o.hist = make([]float64, histBins)
	}
	m := maxAbs(x)
	o.max = max(o.max, m)
	if o.hi == 0 {
		o.hi = m
	}
	for o.hi > 0 && m > o.hi {
		o.grow()
	}
	o.total += float64(len(x))
	if o.hi == 0 {
		o.hist[0] += float64(len(x))
		return
	}
	w := float64(o.hi) / histBins
	for _, v := range x {
		i := int(math.Abs(float64(v)) / w)
		o.hist[min(i, histBins-1)]++
	}
}

// grow doubles the range, merging bins pairwise.
func (o *HistogramObserver) grow() {
	for i := range histBins / 2 {
		o.hist[i] = o.hist[2*i] + o.hist[2*i+1]
	}
	clear(o.hist[histBins/2:])
	o.hi *= 2
}

// Threshold implements Observer.
func (o *HistogramObserver) Threshold(bits int) float32 {
	if o.max == 0 || o.total == 0 {
		return 0
	}
	if o.MSE {
		return o.mseThreshold(bits)
	}
	return o.percentile()
}

func (o *HistogramObserver) percentile() float32 {
	p := o.Percentile
	if p <= 0 || p > 100 {
		p = 100
	}
	target := p / 100 * o.total
	w := o.hi / histBins
	cum := 0.0
	for i, c := range o.hist {
		cum += c
		if cum >= target {
			return min(float32(i+1)*w, o.max)
		}
	}
	return o.max
}

func (o *HistogramObserver) mseThreshold(bits int) float32 {
	qmax := float64(int(1)<<(bits-1) - 1)
	w := float64(o.hi) / histBins
	best, bestErr := o.max, math.Inf(1)
	for k := 1; k <= 256; k++ {
		t := math.Min(float64(o.hi)*float64(k)/256, float64(o.max))
		s := t / qmax
		var e float64
		for i, c := range o.hist {
			if c == 0 {
				continue
			}
			if v := (float64(i) + 0.5) * w; v > t {
				e += c * (v - t) * (v - t)
			} else {
				e += c * s * s / 12
			}
		}
		if e < bestErr {
			best, bestErr = float32(t), e
		}
	}
	return best
}

// StdObserver is the std-based activation rule: sigma_A is an exponential
// moving average of each batch's standard deviation (the first batch sets
// it; then sigma = Momentum·sigma + (1-Momentum)·std(batch)), and the
// clipping threshold is Alpha·sigma_A.
type StdObserver struct {
	Alpha    float64
	Momentum float64

	sigma float64
	seen  bool
}

// Observe implements Observer.
func (o *StdObserver) Observe(x []float32) {
	s := float64(ops.Std(x))
	if !o.seen {
		o.sigma, o.seen = s, true
		return
	}
	o.sigma = o.Momentum*o.sigma + (1-o.Momentum)*s
}

// Sigma is the current EMA of the standard deviation.
func (o *StdObserver) Sigma() float64 { return o.sigma }

// Threshold implements Observer.
func (o *StdObserver) Threshold(int) float32 { return float32(o.Alpha * o.sigma) }
