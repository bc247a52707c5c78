package bench

import (
	"fmt"

	"github.com/qpipe/qpipe/ops"
)

func init() {
	Register("infer", "fp32 inference images/s and ms per batch of built-in models (batch 256, 1x28x28)", benchInfer)
}

func benchInfer(opts Options, emit func(Result)) error {
	defer withThreads(opts)()
	if opts.Seconds <= 0 {
		opts.Seconds = 2
	}
	batch := batchSize(opts, 256)
	for _, name := range modelBenchModels {
		mb, err := newModelBench(name, batch, opts)
		if err != nil {
			return err
		}
		r, err := mb.infer(opts)
		if err != nil {
			return fmt.Errorf("infer %s: %w", name, err)
		}
		emit(r)
	}
	return nil
}

// infer times no-grad evaluation forwards of the model frozen (as
// evaluate and infer.Model run it).
func (mb *modelBench) infer(opts Options) (Result, error) {
	f, err := ops.Freeze(mb.model)
	if err != nil {
		return Result{}, err
	}
	c := ops.NewContext(mb.be, ops.Options{})
	var fwdErr error
	best, med := measure(opts, float64(mb.x.Shape[0]), func() {
		if fwdErr == nil {
			_, fwdErr = f.Forward(c, mb.x)
			c.Reset()
		}
	})
	if fwdErr != nil {
		return Result{}, fwdErr
	}
	return Result{Case: mb.name + "/fp32", Value: round1(med), Unit: "img/s", Extra: map[string]any{
		"batch": mb.x.Shape[0], "threads": mb.be.Capabilities().Threads, "best": round1(best),
		"ms_per_batch": float64(int64(1e5*float64(mb.x.Shape[0])/med)) / 100, "precision": "fp32"}}, nil
}
