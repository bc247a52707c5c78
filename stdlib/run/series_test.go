package run

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/stdlib/train"
)

func TestSamplerAveragesWindowsAndStaysBounded(t *testing.T) {
	s := newSampler()
	for i := 1; i <= 3; i++ {
		s.add(train.Progress{Loss: float64(i), LR: 0.1})
	}
	if got := s.Points(); len(got) != 3 || got[2] != (StepPoint{Step: 3, Loss: 3, LR: 0.1}) {
		t.Fatalf("one point per step while few: %+v", got)
	}
	s = newSampler()
	const n = 1000
	for i := 1; i <= n; i++ {
		s.add(train.Progress{Loss: float64(i), LR: float64(i)})
	}
	pts := s.Points()
	if len(pts) > maxStepPoints || len(pts) < maxStepPoints/2 {
		t.Fatalf("%d points for %d steps, want between %d and %d", len(pts), n, maxStepPoints/2, maxStepPoints)
	}
	// Windows of 4 steps once 1000 steps were seen: point k averages
	// steps 4k-3..4k, whose mean is 4k-1.5.
	if s.every != 4 || pts[0] != (StepPoint{Step: 4, Loss: 2.5, LR: 4}) || pts[9].Loss != 38.5 {
		t.Errorf("every %d, points %+v %+v", s.every, pts[0], pts[9])
	}
	last := pts[len(pts)-1]
	if last.Step != n || last.LR != n {
		t.Errorf("last point %+v does not end at step %d", last, n)
	}
	var sum, steps float64
	prev := 0
	for _, p := range pts {
		sum += p.Loss * float64(p.Step-prev)
		steps += float64(p.Step - prev)
		prev = p.Step
	}
	if math.Abs(sum/steps-(n+1)/2.0) > 1e-9 {
		t.Errorf("step-weighted mean %v, want %v", sum/steps, (n+1)/2.0)
	}
}

func TestLayerStatsOfFloatAndFakeQuantLayers(t *testing.T) {
	m := ops.NewModel("t")
	in := m.AddNode(&ops.Node{Kind: ops.OpInput, Name: "x"})
	w, _ := m.AddParam("fc.weight", ops.MustFromData([]float32{0, -2, 0.5, 0, 1, 3}, 2, 3), true)
	m.AddNode(&ops.Node{Kind: ops.OpLinear, Name: "fc", Inputs: []int{in.ID}, Params: map[string]string{"weight": w.Name}})
	got := LayerStats(m)
	want := LayerStat{Name: "fc", Kind: "linear", Params: 6, Bits: 32, Sparsity: 2.0 / 6, Min: -2, Max: 3}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("float layer: %+v, want %+v", got, want)
	}
	fc := m.NodeByName("fc")
	pn, err := m.ExposeParam(fc, "weight")
	if err != nil {
		t.Fatal(err)
	}
	m.AddParam("fc.scale", ops.MustFromData([]float32{2.0 / 127, 3.0 / 127}, 2), false)
	m.InsertAfter(pn, &ops.Node{Kind: ops.OpFakeQuant, Name: "fc.wq", Attrs: ops.Attrs{QMin: -127, QMax: 127, Tag: "weight"},
		Params: map[string]string{"scale": "fc.scale"}})
	got = LayerStats(m)
	if len(got) != 1 || got[0].Bits != 8 || math.Abs(got[0].Clip-3) > 1e-6 || got[0].Sparsity != 2.0/6 {
		t.Fatalf("fake-quant layer: %+v, want 8 bits, clip 3", got)
	}
}

const qatRecipe = `model mlp
data mnist subset=600
train epochs=2 lr=1e-3 optimizer=adamw
evaluate accuracy size
expect accuracy >= 50%
quantize int8 mode=qat epochs=1
evaluate accuracy size
`

func TestReportCarriesSeries(t *testing.T) {
	dir := t.TempDir()
	rep, err := runRecipe(t, context.Background(), dir, qatRecipe, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A second run takes every node from the step store, series included.
	again, err := runRecipe(t, context.Background(), dir, qatRecipe, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range again.Steps {
		if s.Status != StatusCached || !reflect.DeepEqual(s.Series, rep.Steps[i].Series) {
			t.Errorf("second run, step %d (%s): %s, series %+v, want cached with %+v", i, s.Verb, s.Status, s.Series, rep.Steps[i].Series)
		}
	}
	tr := rep.Steps[2].Series
	if tr == nil || len(tr.Epochs) != 2 || tr.Epochs[1].Epoch != 2 || tr.Epochs[1].TrainLoss != rep.Steps[2].Metrics["train_loss"] {
		t.Fatalf("train series %+v, metrics %v", tr, rep.Steps[2].Metrics)
	}
	// 600 images, batch 64: 10 steps an epoch, one point each; adamw's
	// default cosine schedule is at half the rate after epoch 1 of 2.
	if len(tr.Steps) != 20 || tr.Steps[19].Step != 20 || math.Abs(tr.Epochs[0].LR-5e-4) > 1e-12 || tr.Epochs[1].LR != 0 {
		t.Errorf("train loss samples %+v", tr.Steps)
	}
	g := rep.Steps[4].Series
	if g == nil || g.Gate == nil || *g.Gate != (Gate{Metric: "accuracy", Op: ">=", Value: 0.5, Holds: true}) {
		t.Errorf("expect gate %+v", g)
	}
	q := rep.Steps[5].Series
	if q == nil || len(q.Epochs) != 1 || len(q.Steps) != 10 || len(q.Layers) != 3 {
		t.Fatalf("quantize series %+v", q)
	}
	for _, l := range q.Layers {
		if l.Bits != 8 || l.Clip <= 0 || l.Clip > math.Max(-l.Min, l.Max)*1.0001 {
			t.Errorf("layer %+v: want 8 bits and a clip within the weight range", l)
		}
	}
}

func TestFailedExpectKeepsItsGate(t *testing.T) {
	text := "model mlp\ndata mnist subset=300\nevaluate accuracy size\nexpect size < 1KB\n"
	rep, err := runRecipe(t, context.Background(), t.TempDir(), text, nil)
	if err == nil {
		t.Fatal("expect size < 1KB held")
	}
	s := rep.Steps[3]
	if s.Status != StatusFailed || s.Series == nil || *s.Series.Gate != (Gate{Metric: "size_bytes", Op: "<", Value: 1000}) {
		t.Errorf("failed expect entry %+v", s)
	}
}

func TestRenderHookSeesEveryRewrite(t *testing.T) {
	var seen []int
	text := "model mlp\ndata mnist subset=300\nevaluate accuracy\n"
	_, err := runRecipe(t, context.Background(), t.TempDir(), text, func(o *Options) {
		o.Render = func(dir string, r *Report) {
			if dir != o.OutDir {
				t.Errorf("rendered into %s, want %s", dir, o.OutDir)
			}
			seen = append(seen, len(r.Steps))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// Once before the first step, after each of the three, and at the end.
	if want := []int{0, 1, 2, 3, 3}; !slices.Equal(seen, want) {
		t.Errorf("report lengths at each render %v, want %v", seen, want)
	}
}

func TestDistillSeriesHasOnePointPerRound(t *testing.T) {
	text := "model mlp\ndata mnist subset=600\ntrain epochs=1\nsnapshot t\ndistill from=t iterations=2 epochs=1\n"
	rep, err := runRecipe(t, context.Background(), t.TempDir(), text, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Steps[4]
	if s.Series == nil || len(s.Series.Epochs) != 2 {
		t.Fatalf("distill series %+v", s.Series)
	}
	for i, e := range s.Series.Epochs {
		r := i + 1
		if e.Round != r || e.Epoch != r || e.ValAccuracy == nil || *e.ValAccuracy != s.Metrics[fmt.Sprintf("accuracy_round_%d", r)] ||
			e.TrainLoss != s.Metrics[fmt.Sprintf("distill_loss_round_%d", r)] {
			t.Errorf("round %d point %+v, metrics %v", r, e, s.Metrics)
		}
	}
	// Two rounds of 10 steps, counted over the whole verb.
	if n := len(s.Series.Steps); n != 20 || s.Series.Steps[n-1].Step != 20 {
		t.Errorf("distill loss samples %+v", s.Series.Steps)
	}
}

func TestDivergedTrainingKeepsItsCurve(t *testing.T) {
	rec := "model mlp\ndata mnist subset=500\ntrain epochs=1 lr=1e-3\ntrain epochs=1 lr=1e12 optimizer=sgd\n"
	rep, err := runRecipe(t, context.Background(), t.TempDir(), rec, nil)
	if !errors.Is(err, ErrNonFinite) {
		t.Fatalf("err = %v", err)
	}
	s := rep.Steps[3]
	if s.Status != StatusFailed || s.Series == nil || len(s.Series.Steps) == 0 || len(s.Series.Epochs) != 0 {
		t.Fatalf("failed train entry %+v, want its loss samples up to the divergence", s)
	}
	last := s.Series.Steps[len(s.Series.Steps)-1]
	if math.IsNaN(last.Loss) || math.IsInf(last.Loss, 0) || last.Step != len(s.Series.Steps) {
		t.Errorf("samples %+v: want one finite point per step before the NaN", s.Series.Steps)
	}
}
