package adcorda

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
	_ "github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/stdlib/robust"
)

func ctx(grad bool) *ops.Context {
	be, _ := ops.NewBackend("cpu")
	return ops.NewContext(be, ops.Options{Grad: grad})
}

// coralRef is ||cov(s) - cov(t)||_F^2 / (4 d^2) in float64.
func coralRef(s, t []float64, n, d int) float64 {
	cov := func(x []float64) []float64 {
		mean := make([]float64, d)
		for i := range n {
			for j := range d {
				mean[j] += x[i*d+j] / float64(n)
			}
		}
		out := make([]float64, d*d)
		for a := range d {
			for b := range d {
				for i := range n {
					out[a*d+b] += (x[i*d+a] - mean[a]) * (x[i*d+b] - mean[b]) / float64(n-1)
				}
			}
		}
		return out
	}
	cs, ct := cov(s), cov(t)
	var sum float64
	for i := range cs {
		sum += (cs[i] - ct[i]) * (cs[i] - ct[i])
	}
	return sum / float64(4*d*d)
}

func TestCORALMatchesReferenceAndFiniteDifferences(t *testing.T) {
	const n, d = 6, 4
	r := rand.New(rand.NewPCG(1, 2))
	s, tg := make([]float64, n*d), make([]float64, n*d)
	for i := range s {
		s[i], tg[i] = r.NormFloat64(), 2*r.NormFloat64()+1
	}
	f32 := func(x []float64) []float32 {
		out := make([]float32, len(x))
		for i, v := range x {
			out[i] = float32(v)
		}
		return out
	}
	c := ctx(true)
	st := ops.MustFromData(f32(s), n, d).SetRequiresGrad(true)
	tt := ops.MustFromData(f32(tg), n, d)
	loss := CORAL(c, st, tt)
	want := coralRef(s, tg, n, d)
	if math.Abs(float64(loss.Item())-want) > 1e-5*math.Max(1, want) {
		t.Fatalf("CORAL %v, reference %v", loss.Item(), want)
	}
	if err := c.Backward(loss); err != nil {
		t.Fatal(err)
	}
	const h = 1e-4
	for i := range s {
		p, m := append([]float64(nil), s...), append([]float64(nil), s...)
		p[i] += h
		m[i] -= h
		fd := (coralRef(p, tg, n, d) - coralRef(m, tg, n, d)) / (2 * h)
		if g := float64(st.Grad().Data[i]); math.Abs(g-fd) > 1e-3*math.Max(1, math.Abs(fd)) {
			t.Fatalf("d/ds[%d]: autodiff %v, finite differences %v", i, g, fd)
		}
	}
}

func linearModel(t *testing.T) *ops.Model {
	t.Helper()
	b := ops.NewBuilder("lin", 5)
	h := b.Act(ops.OpReLU, "act", b.Linear("fc1", b.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, b.Input("x")), 16, 8, true))
	m, err := b.Build(b.Linear("fc2", h, 8, 3, true))
	if err != nil {
		t.Fatal(err)
	}
	// Larger weights and centred inputs make every class reachable.
	for _, p := range m.Params() {
		for i := range p.Value.Data {
			p.Value.Data[i] *= 6
		}
	}
	return m
}

// labelled makes images labelled by the model itself, then flips some
// labels, so the model is right on most and wrong on the flipped ones.
func labelled(t *testing.T, m *ops.Model, n, flips int) *data.Dataset {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	ds := &data.Dataset{Name: "toy/train", C: 1, H: 4, W: 4, Classes: []string{"a", "b", "c"}}
	for range n * 16 {
		ds.X = append(ds.X, float32(r.Float64()))
	}
	ds.Y = make([]int, n)
	preds, err := robust.Predict(context.Background(), m, ds, robust.Options{})
	if err != nil {
		t.Fatal(err)
	}
	copy(ds.Y, preds)
	for i := range flips {
		ds.Y[i] = (ds.Y[i] + 1) % 3
	}
	return ds
}

func TestCorrectReplacesWrongSamplesAndCounts(t *testing.T) {
	m := linearModel(t)
	ds := labelled(t, m, 100, 10)
	o := CorrectOptions{Eps: 0.5, StepSize: 0.05, Steps: 30, KeepUncorrected: true}
	res, err := Correct(context.Background(), m, ds, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Wrong != 10 || res.Corrected+res.Uncorrected != 10 || res.Corrected == 0 {
		t.Fatalf("wrong %d corrected %d uncorrected %d", res.Wrong, res.Corrected, res.Uncorrected)
	}
	if !IsCorrected(res.Data) || res.Data.Len() != 100 {
		t.Fatalf("D' %s has %d samples", res.Data.Name, res.Data.Len())
	}
	preds, _ := robust.Predict(context.Background(), m, res.Data, robust.Options{})
	right := 0
	for i, p := range preds {
		if p == res.Data.Y[i] {
			right++
		}
		if i >= 10 && !equal(res.Data.Sample(i), ds.Sample(i)) {
			t.Fatalf("sample %d was right and changed", i)
		}
	}
	if right != 90+res.Corrected {
		t.Errorf("model right on %d of D', want %d", right, 90+res.Corrected)
	}
	o.KeepUncorrected, o.Steps = false, 1
	res, err = Correct(context.Background(), m, ds, o)
	if err != nil || res.Data.Len() != 100-res.Uncorrected || res.Uncorrected == 0 {
		t.Fatalf("drop uncorrected: %v, %d samples, %d uncorrected", err, res.Data.Len(), res.Uncorrected)
	}
}

func TestCorrectRefusesAnUntrainedModel(t *testing.T) {
	m := linearModel(t)
	ds := labelled(t, m, 20, 15)
	_, err := Correct(context.Background(), m, ds, CorrectOptions{Eps: 0.1, StepSize: 0.01, Steps: 2})
	var ue *UntrainedError
	if !errors.As(err, &ue) || ue.Wrong != 15 {
		t.Fatalf("err = %v, want an UntrainedError with 15 wrong", err)
	}
}

func equal(a, b []float32) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFeatureNodeIsTheClassifierInput(t *testing.T) {
	m := linearModel(t)
	id, err := FeatureNode(m)
	if err != nil || m.Node(id).Name != "act" {
		t.Fatalf("feature node %v, %v; want act", id, err)
	}
}
