package robust

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
	_ "github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/ops/data"
)

// linearModel is flatten -> linear(16 -> 3) with fixed random weights.
func linearModel(t *testing.T) *ops.Model {
	t.Helper()
	b := ops.NewBuilder("lin", 5)
	h := b.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, b.Input("x"))
	m, err := b.Build(b.Linear("fc", h, 16, 3, true))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func randomSet(n int, seed uint64) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, 9))
	ds := &data.Dataset{Name: "rand", C: 1, H: 4, W: 4, Classes: []string{"a", "b", "c"}}
	for i := 0; i < n; i++ {
		for range 16 {
			ds.X = append(ds.X, float32(r.Float64()))
		}
		ds.Y = append(ds.Y, r.IntN(3))
	}
	return ds
}

// gradSign is the sign of the gradient of CE(Wx+b, y) in x for the
// linear model, in float64: W^T (softmax(Wx+b) - onehot(y)).
func gradSign(m *ops.Model, x []float32, y int) []float64 {
	w, b := m.Param("fc.weight").Value.Data, m.Param("fc.bias").Value.Data
	z := make([]float64, 3)
	zmax := math.Inf(-1)
	for k := range 3 {
		z[k] = float64(b[k])
		for j := range 16 {
			z[k] += float64(w[k*16+j]) * float64(x[j])
		}
		zmax = max(zmax, z[k])
	}
	var sum float64
	for k := range z {
		z[k] = math.Exp(z[k] - zmax)
		sum += z[k]
	}
	out := make([]float64, 16)
	for j := range 16 {
		var g float64
		for k := range 3 {
			p := z[k] / sum
			if k == y {
				p--
			}
			g += float64(w[k*16+j]) * p
		}
		if g > 0 {
			out[j] = 1
		} else if g < 0 {
			out[j] = -1
		}
	}
	return out
}

// fgsmReference steps x by eps along the sign of the gradient the model
// sees (on normalized pixels when norm is set) and clips to [0, 1].
func fgsmReference(m *ops.Model, x []float32, y int, eps float64, norm *data.Normalize) []float64 {
	in := append([]float32(nil), x...)
	if norm != nil {
		norm.Apply(in, 1, 16)
	}
	s := gradSign(m, in, y)
	out := make([]float64, 16)
	for j := range out {
		out[j] = math.Min(math.Max(float64(x[j])+eps*s[j], 0), 1)
	}
	return out
}

func TestFGSMMatchesTheClosedFormOnALinearModel(t *testing.T) {
	m := linearModel(t)
	ds := randomSet(40, 1)
	// Normalization must not change the sign step in pixel space.
	for _, norm := range []*data.Normalize{nil, {Mean: []float32{0.3}, Std: []float32{0.2}}} {
		res, err := Perturb(context.Background(), m, ds, FGSM(0.05), Options{Normalize: norm, Batch: 7})
		if err != nil {
			t.Fatal(err)
		}
		for i := range ds.Len() {
			want := fgsmReference(m, ds.Sample(i), ds.Y[i], 0.05, norm)
			got := res.Data.Sample(i)
			for j := range want {
				if math.Abs(float64(got[j])-want[j]) > 1e-6 {
					t.Fatalf("norm %v image %d pixel %d: %v, want %v", norm, i, j, got[j], want[j])
				}
			}
		}
	}
}

func TestPGDStaysInTheBallAndIsSeeded(t *testing.T) {
	m := linearModel(t)
	ds := randomSet(30, 2)
	run := func(seed uint64) *data.Dataset {
		res, err := Perturb(context.Background(), m, ds, PGD(0.1, 5, seed), Options{Batch: 8})
		if err != nil {
			t.Fatal(err)
		}
		return res.Data
	}
	a, b, c := run(1), run(1), run(2)
	same, differ := true, false
	for i, v := range a.X {
		if v < 0 || v > 1 || math.Abs(float64(v-ds.X[i])) > 0.1+1e-6 {
			t.Fatalf("pixel %d = %v leaves [0,1] or the 0.1-ball around %v", i, v, ds.X[i])
		}
		same = same && v == b.X[i]
		differ = differ || v != c.X[i]
	}
	if !same || !differ {
		t.Errorf("same seed equal: %v, other seed differs: %v", same, differ)
	}
	if a.Y[0] != ds.Y[0] || &a.X[0] == &ds.X[0] {
		t.Error("PGD must return a copy with the same labels")
	}
}

func TestAttacksLowerAccuracyAndTargetedCorrects(t *testing.T) {
	m := linearModel(t)
	ds := randomSet(200, 3)
	o := Options{Batch: 64}
	clean, err := accuracy(context.Background(), m, ds, o)
	if err != nil {
		t.Fatal(err)
	}
	adv, err := Perturb(context.Background(), m, ds, PGD(0.3, 10, 1), o)
	if err != nil {
		t.Fatal(err)
	}
	attacked, _ := accuracy(context.Background(), m, adv.Data, o)
	if attacked >= clean || attacked > 0.2 {
		t.Errorf("PGD eps 0.3: accuracy %v from clean %v", attacked, clean)
	}
	fix := Attack{Eps: 0.3, Steps: 20, StepSize: 0.05, Targeted: true, EarlyStop: true}
	res, err := Perturb(context.Background(), m, ds, fix, o)
	if err != nil {
		t.Fatal(err)
	}
	fixed, _ := accuracy(context.Background(), m, res.Data, o)
	if math.Abs(fixed-float64(res.Correct)/200) > 1e-9 || fixed <= clean+0.3 {
		t.Errorf("targeted: %d correct (%v) from clean %v", res.Correct, fixed, clean)
	}
}

func TestPerturbRejectsBadAttacks(t *testing.T) {
	if _, err := Perturb(context.Background(), linearModel(t), randomSet(2, 1), Attack{Eps: 0.1}, Options{}); err == nil {
		t.Error("an attack with 0 steps was accepted")
	}
}
