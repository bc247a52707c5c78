package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/ops/optim"
	"github.com/qpipe/qpipe/stdlib/eval"
)

// EpochStats are one finished epoch's figures. Accuracies are fractions.
type EpochStats struct {
	Epoch        int     `json:"epoch"` // 1-based
	TrainLoss    float64 `json:"train_loss"`
	TrainAcc     float64 `json:"train_accuracy"`
	ValLoss      float64 `json:"val_loss,omitempty"`
	ValAcc       float64 `json:"val_accuracy,omitempty"`
	HasVal       bool    `json:"-"`
	Images       int     `json:"images"`
	Seconds      float64 `json:"seconds"`
	ImagesPerSec float64 `json:"images_per_sec"`
	LR           float64 `json:"lr"` // rate at the end of the epoch
}

// History is what Fit finished: one entry per completed epoch and the
// number of optimizer steps taken.
type History struct {
	Epochs []EpochStats
	Steps  int
}

// Last returns the last finished epoch (zero when none finished).
func (h History) Last() EpochStats {
	if len(h.Epochs) == 0 {
		return EpochStats{}
	}
	return h.Epochs[len(h.Epochs)-1]
}

// DivergedError reports a NaN or infinite loss. The step's update was not
// applied: the model holds the weights from the step before.
type DivergedError struct {
	Epoch, Step int // 1-based epoch; step within the epoch, 1-based
	Loss        float64
}

func (e *DivergedError) Error() string {
	return fmt.Sprintf("train: loss became %v at epoch %d, step %d; the update was not applied (try a lower learning rate)", e.Loss, e.Epoch, e.Step)
}

// Fit trains m on trainLoader for opts.Epochs epochs, evaluating on
// valLoader (may be nil) after each. On cancellation it returns the epochs
// that finished with the context's error; on a NaN/Inf loss, a
// *DivergedError. Either way the model keeps the last good weights.
func Fit(ctx context.Context, m *ops.Model, trainLoader, valLoader *data.Loader, opts Options) (History, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return History{}, err
	}
	f, err := newFitter(m, trainLoader, o)
	if err != nil {
		return History{}, err
	}
	var h History
	for epoch := 1; epoch <= o.Epochs; epoch++ {
		st, err := f.epoch(ctx, epoch)
		h.Steps = f.step
		if err != nil {
			return h, err
		}
		if valLoader != nil {
			if st.ValAcc, st.ValLoss, err = eval.Accuracy(ctx, o.Backend, m, valLoader, nil); err != nil {
				return h, err
			}
			st.HasVal = true
		}
		h.Epochs = append(h.Epochs, st)
		if o.OnEpoch != nil {
			if err := o.OnEpoch(st); err != nil {
				return h, err
			}
		}
	}
	return h, nil
}

// fitter holds a run's state between epochs.
type fitter struct {
	m      *ops.Model
	loader *data.Loader
	o      Options
	c      *ops.Context
	opt    optim.Optimizer
	sched  *optim.Scheduler
	step   int
	total  int
	start  time.Time
	labels []int
}

func newFitter(m *ops.Model, l *data.Loader, o Options) (*fitter, error) {
	if l == nil || l.Batches() == 0 {
		return nil, errors.New("train: the training loader yields no batches")
	}
	opt, err := newOptimizer(m, o)
	if err != nil {
		return nil, err
	}
	s, err := newSchedule(o, l.Batches())
	if err != nil {
		return nil, err
	}
	c := ops.NewContext(o.Backend, ops.Options{Train: true, Grad: true, Seed: o.Seed})
	return &fitter{m: m, loader: l, o: o, c: c, opt: opt, sched: optim.NewScheduler(opt, s),
		total: o.Epochs * l.Batches(), start: time.Now()}, nil
}

// epoch runs one pass over the training loader.
func (f *fitter) epoch(ctx context.Context, epoch int) (EpochStats, error) {
	if err := ctx.Err(); err != nil {
		return EpochStats{}, err
	}
	it := f.loader.Epoch(ctx, epoch-1)
	defer it.Close()
	var lossSum float64
	correct, images, step := 0, 0, 0
	t0 := time.Now()
	for {
		b, ok := it.Next()
		if !ok {
			break
		}
		step++
		loss, hits, err := f.trainStep(b, epoch, step)
		if err != nil {
			return EpochStats{}, err
		}
		lossSum += loss * float64(b.N)
		correct += hits
		images += b.N
		f.report(epoch, loss, images, t0)
	}
	if err := it.Err(); err != nil {
		return EpochStats{}, err
	}
	secs := time.Since(t0).Seconds()
	return EpochStats{Epoch: epoch, TrainLoss: lossSum / float64(images), TrainAcc: float64(correct) / float64(images),
		Images: images, Seconds: secs, ImagesPerSec: float64(images) / secs, LR: f.opt.LR()}, nil
}

// trainStep runs forward, loss, backward and the update on one batch,
// returning the loss and the number of correct predictions.
func (f *fitter) trainStep(b *data.Batch, epoch, step int) (float64, int, error) {
	defer f.c.Reset()
	tb, err := f.batch(b)
	if err != nil {
		return 0, 0, err
	}
	var logits *ops.Tensor
	if f.o.Forward != nil {
		logits, err = f.o.Forward(f.c, f.m, tb.X)
	} else {
		logits, err = f.m.Forward1(f.c, tb.X)
	}
	if err != nil {
		return 0, 0, err
	}
	var loss *ops.Tensor
	if err := ops.Guard(func() error { loss = f.o.Loss(f.c, logits, tb); return nil }); err != nil {
		return 0, 0, fmt.Errorf("train: loss: %w", err)
	}
	lv := float64(loss.Item())
	if math.IsNaN(lv) || math.IsInf(lv, 0) {
		return 0, 0, &DivergedError{Epoch: epoch, Step: step, Loss: lv}
	}
	hits := countCorrect(logits, tb.Labels)
	if err := f.c.Backward(loss); err != nil {
		return 0, 0, err
	}
	f.opt.Step()
	f.opt.ZeroGrad()
	f.sched.Step()
	f.step++
	return lv, hits, nil
}

// batch wraps a loader batch for the model and the loss.
func (f *fitter) batch(b *data.Batch) (*Batch, error) {
	x, err := ops.FromData(b.X, b.Shape[:]...)
	if err != nil {
		return nil, err
	}
	f.labels = f.labels[:0]
	for _, y := range b.Y {
		f.labels = append(f.labels, int(y))
	}
	return &Batch{Batch: b, X: x, Labels: f.labels}, nil
}

func (f *fitter) report(epoch int, loss float64, images int, t0 time.Time) {
	if f.o.Progress == nil {
		return
	}
	f.o.Progress(Progress{Epoch: epoch, Epochs: f.o.Epochs, Step: f.step, Steps: f.total, Loss: loss,
		ImagesPerSec: float64(images) / time.Since(t0).Seconds(), LR: f.opt.LR(), Elapsed: time.Since(f.start)})
}

// countCorrect counts rows of logits whose argmax equals the label.
func countCorrect(logits *ops.Tensor, labels []int) int {
	if logits.Dims() != 2 {
		return 0
	}
	n := 0
	for i, p := range ops.Argmax(logits) {
		if i < len(labels) && p == labels[i] {
			n++
		}
	}
	return n
}

// TeacherForward runs a teacher model on x in evaluation mode without
// recording, inside a training step's context (for distillation losses).
func TeacherForward(c *ops.Context, teacher *ops.Model, x *ops.Tensor) (*ops.Tensor, error) {
	var out *ops.Tensor
	var err error
	c.WithMode(false, false, func() { out, err = teacher.Forward1(c, x) })
	return out, err
}
