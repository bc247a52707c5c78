package compress

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestMinMaxObserverKeepsLargestMagnitude(t *testing.T) {
	var o MinMaxObserver
	o.Observe([]float32{0.5, -3, 2})
	o.Observe([]float32{1, -0.25})
	if got := o.Threshold(8); got != 3 {
		t.Fatalf("threshold %v; want 3", got)
	}
}

func TestHistogramPercentileOfKnownData(t *testing.T) {
	o := &HistogramObserver{Percentile: 99}
	// 1..10000 in two batches, the second one larger, so the histogram
	// grows (merging bins) between them.
	a, b := make([]float32, 0, 5000), make([]float32, 0, 5000)
	for i := 1; i <= 10000; i++ {
		if i <= 5000 {
			a = append(a, float32(i))
		} else {
			b = append(b, -float32(i))
		}
	}
	o.Observe(a)
	o.Observe(b)
	if got := o.Threshold(8); math.Abs(float64(got)-9900) > 10 {
		t.Fatalf("99th percentile %v; want 9900 within a bin (10000/2048·2)", got)
	}
	var total float64
	for _, c := range o.hist {
		total += c
	}
	if total != 10000 {
		t.Fatalf("histogram holds %v values after growing; want 10000", total)
	}
	o.Percentile = 100
	if got := o.Threshold(8); got != 10000 {
		t.Fatalf("100th percentile %v; want the maximum 10000", got)
	}
}

// quantMSE is the mean squared error of 8-bit symmetric quantization of
// x with clipping threshold t.
func quantMSE(x []float32, t float32) float64 {
	s := float64(t) / 127
	var e float64
	for _, v := range x {
		q := math.Max(math.Min(math.RoundToEven(float64(v)/s), 127), -127) * s
		e += (q - float64(v)) * (q - float64(v))
	}
	return e / float64(len(x))
}

func TestHistogramMSEClipsHeavyTails(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	heavy := make([]float32, 50000) // normal / sqrt(uniform): tails like 1/x^3
	for i := range heavy {
		heavy[i] = float32(r.NormFloat64() / math.Sqrt(r.Float64()+1e-6))
	}
	mse := &HistogramObserver{MSE: true}
	mse.Observe(heavy)
	got, mx := mse.Threshold(8), maxAbs(heavy)
	if got >= mx*0.95 {
		t.Fatalf("mse threshold %v with max %v; want the heavy tail clipped", got, mx)
	}
	best := quantMSE(heavy, got)
	for _, other := range []float32{mx, got * 0.6, got * 1.6} {
		if e := quantMSE(heavy, other); e < best*0.97 {
			t.Errorf("threshold %v gives error %.3g, below the chosen %v's %.3g", other, e, got, best)
		}
	}
	uniform := make([]float32, 10000)
	for i := range uniform {
		uniform[i] = r.Float32()*2 - 1
	}
	mse = &HistogramObserver{MSE: true}
	mse.Observe(uniform)
	if got := mse.Threshold(8); got < 0.95 {
		t.Fatalf("mse threshold %v for uniform [-1, 1]; want about the maximum, 1", got)
	}
}

func TestParseCalibration(t *testing.T) {
	for in, want := range map[string]string{"minmax": "minmax", "": "minmax", "MSE": "mse", "percentile(99.99)": "percentile(99.99)"} {
		c, err := ParseCalibration(in)
		if err != nil || c.String() != want {
			t.Errorf("ParseCalibration(%q) = %v, %v; want %s", in, c, err, want)
		}
	}
	for _, bad := range []string{"percentile(0)", "percentile(101)", "percentile(x)", "kl"} {
		if _, err := ParseCalibration(bad); err == nil {
			t.Errorf("ParseCalibration(%q): want an error", bad)
		}
	}
}

func TestAllZeroActivationGetsUnitScale(t *testing.T) {
	u := Int8Activation(&HistogramObserver{Percentile: 99.9})
	u.Observer.Observe(make([]float32, 16))
	s, err := u.scales()
	if err != nil || len(s) != 1 || s[0] != 1 {
		t.Fatalf("scales %v, %v; want [1]", s, err)
	}
}
