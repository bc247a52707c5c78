package train

import (
	"context"
	"errors"
	"github.com/qpipe/qpipe/stdlib/eval"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

// blobs is a 3-class 1×8×8 dataset: each class lights a different band of
// rows, plus noise, so a small model separates it in a few epochs.
func blobs(n int, seed uint64) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, 7))
	ds := &data.Dataset{Name: "blobs", C: 1, H: 8, W: 8, X: make([]float32, n*64), Y: make([]int, n), Classes: []string{"a", "b", "c"}}
	for i := range n {
		y := i % 3
		ds.Y[i] = y
		for p := range 64 {
			v := 0.3 * r.Float32()
			if p/8 >= 2*y && p/8 < 2*y+3 {
				v += 0.6
			}
			ds.X[i*64+p] = v
		}
	}
	return ds
}

func loader(t *testing.T, ds *data.Dataset, bs int, shuffle bool) *data.Loader {
	t.Helper()
	l, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: bs, Shuffle: shuffle, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func model(t *testing.T, name string, seed uint64) *ops.Model {
	t.Helper()
	m, err := zoo.Build(name, zoo.Shape{C: 1, H: 8, W: 8}, 3, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFitLearnsAndReports(t *testing.T) {
	m := model(t, "mlp", 1)
	var calls []Progress
	var epochs []EpochStats
	o := Options{Epochs: 4, LR: 0.05, Schedule: "cosine", Warmup: 2,
		Progress: func(p Progress) { calls = append(calls, p) },
		OnEpoch:  func(s EpochStats) error { epochs = append(epochs, s); return nil }}
	h, err := Fit(context.Background(), m, loader(t, blobs(240, 1), 32, true), loader(t, blobs(90, 2), 45, false), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Epochs) != 4 || len(epochs) != 4 || h.Steps != 4*8 {
		t.Fatalf("%d epochs, %d callbacks, %d steps", len(h.Epochs), len(epochs), h.Steps)
	}
	if last := h.Last(); last.ValAcc < 0.95 || !last.HasVal || last.TrainLoss >= h.Epochs[0].TrainLoss {
		t.Fatalf("did not learn: %+v", h.Epochs)
	}
	if len(calls) != 32 || calls[31].Step != 32 || calls[31].Steps != 32 || calls[0].Epoch != 1 || calls[31].Epoch != 4 {
		t.Fatalf("progress: %d calls, last %+v", len(calls), calls[len(calls)-1])
	}
	// Warmup from lr/3 to lr over 2 steps, then cosine to 0 at the end.
	if math.Abs(calls[0].LR-0.05*2/3) > 1e-9 || h.Last().LR > 1e-9 {
		t.Fatalf("schedule: first %v, last %v", calls[0].LR, h.Last().LR)
	}
	if calls[5].ImagesPerSec <= 0 || h.Epochs[0].Images != 240 {
		t.Fatalf("throughput %v, images %d", calls[5].ImagesPerSec, h.Epochs[0].Images)
	}
}

func weights(m *ops.Model) []float32 {
	var out []float32
	for _, p := range m.Params() {
		out = append(out, p.Value.Data...)
	}
	return out
}

func TestSameSeedSameWeights(t *testing.T) {
	for _, name := range []string{"cnn", "vit-tiny"} {
		run := func() []float32 {
			m := model(t, name, 3)
			_, err := Fit(context.Background(), m, loader(t, blobs(96, 1), 32, true), nil, Options{Epochs: 2, Optimizer: "adamw", Seed: 5})
			if err != nil {
				t.Fatal(err)
			}
			return weights(m)
		}
		a, b := run(), run()
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("%s: weight %d differs between identical runs: %v vs %v", name, i, a[i], b[i])
			}
		}
	}
}

func TestCancelReturnsFinishedEpochs(t *testing.T) {
	m := model(t, "mlp", 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := Options{Epochs: 5, Progress: func(p Progress) {
		if p.Epoch == 2 && p.Step == 10 {
			cancel()
		}
	}}
	h, err := Fit(ctx, m, loader(t, blobs(192, 1), 24, false), nil, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if len(h.Epochs) != 1 || h.Steps < 10 || h.Steps > 11 {
		t.Fatalf("finished %d epochs, %d steps", len(h.Epochs), h.Steps)
	}
}

func TestNaNLossStopsWithLocation(t *testing.T) {
	m := model(t, "mlp", 1)
	var good []float32
	step := 0
	loss := func(c *ops.Context, logits *ops.Tensor, b *Batch) *ops.Tensor {
		step++
		ce := c.CrossEntropy(logits, b.Labels)
		if step == 11 { // epoch 2, step 3 with 8 steps per epoch
			return c.MulScalar(ce, float32(math.Inf(1)))
		}
		return ce
	}
	o := Options{Epochs: 3, Loss: loss, Progress: func(Progress) { good = weights(m) }}
	h, err := Fit(context.Background(), m, loader(t, blobs(192, 1), 24, true), nil, o)
	var d *DivergedError
	if !errors.As(err, &d) || d.Epoch != 2 || d.Step != 3 || !strings.Contains(err.Error(), "epoch 2, step 3") {
		t.Fatalf("error %v", err)
	}
	if len(h.Epochs) != 1 || h.Steps != 10 {
		t.Fatalf("history %d epochs, %d steps", len(h.Epochs), h.Steps)
	}
	for i, v := range weights(m) {
		if v != good[i] {
			t.Fatal("the diverged step changed the weights")
		}
	}
}

// A distillation loss: CE plus T²·KL to a teacher run in eval mode. The
// teacher (with batch norm) is neither updated nor its statistics moved.
func TestPluggableDistillationLoss(t *testing.T) {
	b := ops.NewBuilder("teacher", 9)
	x := b.Input("x")
	h := b.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, x)
	h = b.BatchNorm("bn", b.Linear("fc1", h, 64, 16, true), 16)
	teacher, _ := b.Build(b.Linear("fc2", b.Act(ops.OpReLU, "act", h), 16, 3, true))
	before := weights(teacher)
	student := model(t, "mlp", 2)
	const T = 2
	loss := func(c *ops.Context, logits *ops.Tensor, bt *Batch) *ops.Tensor {
		tl, err := TeacherForward(c, teacher, bt.X)
		if err != nil {
			t.Fatal(err)
		}
		kl := c.MulScalar(c.KLDiv(logits, tl, T), T*T)
		return c.Add(c.MulScalar(c.CrossEntropy(logits, bt.Labels), 0.5), c.MulScalar(kl, 0.5))
	}
	_, err := Fit(context.Background(), student, loader(t, blobs(96, 1), 32, true), nil, Options{Epochs: 2, Loss: loss})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range weights(teacher) {
		if v != before[i] {
			t.Fatal("distillation changed the teacher")
		}
	}
	for _, p := range teacher.Params() {
		if g := p.Grad(); g != nil && maxAbs(g.Data) != 0 {
			t.Fatalf("teacher parameter %s got a gradient", p.Name)
		}
	}
}

func maxAbs(s []float32) float32 {
	var m float32
	for _, v := range s {
		m = max(m, float32(math.Abs(float64(v))))
	}
	return m
}

// Evaluate agrees with a direct forward over the whole set.
func TestEvaluateMatchesDirectForward(t *testing.T) {
	m := model(t, "cnn", 4)
	ds := blobs(50, 3)
	acc, loss, err := eval.Accuracy(context.Background(), cpuBackend(t), m, loader(t, ds, 16, false), nil)
	if err != nil {
		t.Fatal(err)
	}
	be, _ := ops.NewBackend("cpu")
	c := ops.NewContext(be, ops.Options{})
	logits, err := m.Forward1(c, ops.MustFromData(ds.X, 50, 1, 8, 8))
	if err != nil {
		t.Fatal(err)
	}
	wantAcc := float64(countCorrect(logits, ds.Y)) / 50
	wantLoss := float64(c.CrossEntropy(logits, ds.Y).Item())
	if acc != wantAcc || math.Abs(loss-wantLoss) > 1e-5 {
		t.Fatalf("Evaluate %v %v, direct %v %v", acc, loss, wantAcc, wantLoss)
	}
}

func TestBadOptions(t *testing.T) {
	m := model(t, "mlp", 1)
	l := loader(t, blobs(30, 1), 10, false)
	for _, o := range []Options{{Optimizer: "lion"}, {Schedule: "exp"}, {LR: -1}} {
		if _, err := Fit(context.Background(), m, l, nil, o); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
}
