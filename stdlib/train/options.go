// Package train is qpipe's training and evaluation loop: Fit runs epochs
// of mini-batch SGD or AdamW (with ops/optim's schedules) over data
// loaders, reporting per-epoch loss and accuracy and per-step progress,
// stopping cleanly on cancellation and with a located error on a NaN or
// infinite loss, validating with stdlib/eval. The loss is
// pluggable, so verbs such as distill add terms (a teacher's KL) without a
// loop of their own.
//
// Given the same model seed, loader seed and Options.Seed, Fit produces
// bit-identical weights: shuffling and augmentation come from seeded
// streams, dropout from the context's seed, and the CPU kernels reduce in
// a fixed order.
package train

import (
	"fmt"
	"strings"
	"time"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/ops/optim"
)

// Batch is one training batch as the loss sees it: the loader's batch,
// its images as a tensor (N, C, H, W) and its labels as ints.
type Batch struct {
	*data.Batch
	X      *ops.Tensor
	Labels []int
}

// Loss computes a scalar training loss from the model's logits. The
// default is cross-entropy against b.Labels. A distillation loss runs its
// teacher with TeacherForward (eval mode, no tape) on b.X.
type Loss func(c *ops.Context, logits *ops.Tensor, b *Batch) *ops.Tensor

// CrossEntropy is the default loss.
func CrossEntropy(c *ops.Context, logits *ops.Tensor, b *Batch) *ops.Tensor {
	return c.CrossEntropy(logits, b.Labels)
}

// Progress is reported after every training step.
type Progress struct {
	Epoch, Epochs int     // 1-based epoch, of Epochs
	Step, Steps   int     // steps done in total, of Steps for the whole run
	Loss          float64 // this step's loss
	ImagesPerSec  float64 // throughput over the epoch so far
	LR            float64 // learning rate used by this step
	Elapsed       time.Duration
}

// Options configure Fit. Zero values select the defaults noted.
type Options struct {
	Epochs      int     // default 1
	Optimizer   string  // "sgd" (default) or "adamw"
	LR          float64 // default 0.01 for sgd, 0.001 for adamw
	Momentum    float64 // sgd momentum; default 0.9 (set NoMomentum for plain SGD)
	NoMomentum  bool
	Nesterov    bool
	WeightDecay float64 // default 0 for sgd, 0.01 for adamw (use NoDecay to keep biases and norms undecayed)
	// NoWeightDecay makes a zero WeightDecay mean none for adamw too.
	NoWeightDecay bool
	NoDecay       bool    // exempt parameters with at most one axis from weight decay
	Schedule      string  // "constant" (default), "cosine" or "step"
	StepEvery     int     // "step": epochs between decays (default 1/3 of Epochs, at least 1)
	Gamma         float64 // "step": decay factor (default 0.1)
	Warmup        int     // linear warmup steps before the schedule
	Seed          uint64  // dropout stream
	Backend       ops.Backend
	Loss          Loss
	// Forward, when set, runs the model in place of m.Forward1 (a loss
	// that needs intermediate features captures them here).
	Forward func(c *ops.Context, m *ops.Model, x *ops.Tensor) (*ops.Tensor, error)
	// Progress, when set, is called after every step.
	Progress func(Progress)
	// OnEpoch, when set, is called after every epoch (after validation); a
	// non-nil error stops training and is returned. Checkpointing hooks in
	// here.
	OnEpoch func(EpochStats) error
}

func (o Options) withDefaults() (Options, error) {
	o.Optimizer = strings.ToLower(o.Optimizer)
	if o.Epochs == 0 {
		o.Epochs = 1
	}
	switch o.Optimizer {
	case "", "sgd":
		o.Optimizer = "sgd"
		o.LR = orDefault(o.LR, 0.01)
		if o.Momentum == 0 && !o.NoMomentum {
			o.Momentum = 0.9
		}
	case "adamw":
		o.LR = orDefault(o.LR, 0.001)
		if o.WeightDecay == 0 && !o.NoWeightDecay {
			o.WeightDecay = 0.01
		}
	default:
		return o, fmt.Errorf("train: unknown optimizer %q (want sgd or adamw)", o.Optimizer)
	}
	if o.Schedule == "" {
		o.Schedule = "constant"
	}
	if o.Loss == nil {
		o.Loss = CrossEntropy
	}
	if o.Epochs < 0 || o.LR < 0 || o.Warmup < 0 {
		return o, fmt.Errorf("train: epochs %d, learning rate %g and warmup %d must not be negative", o.Epochs, o.LR, o.Warmup)
	}
	var err error
	o.Backend, err = ops.OrDefault(o.Backend)
	return o, err
}

// stepSchedule decays by Gamma (default 0.1) every StepEvery epochs, or,
// when StepEvery is unset, at 50% and 75% of the run.
func stepSchedule(o Options, stepsPerEpoch, total int) optim.Schedule {
	gamma := orDefault(o.Gamma, 0.1)
	if o.StepEvery > 0 {
		return optim.Step{Every: o.StepEvery * stepsPerEpoch, Gamma: gamma}
	}
	after := max(total-o.Warmup, 1)
	return optim.MultiStep{Milestones: []int{after / 2, after * 3 / 4}, Gamma: gamma}
}

func orDefault(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

// newOptimizer builds the optimizer Options ask for.
func newOptimizer(m *ops.Model, o Options) (optim.Optimizer, error) {
	var rules []optim.GroupRule
	if o.NoDecay {
		rules = append(rules, optim.NoDecay())
	}
	params := m.Trainable()
	if len(params) == 0 {
		return nil, fmt.Errorf("train: model %s has no trainable parameters", m.Name)
	}
	if o.Optimizer == "adamw" {
		return optim.NewAdamW(params, optim.AdamWOptions{LR: o.LR, WeightDecay: o.WeightDecay, Groups: rules})
	}
	return optim.NewSGD(params, optim.SGDOptions{LR: o.LR, Momentum: o.Momentum, Nesterov: o.Nesterov, WeightDecay: o.WeightDecay, Groups: rules})
}

// newSchedule turns Options into a per-step schedule over total steps.
func newSchedule(o Options, stepsPerEpoch int) (optim.Schedule, error) {
	total := o.Epochs * stepsPerEpoch
	var s optim.Schedule
	switch strings.ToLower(o.Schedule) {
	case "constant":
		s = optim.Constant{}
	case "cosine":
		s = optim.Cosine{Steps: max(total-o.Warmup, 1)}
	case "step":
		s = stepSchedule(o, stepsPerEpoch, total)
	default:
		return nil, fmt.Errorf("train: unknown schedule %q (want constant, cosine or step)", o.Schedule)
	}
	if o.Warmup > 0 {
		s = optim.Warmup{Steps: o.Warmup, StartFactor: 1 / float64(o.Warmup+1), Then: s}
	}
	return s, nil
}
