package run

import (
	"context"
	"errors"
	"fmt"
	"github.com/qpipe/qpipe/stdlib/eval"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/stdlib/train"
)

// This file connects the verbs to the engine: training runs stdlib/train's
// loop; accuracy, latency and size are measured by stdlib/eval.

// FitOptions are a training verb's resolved arguments.
// The tagged fields are decoded from the step (check.Step.Decode).
type FitOptions struct {
	Epochs      int     `arg:"epochs"`
	LR          float64 `arg:"lr"`
	Optimizer   string  `arg:"optimizer"` // "sgd" or "adamw"
	Momentum    float64 `arg:"momentum"`
	WeightDecay float64 `arg:"weight_decay"`
	Batch       int     `arg:"batch"`
	Schedule    string  `arg:"schedule"` // "cosine", "step" or "constant"
	Warmup      int     `arg:"warmup"`   // epochs
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

// Accuracy is top-1 accuracy and mean cross-entropy of m on ds
// (stdlib/eval), with progress in batches.
func Accuracy(ctx context.Context, be ops.Backend, m *ops.Model, ds *data.Dataset, batch int, norm *data.Normalize, tick func(Tick)) (acc, loss float64, err error) {
	var progress func(done, total int)
	if tick != nil {
		progress = func(done, total int) { tick(Tick{Done: done, Total: total, Unit: "batches"}) }
	}
	return eval.AccuracyOn(ctx, be, m, ds, batch, norm, progress)
}
