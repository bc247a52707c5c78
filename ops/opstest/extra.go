package opstest

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// checkDropout: in training each element is 0 or x/(1-p), about p of them
// are 0, the same seed gives the same mask, the gradient follows the mask,
// and outside training dropout is the identity.
func checkDropout(t *testing.T, b ops.Backend) {
	const n, p = 20000, 0.3
	x := ops.New(n)
	for i := range x.Data {
		x.Data[i] = 1 + float32(i%5)
	}
	x.SetRequiresGrad(true)
	run := func(seed uint64) *ops.Tensor {
		c := ops.NewContext(b, ops.Options{Train: true, Grad: true, Seed: seed})
		y := c.Dropout(x, p)
		ones := ops.New(n)
		for i := range ones.Data {
			ones.Data[i] = 1
		}
		x.ZeroGrad()
		if err := c.BackwardFrom(y, ones); err != nil {
			t.Fatal(err)
		}
		return y.Clone()
	}
	y := run(3)
	zeros := 0
	for i, v := range y.Data {
		want := x.Data[i] / (1 - p)
		switch {
		case v == 0:
			zeros++
			if x.Grad().Data[i] != 0 {
				t.Fatalf("dropped element %d has gradient %v", i, x.Grad().Data[i])
			}
		case math.Abs(float64(v-want)) > 1e-5*float64(want):
			t.Fatalf("kept element %d = %v, want %v", i, v, want)
		case math.Abs(float64(x.Grad().Data[i])-1/(1-p)) > 1e-5:
			t.Fatalf("kept element %d has gradient %v", i, x.Grad().Data[i])
		}
	}
	if frac := float64(zeros) / n; math.Abs(frac-p) > 0.02 {
		t.Errorf("dropped fraction %.3f, want about %.1f", frac, p)
	}
	again := run(3)
	for i := range y.Data {
		if y.Data[i] != again.Data[i] {
			t.Fatalf("same seed, different mask at %d", i)
		}
	}
	c := ops.NewContext(b, ops.Options{})
	if out := c.Dropout(x, p); out != x {
		t.Errorf("dropout outside training must return its input")
	}
}

// checkRunningStats: a training-mode batch norm moves the running mean and
// variance by momentum toward the batch mean and the unbiased variance.
func checkRunningStats(t *testing.T, b ops.Backend) {
	x := ops.MustFromData([]float32{1, 2, 3, 5, -1, 0, 4, 1}, 4, 2)
	rm := ops.MustFromData([]float32{0, 1}, 2)
	rv := ops.MustFromData([]float32{1, 2}, 2)
	c := ops.NewContext(b, ops.Options{Train: true})
	c.BatchNorm(x, nil, nil, rm, rv, ops.BatchNormOptions{Momentum: 0.25})
	// channel 0: 1, 3, -1, 4 → mean 1.75, unbiased var 4.9166667
	// channel 1: 2, 5, 0, 1  → mean 2, unbiased var 4.6666667
	want := [][2]float64{{0.75 * 0, 0.75*1 + 0.25*2}, {0.75*1 + 0.25*4.9166667, 0.75*2 + 0.25*4.6666667}}
	want[0][0] = 0.25 * 1.75
	for ch := range 2 {
		if math.Abs(float64(rm.Data[ch])-want[0][ch]) > 1e-5 || math.Abs(float64(rv.Data[ch])-want[1][ch]) > 1e-5 {
			t.Errorf("channel %d: running mean %v var %v, want %v %v", ch, rm.Data[ch], rv.Data[ch], want[0][ch], want[1][ch])
		}
	}
}

// checkErrors: a bad shape comes back through Guard as an *ops.OpError that
// names the op and the shapes.
func checkErrors(t *testing.T, b ops.Backend) {
	c := ops.NewContext(b, ops.Options{Grad: true})
	err := ops.Guard(func() error {
		c.MatMul(ops.New(2, 3), ops.New(4, 5), false, false)
		return nil
	})
	var oe *ops.OpError
	if !errors.As(err, &oe) || oe.Op != "matmul" || !strings.Contains(err.Error(), "[2 3], [4 5]") {
		t.Errorf("matmul on bad shapes: err = %v", err)
	}
	err = ops.Guard(func() error {
		c.Conv2d(ops.New(1, 3, 4, 4), ops.New(2, 2, 3, 3), nil, ops.Conv2dOptions{})
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "conv2d") {
		t.Errorf("conv2d with wrong channels: err = %v", err)
	}
}
