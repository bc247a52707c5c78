// Package eval measures models: top-1 accuracy and mean cross-entropy
// over a dataset, the median latency of a forward pass, and the size of
// the weights as a file. Every measurement runs on the Backend it is
// given; training's validation, the evaluate and expect verbs, and the
// benchmarks all measure here. Accuracy and Latency run a frozen snapshot
// of the model (ops.Freeze): what depends only on its weights (folded batch
// norms, Winograd weight transforms) is computed once per call, not per
// batch, with the outputs of the model's own forward bit for bit.
package eval

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/ops/modelio"
)

// Accuracy is m's top-1 accuracy (a fraction) and mean cross-entropy over
// every batch of l, on be. tick, when not nil, sees each finished batch.
// It stops when ctx is done.
func Accuracy(ctx context.Context, be ops.Backend, m *ops.Model, l *data.Loader, tick func(done, total int)) (accuracy, loss float64, err error) {
	f, err := ops.Freeze(m)
	if err != nil {
		return 0, 0, err
	}
	c := ops.NewContext(be, ops.Options{})
	it := l.Epoch(ctx, 0)
	defer it.Close()
	var lossSum float64
	correct, n, done := 0, 0, 0
	for b, ok := it.Next(); ok; b, ok = it.Next() {
		bl, right, err := batch(c, f, b)
		if err != nil {
			return 0, 0, err
		}
		lossSum += bl * float64(b.N)
		correct, n, done = correct+right, n+b.N, done+1
		if tick != nil {
			tick(done, l.Batches())
		}
	}
	if err := it.Err(); err != nil {
		return 0, 0, err
	}
	if n == 0 {
		return 0, 0, fmt.Errorf("the evaluation data is empty")
	}
	return float64(correct) / float64(n), lossSum / float64(n), nil
}

// batch is one batch's mean loss and correct count.
func batch(c *ops.Context, m *ops.Frozen, b *data.Batch) (float64, int, error) {
	defer c.Reset()
	x, err := ops.FromData(b.X, b.Shape[:]...)
	if err != nil {
		return 0, 0, err
	}
	logits, err := m.Forward1(c, x)
	if err != nil {
		return 0, 0, err
	}
	labels := make([]int, len(b.Y))
	for i, y := range b.Y {
		labels[i] = int(y)
	}
	var loss float32
	if err := ops.Guard(func() error { loss = c.CrossEntropy(logits, labels).Item(); return nil }); err != nil {
		return 0, 0, err
	}
	return float64(loss), Correct(logits, labels), nil
}

// Correct counts the rows of logits whose argmax is the label.
func Correct(logits *ops.Tensor, labels []int) int {
	n := 0
	for i, p := range ops.Argmax(logits) {
		if p == labels[i] {
			n++
		}
	}
	return n
}

// LatencyOptions configure Latency; zero values select the defaults.
type LatencyOptions struct {
	Warmup int // untimed passes first (default 3)
	Runs   int // timed passes; the median is reported (default 20)
}

// Latency is the median wall time of one forward pass of m (frozen, as
// infer.Model runs it) on be over a deterministic input of the given
// shape (batch first), after the warm-up passes. Latency measures this
// machine now: it is nondeterministic, and never a cached result.
func Latency(ctx context.Context, be ops.Backend, m *ops.Model, shape []int, o LatencyOptions) (time.Duration, error) {
	f, err := ops.Freeze(m)
	if err != nil {
		return 0, err
	}
	if o.Warmup <= 0 {
		o.Warmup = 3
	}
	if o.Runs <= 0 {
		o.Runs = 20
	}
	c := ops.NewContext(be, ops.Options{})
	x := ops.New(shape...)
	for i := range x.Data {
		x.Data[i] = float32(0.5 + 0.5*math.Sin(float64(i)))
	}
	times := make([]time.Duration, 0, o.Runs)
	for r := range o.Warmup + o.Runs {
		if err := ctx.Err(); err != nil {
			return 0, context.Cause(ctx)
		}
		start := time.Now()
		_, err := f.Forward1(c, x)
		c.Reset()
		if err != nil {
			return 0, err
		}
		if r >= o.Warmup {
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

// AccuracyOn is Accuracy over ds in batches of batch, normalised by norm
// when it is not nil.
func AccuracyOn(ctx context.Context, be ops.Backend, m *ops.Model, ds *data.Dataset, batch int, norm *data.Normalize, tick func(done, total int)) (accuracy, loss float64, err error) {
	l, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: batch, Normalize: norm})
	if err != nil {
		return 0, 0, err
	}
	return Accuracy(ctx, be, m, l, tick)
}
