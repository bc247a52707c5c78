package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/stdlib/compress"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

func init() {
	Register("infer-int8", "swin-micro fp32 vs integer-engine latency with GELU and with ReLU MLPs (batch 1 and 64, median ms), and the speed-ups", benchInferInt8)
}

// int8Variant is one model the infer-int8 benchmark times.
type int8Variant struct {
	name  string // "fp32-gelu", "int8-relu", ...
	model *ops.Model
}

// benchInferInt8 builds swin-micro with GELU and with ReLU MLPs (random
// weights: latency does not depend on them), quantizes each to int8
// (per-channel weights, minmax activations calibrated on random images)
// and times one forward per batch size on every variant: the median of
// repeated runs, each variant in turn so load drifts hit them alike.
func benchInferInt8(opts Options, emit func(Result)) error {
	defer withThreads(opts)()
	sizes := opts.Sizes
	if len(sizes) == 0 {
		sizes = []int{1, 64}
	}
	vs, err := int8Variants("swin-micro")
	if err != nil {
		return err
	}
	be, err := backendFor(opts)
	if err != nil {
		return err
	}
	for _, n := range sizes {
		med, err := medianLatencies(be, vs, n, opts.Seconds)
		if err != nil {
			return err
		}
		for _, v := range vs {
			kinds, err := kindTimes(be, v.model, n)
			if err != nil {
				return err
			}
			emit(Result{Case: fmt.Sprintf("swin-micro/%s/b%d", v.name, n), Value: ms(med[v.name]), Unit: "ms",
				Extra: map[string]any{"batch": n, "images_per_sec": round1(float64(n) / med[v.name].Seconds()), "ms_by_kind": kinds}})
		}
		ratio := func(a, b string) float64 { return float64(int64(100*med[a].Seconds()/med[b].Seconds())) / 100 }
		emit(Result{Case: fmt.Sprintf("swin-micro/int8-relu-vs-int8-gelu/b%d", n), Value: round1(100 * (ratio("int8-gelu", "int8-relu") - 1)), Unit: "% faster"})
		emit(Result{Case: fmt.Sprintf("swin-micro/int8-vs-fp32-relu/b%d", n), Value: ratio("fp32-relu", "int8-relu"), Unit: "x"})
		emit(Result{Case: fmt.Sprintf("swin-micro/int8-vs-fp32-gelu/b%d", n), Value: ratio("fp32-gelu", "int8-gelu"), Unit: "x"})
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// int8Variants returns fp32 and integer-engine swin-micro with GELU and
// with ReLU.
func int8Variants(name string) ([]int8Variant, error) {
	calib := randomImages(128)
	var out []int8Variant
	for _, act := range []ops.OpKind{ops.OpGELU, ops.OpReLU} {
		m, err := zoo.Build(name, mnistShape, 10, 1)
		if err != nil {
			return nil, err
		}
		if _, err := compress.Replace(m, ops.OpGELU, act, "*", source.Span{}); err != nil {
			return nil, err
		}
		q := m.Clone()
		if _, err := compress.QuantizeInt8(context.Background(), q, compress.Int8Options{Data: calib, Batches: 2}); err != nil {
			return nil, err
		}
		ir, err := compress.ToInteger(q, source.Span{})
		if err != nil {
			return nil, err
		}
		out = append(out, int8Variant{"fp32-" + string(act), m}, int8Variant{"int8-" + string(act), ir.Model})
	}
	return out, nil
}

func randomImages(n int) *data.Dataset {
	r := rand.New(rand.NewPCG(5, 6))
	ds := &data.Dataset{Name: "random", C: 1, H: 28, W: 28, X: make([]float32, n*784), Y: make([]int, n), Classes: make([]string, 10)}
	for i := range ds.X {
		ds.X[i] = r.Float32()
	}
	return ds
}

// medianLatencies runs every variant once per round (after one warm-up
// round) until seconds (default 2) per variant have passed, at least 5
// rounds, and returns each variant's median forward time (the models
// frozen, as evaluate and infer.Model run them).
func medianLatencies(be ops.Backend, vs []int8Variant, n int, seconds float64) (map[string]time.Duration, error) {
	if seconds <= 0 {
		seconds = 2
	}
	x := ops.New(n, mnistShape.C, mnistShape.H, mnistShape.W)
	copy(x.Data, randomImages(n).X)
	c := ops.NewContext(be, ops.Options{})
	frozen := map[string]*ops.Frozen{}
	for _, v := range vs { // as evaluate and infer.Model run them
		f, err := ops.Freeze(v.model)
		if err != nil {
			return nil, fmt.Errorf("infer-int8 %s: %w", v.name, err)
		}
		frozen[v.name] = f
	}
	times := map[string][]time.Duration{}
	budget := time.Duration(seconds * float64(len(vs)) * float64(time.Second))
	for start, round := time.Now(), 0; round < 6 || time.Since(start) < budget; round++ {
		for _, v := range vs {
			t0 := time.Now()
			if _, err := frozen[v.name].Forward(c, x); err != nil {
				return nil, fmt.Errorf("infer-int8 %s: %w", v.name, err)
			}
			c.Reset()
			if round > 0 {
				times[v.name] = append(times[v.name], time.Since(t0))
			}
		}
	}
	med := map[string]time.Duration{}
	for k, ts := range times {
		sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
		med[k] = ts[len(ts)/2]
	}
	return med, nil
}

// kindTimes is the time per node kind of one forward (ms, the mean of
// three observed forwards after a warm-up): where a variant spends it.
func kindTimes(be ops.Backend, m *ops.Model, n int) (map[string]float64, error) {
	x := ops.New(n, mnistShape.C, mnistShape.H, mnistShape.W)
	copy(x.Data, randomImages(n).X)
	c := ops.NewContext(be, ops.Options{})
	per := map[string]time.Duration{}
	const runs = 3
	for r := range runs + 1 {
		last := time.Now()
		hook := func(nd *ops.Node, _ []*ops.Tensor, _ *ops.Tensor) {
			if r > 0 {
				per[string(nd.Kind)] += time.Since(last)
			}
			last = time.Now()
		}
		if _, err := m.ForwardObserved(c, hook, x); err != nil {
			return nil, err
		}
		c.Reset()
	}
	out := map[string]float64{}
	for k, d := range per {
		if v := float64(d.Microseconds()/runs) / 1000; v >= 0.05 {
			out[k] = v
		}
	}
	return out, nil
}
