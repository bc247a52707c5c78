package train

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
)

// Evaluate returns m's accuracy (a fraction) and mean cross-entropy over
// every batch of l, on the CPU backend.
func Evaluate(m *ops.Model, l *data.Loader) (accuracy, loss float64, err error) {
	be, err := ops.NewBackend("cpu")
	if err != nil {
		return 0, 0, err
	}
	return EvaluateWith(context.Background(), be, m, l)
}

// EvaluateWith is Evaluate on a given backend, stopping on cancellation.
func EvaluateWith(ctx context.Context, be ops.Backend, m *ops.Model, l *data.Loader) (accuracy, loss float64, err error) {
	c := ops.NewContext(be, ops.Options{})
	it := l.Epoch(ctx, 0)
	defer it.Close()
	var lossSum float64
	correct, n := 0, 0
	labels := []int{}
	for {
		b, ok := it.Next()
		if !ok {
			break
		}
		x, err := ops.FromData(b.X, b.Shape[:]...)
		if err != nil {
			return 0, 0, err
		}
		labels = labels[:0]
		for _, y := range b.Y {
			labels = append(labels, int(y))
		}
		logits, err := m.Forward1(c, x)
		if err != nil {
			return 0, 0, err
		}
		var lv float32
		if err := ops.Guard(func() error { lv = c.CrossEntropy(logits, labels).Item(); return nil }); err != nil {
			return 0, 0, err
		}
		lossSum += float64(lv) * float64(b.N)
		correct += countCorrect(logits, labels)
		n += b.N
		c.Reset()
	}
	if err := it.Err(); err != nil {
		return 0, 0, err
	}
	if n == 0 {
		return 0, 0, fmt.Errorf("train: evaluation data is empty")
	}
	return float64(correct) / float64(n), lossSum / float64(n), nil
}

// LatencyOptions configure MeasureLatency; zero values select the
// defaults.
type LatencyOptions struct {
	Batches []int // batch sizes (default 1 and 64)
	Warmup  int   // untimed runs first (default 3)
	Runs    int   // timed runs; the median is reported (default 20)
	Backend ops.Backend
}

// Latency is the median time of one forward pass at one batch size.
type Latency struct {
	Batch        int
	Median       time.Duration
	ImagesPerSec float64
}

// MeasureLatency times inference forward passes of m on inputs of the
// given per-sample shape (e.g. 1, 28, 28), returning the median per batch
// size.
func MeasureLatency(m *ops.Model, sample []int, o LatencyOptions) ([]Latency, error) {
	if len(o.Batches) == 0 {
		o.Batches = []int{1, 64}
	}
	o.Warmup = max(o.Warmup, 0)
	if o.Warmup == 0 {
		o.Warmup = 3
	}
	if o.Runs <= 0 {
		o.Runs = 20
	}
	if o.Backend == nil {
		be, err := ops.NewBackend("cpu")
		if err != nil {
			return nil, err
		}
		o.Backend = be
	}
	out := make([]Latency, 0, len(o.Batches))
	for _, bs := range o.Batches {
		med, err := medianForward(m, o, append([]int{bs}, sample...))
		if err != nil {
			return nil, err
		}
		out = append(out, Latency{Batch: bs, Median: med, ImagesPerSec: float64(bs) / med.Seconds()})
	}
	return out, nil
}

func medianForward(m *ops.Model, o LatencyOptions, shape []int) (time.Duration, error) {
	c := ops.NewContext(o.Backend, ops.Options{})
	x := ops.New(shape...)
	for i := range x.Data {
		x.Data[i] = float32(0.5 + 0.5*math.Sin(float64(i)))
	}
	times := make([]time.Duration, 0, o.Runs)
	for r := range o.Warmup + o.Runs {
		t0 := time.Now()
		if _, err := m.Forward(c, x); err != nil {
			return 0, err
		}
		c.Reset()
		if r >= o.Warmup {
			times = append(times, time.Since(t0))
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	return times[len(times)/2], nil
}

// ModelSize is the bytes of m's parameters and buffers as stored (float32).
func ModelSize(m *ops.Model) int64 { return int64(m.ParamBytes()) }
