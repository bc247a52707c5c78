package run

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/ops/modelio"
	"github.com/qpipe/qpipe/stdlib/train"
)

// This file connects the verbs to the engine: training runs stdlib/train's
// loop; test-set accuracy (with progress), latency at a batch size and the
// exported size are measured here.

// FitOptions are a training verb's resolved arguments.
type FitOptions struct {
	Epochs      int
	LR          float64
	Optimizer   string // "sgd" or "adamw"
	Momentum    float64
	WeightDecay float64
	Batch       int
	Schedule    string // "cosine", "step" or "constant"
	Warmup      int    // epochs
	Seed        uint64
	Augment     data.Augment
	Normalize   *data.Normalize
}

// FitResult is what the last epoch measured.
type FitResult struct {
	Loss, Accuracy float64
	// ValAccuracy is the last epoch's validation accuracy, when HasVal.
	ValAccuracy float64
	HasVal      bool
	Steps       int
	// Series are the epochs and loss samples for the report.
	Series *Series
}

// Tick is one progress report of a long step.
type Tick struct {
	Done, Total int    // units of work (batches, timed runs)
	Unit        string // "batches", "runs"
	Epoch       int    // 1-based, 0 when not training
	Epochs      int
	Loss        float64 // running mean loss of the epoch; NaN when none
}

// ErrNonFinite is wrapped by the error a training run returns when its loss
// becomes NaN or infinite.
var ErrNonFinite = errors.New("loss is not finite")

// Fit trains m with cross-entropy on ds (validating on val when it is not
// nil) with stdlib/train's loop. It stops between batches when ctx is done
// (returning ctx's error) and at the first non-finite loss (wrapping
// ErrNonFinite); m then keeps the weights of the last good step.
func Fit(ctx context.Context, be ops.Backend, m *ops.Model, ds, val *data.Dataset, o FitOptions, tick func(Tick)) (FitResult, error) {
	loader, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: o.Batch, Shuffle: true, Seed: o.Seed,
		Augment: o.Augment, Normalize: o.Normalize})
	if err != nil {
		return FitResult{}, err
	}
	var valLoader *data.Loader
	if val != nil && val.Len() > 0 {
		if valLoader, err = data.NewLoader(val, data.LoaderOptions{BatchSize: o.Batch, Normalize: o.Normalize}); err != nil {
			return FitResult{}, err
		}
	}
	perEpoch := loader.Batches()
	topts, samples := trainOptions(be, o, perEpoch, tick), newSampler()
	topts.Progress = samples.then(topts.Progress)
	h, err := train.Fit(ctx, m, loader, valLoader, topts)
	series := &Series{Epochs: epochPoints(h.Epochs), Steps: samples.Points()}
	var div *train.DivergedError
	if errors.As(err, &div) {
		err = fmt.Errorf("%w: %v at epoch %d, batch %d of %d", ErrNonFinite, div.Loss, div.Epoch, div.Step, perEpoch)
		return FitResult{Loss: div.Loss, Series: series}, withSeries(err, series)
	}
	if err != nil {
		return FitResult{}, err
	}
	last := h.Last()
	return FitResult{Loss: last.TrainLoss, Accuracy: last.TrainAcc, ValAccuracy: last.ValAcc, HasVal: last.HasVal, Steps: h.Steps, Series: series}, nil
}

// trainOptions maps a verb's arguments onto stdlib/train's.
func trainOptions(be ops.Backend, o FitOptions, perEpoch int, tick func(Tick)) train.Options {
	t := train.Options{Epochs: o.Epochs, Optimizer: o.Optimizer, LR: o.LR, Momentum: o.Momentum, NoMomentum: o.Momentum == 0,
		WeightDecay: o.WeightDecay, NoWeightDecay: o.WeightDecay == 0, NoDecay: true, Schedule: o.Schedule, Warmup: o.Warmup * perEpoch, Seed: o.Seed, Backend: be}
	if tick != nil {
		var sum float64
		t.Progress = func(p train.Progress) {
			done := p.Step - (p.Epoch-1)*perEpoch
			if done == 1 {
				sum = 0
			}
			sum += p.Loss
			tick(Tick{Done: done, Total: perEpoch, Unit: "batches", Epoch: p.Epoch, Epochs: p.Epochs, Loss: sum / float64(done)})
		}
	}
	return t
}

func intLabels(y []int32) []int {
	out := make([]int, len(y))
	for i, v := range y {
		out[i] = int(v)
	}
	return out
}

func countCorrect(logits *ops.Tensor, labels []int) int {
	n := 0
	for i, p := range ops.Argmax(logits) {
		if p == labels[i] {
			n++
		}
	}
	return n
}

// Accuracy is top-1 accuracy and mean cross-entropy of m on ds.
func Accuracy(ctx context.Context, be ops.Backend, m *ops.Model, ds *data.Dataset, batch int, norm *data.Normalize, tick func(Tick)) (acc, loss float64, err error) {
	loader, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: batch, Normalize: norm})
	if err != nil {
		return 0, 0, err
	}
	c := ops.NewContext(be, ops.Options{})
	it := loader.Epoch(ctx, 0)
	defer it.Close()
	var correct, seen, done int
	var lossSum float64
	for b, ok := it.Next(); ok; b, ok = it.Next() {
		l, right, err := evalBatch(c, m, b)
		if err != nil {
			return 0, 0, err
		}
		lossSum += l * float64(b.N)
		correct, seen, done = correct+right, seen+b.N, done+1
		if tick != nil {
			tick(Tick{Done: done, Total: loader.Batches(), Unit: "batches"})
		}
	}
	if err := it.Err(); err != nil {
		return 0, 0, err
	}
	if seen == 0 {
		return 0, 0, fmt.Errorf("the test set is empty")
	}
	return float64(correct) / float64(seen), lossSum / float64(seen), nil
}

func evalBatch(c *ops.Context, m *ops.Model, b *data.Batch) (float64, int, error) {
	defer c.Reset()
	x, err := ops.FromData(b.X, b.Shape[:]...)
	if err != nil {
		return 0, 0, err
	}
	logits, err := m.Forward1(c, x)
	if err != nil {
		return 0, 0, err
	}
	labels := intLabels(b.Y)
	var loss *ops.Tensor
	if err := ops.Guard(func() error { loss = c.CrossEntropy(logits, labels); return nil }); err != nil {
		return 0, 0, err
	}
	return float64(loss.Item()), countCorrect(logits, labels), nil
}

// Latency is the median wall time of one forward pass over a batch of n
// zero images of the given shape, after three warm-up passes.
func Latency(ctx context.Context, be ops.Backend, m *ops.Model, shape [3]int, n, runs int) (time.Duration, error) {
	c := ops.NewContext(be, ops.Options{})
	x := ops.New(n, shape[0], shape[1], shape[2])
	times := make([]time.Duration, 0, runs)
	for i := -3; i < runs; i++ {
		if err := ctx.Err(); err != nil {
			return 0, context.Cause(ctx)
		}
		start := time.Now()
		_, err := m.Forward1(c, x)
		c.Reset()
		if err != nil {
			return 0, err
		}
		if i >= 0 {
			times = append(times, time.Since(start))
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	return times[len(times)/2], nil
}

// SizeBytes is the size of m's weights as a safetensors file.
func SizeBytes(m *ops.Model) (int, error) {
	b, err := modelio.EncodeSafetensors(modelio.ModelTensors(m), map[string]string{"format": "pt", "qpipe_model": m.Name})
	return len(b), err
}
