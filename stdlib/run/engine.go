package run

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/ops/modelio"
	"github.com/qpipe/qpipe/ops/optim"
)

// This file is the small training and measuring engine the verbs use:
// a cross-entropy training loop over a data.Loader, test-set accuracy,
// latency and size. stdlib/train grows the full version (distillation,
// quantization-aware training); these functions stay the reference the
// executor's tests pin.

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
	Steps          int
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

// Fit trains m with cross-entropy on ds. It stops between batches when ctx
// is done (returning ctx's cause) and at the first non-finite loss
// (wrapping ErrNonFinite); m then holds the weights of the failing step.
func Fit(ctx context.Context, be ops.Backend, m *ops.Model, ds *data.Dataset, o FitOptions, tick func(Tick)) (FitResult, error) {
	loader, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: o.Batch, Shuffle: true, Seed: o.Seed,
		Augment: o.Augment, Normalize: o.Normalize})
	if err != nil {
		return FitResult{}, err
	}
	opt, err := newOptimizer(m, o)
	if err != nil {
		return FitResult{}, err
	}
	sched := optim.NewScheduler(opt, schedule(o, loader.Batches()))
	c := ops.NewContext(be, ops.Options{Train: true, Grad: true, Seed: o.Seed})
	var res FitResult
	for epoch := 1; epoch <= o.Epochs; epoch++ {
		if res, err = fitEpoch(ctx, c, m, loader, opt, sched, epoch, o.Epochs, tick); err != nil {
			return res, err
		}
	}
	return res, nil
}

func newOptimizer(m *ops.Model, o FitOptions) (optim.Optimizer, error) {
	params := m.Trainable()
	if len(params) == 0 {
		return nil, fmt.Errorf("model %s has no trainable parameters", m.Name)
	}
	var groups []optim.GroupRule
	if hasVector(params) && hasMatrix(params) {
		groups = []optim.GroupRule{optim.NoDecay()} // biases and norms take no decay
	}
	switch o.Optimizer {
	case "sgd":
		return optim.NewSGD(params, optim.SGDOptions{LR: o.LR, Momentum: o.Momentum, WeightDecay: o.WeightDecay, Groups: groups})
	case "adamw", "":
		return optim.NewAdamW(params, optim.AdamWOptions{LR: o.LR, WeightDecay: o.WeightDecay, Groups: groups})
	}
	return nil, fmt.Errorf("unknown optimizer %q", o.Optimizer)
}

func hasVector(ps []*ops.Param) bool {
	for _, p := range ps {
		if p.Value.Dims() <= 1 {
			return true
		}
	}
	return false
}

func hasMatrix(ps []*ops.Param) bool {
	for _, p := range ps {
		if p.Value.Dims() > 1 {
			return true
		}
	}
	return false
}

// schedule is the per-batch learning-rate schedule of the whole run.
func schedule(o FitOptions, perEpoch int) optim.Schedule {
	warm := o.Warmup * perEpoch
	total := max(o.Epochs*perEpoch-warm, 1)
	var s optim.Schedule = optim.Constant{}
	switch o.Schedule {
	case "cosine":
		s = optim.Cosine{Steps: total}
	case "step":
		s = stepAt{half: total / 2, threeQuarters: total * 3 / 4}
	}
	if warm > 0 {
		return optim.Warmup{Steps: warm, StartFactor: 1 / float64(warm+1), Then: s}
	}
	return s
}

// stepAt multiplies the rate by 0.1 at 50% and again at 75% of the run.
type stepAt struct{ half, threeQuarters int }

func (s stepAt) Factor(step int) float64 {
	switch {
	case step >= s.threeQuarters:
		return 0.01
	case step >= s.half:
		return 0.1
	}
	return 1
}

func fitEpoch(ctx context.Context, c *ops.Context, m *ops.Model, l *data.Loader, opt optim.Optimizer,
	sched *optim.Scheduler, epoch, epochs int, tick func(Tick)) (FitResult, error) {
	it := l.Epoch(ctx, epoch)
	defer it.Close()
	var lossSum float64
	var correct, seen, done int
	for {
		b, ok := it.Next()
		if !ok {
			break
		}
		loss, right, err := fitBatch(c, m, b, opt)
		if err != nil {
			return FitResult{}, err
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return FitResult{Loss: loss}, fmt.Errorf("%w: %v at epoch %d, batch %d of %d (learning rate %.3g)",
				ErrNonFinite, loss, epoch, done+1, l.Batches(), opt.LR())
		}
		sched.Step()
		lossSum += loss * float64(b.N)
		correct, seen, done = correct+right, seen+b.N, done+1
		if tick != nil {
			tick(Tick{Done: done, Total: l.Batches(), Unit: "batches", Epoch: epoch, Epochs: epochs, Loss: lossSum / float64(seen)})
		}
	}
	if err := it.Err(); err != nil {
		return FitResult{}, err
	}
	if seen == 0 {
		return FitResult{}, fmt.Errorf("the training set is empty")
	}
	return FitResult{Loss: lossSum / float64(seen), Accuracy: float64(correct) / float64(seen), Steps: done}, nil
}

// fitBatch runs one optimisation step and returns the batch loss and the
// number of correct predictions.
func fitBatch(c *ops.Context, m *ops.Model, b *data.Batch, opt optim.Optimizer) (float64, int, error) {
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
	lv := float64(loss.Item())
	right := countCorrect(logits, labels)
	if math.IsNaN(lv) || math.IsInf(lv, 0) {
		return lv, right, nil
	}
	if err := c.Backward(loss); err != nil {
		return 0, 0, err
	}
	opt.Step()
	opt.ZeroGrad()
	return lv, right, nil
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
