package compress

import (
	"context"
	"math"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
)

// stdRef is the population standard deviation in float64.
func stdRef(x []float32) float64 {
	var s, ss float64
	for _, v := range x {
		s += float64(v)
	}
	mean := s / float64(len(x))
	for _, v := range x {
		ss += (float64(v) - mean) * (float64(v) - mean)
	}
	return math.Sqrt(ss / float64(len(x)))
}

// TestSigmaEMAFollowsQATAndFreezesInEval checks sigma_A of the log2
// activation quantizer against a float64 reference: calibrated into the
// model, then updated once per QAT step with the given momentum (the step
// size following it), unchanged by evaluation, and deterministic.
func TestSigmaEMAFollowsQATAndFreezesInEval(t *testing.T) {
	m, ds := trained(t, ops.OpReLU)
	const momentum = 0.7
	float := m.Clone()
	lowbit(t, m, LowBitOptions{Method: MethodLog2, Bits: 3, Data: ds, Batch: 32, Batches: 4, EMA: momentum})
	fq := m.NodeByName("stages.1.fc1.input_quant")
	sigma, scale := m.Param(fq.Params["sigma"]), m.Param(fq.Params["scale"])
	if sigma == nil || scale == nil {
		t.Fatalf("fc1's input quantizer has params %v; want scale and sigma", fq.Params)
	}
	// Calibration: the EMA over the first 4 batches (Calibrate's order) of
	// fc1's input in the float model, and scale = alpha·sigma_A/qmax with
	// alpha 3.
	calib := inputStds(t, float, "stages.1.fc1", ds, data.LoaderOptions{BatchSize: 32, Shuffle: true, Seed: 7}, 1)[:4]
	ref := calib[0]
	for _, s := range calib[1:] {
		ref = momentum*ref + (1-momentum)*s
	}
	if s := float64(sigma.Value.Data[0]); math.Abs(s-ref) > 1e-6*ref {
		t.Fatalf("calibrated sigma_A %v, float64 reference %v", s, ref)
	}
	if want := 3 * ref / float64(fq.Attrs.QMax); math.Abs(float64(scale.Value.Data[0])-want) > 1e-6*want {
		t.Fatalf("scale %v, want alpha·sigma_A/qmax = %v", scale.Value.Data[0], want)
	}
	// QAT with only the head's bias trainable: fc1's input then depends on
	// the batch alone, so the reference can replay the batches; the scale
	// changes only through sigma_A.
	for _, p := range m.Params() {
		p.Trainable = p.Name == "head.bias"
	}
	base := m.Clone()
	run := qatRun{data: ds, batch: 32, epochs: 2, lr: 1e-2, optimizer: "sgd", seed: 5, ema: momentum}
	steps := inputStds(t, m, fq.Name, ds, data.LoaderOptions{BatchSize: 32, Shuffle: true, Seed: run.seed}, run.epochs)
	sigma0, scale0 := float64(sigma.Value.Data[0]), float64(scale.Value.Data[0])
	ref = sigma0
	for _, s := range steps {
		ref = momentum*ref + (1-momentum)*s
	}
	if _, err := fitQAT(context.Background(), m, run); err != nil {
		t.Fatal(err)
	}
	got := float64(sigma.Value.Data[0])
	if math.Abs(got-ref) > 1e-5*ref || math.Abs(got-sigma0) < 1e-3*sigma0 {
		t.Fatalf("after %d QAT steps sigma_A %v; float64 reference %v (start %v)", len(steps), got, ref, sigma0)
	}
	if want := scale0 * ref / sigma0; math.Abs(float64(scale.Value.Data[0])-want) > 1e-5*want {
		t.Fatalf("scale %v, want scale·sigma'/sigma = %v", scale.Value.Data[0], want)
	}
	// Evaluation leaves sigma_A and the scale alone.
	s1, c1 := sigma.Value.Data[0], scale.Value.Data[0]
	logits(t, m, ds, 128)
	inputStds(t, m, fq.Name, ds, data.LoaderOptions{BatchSize: 64}, 1)
	if sigma.Value.Data[0] != s1 || scale.Value.Data[0] != c1 {
		t.Fatalf("evaluation moved sigma_A %v → %v, scale %v → %v", s1, sigma.Value.Data[0], c1, scale.Value.Data[0])
	}
	// The same run again gives the same bits.
	if _, err := fitQAT(context.Background(), base, run); err != nil {
		t.Fatal(err)
	}
	if again := base.Param(fq.Params["sigma"]).Value.Data[0]; again != s1 {
		t.Fatalf("a second identical QAT run gives sigma_A %v, first %v", again, s1)
	}
}

// inputStds runs m in evaluation over epochs of ds with loader options lo
// and returns the float64 std of node's first input per batch.
func inputStds(t *testing.T, m *ops.Model, node string, ds *data.Dataset, lo data.LoaderOptions, epochs int) []float64 {
	t.Helper()
	l, err := data.NewLoader(ds, lo)
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	hook := func(n *ops.Node, in []*ops.Tensor, _ *ops.Tensor) {
		if n.Name == node {
			out = append(out, stdRef(in[0].Data))
		}
	}
	for e := range epochs {
		it := l.Epoch(context.Background(), e)
		for b, ok := it.Next(); ok; b, ok = it.Next() {
			x, err := ops.FromData(append([]float32(nil), b.X...), b.Shape[:]...)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.ForwardObserved(ops.NewContext(cpu(t), ops.Options{}), hook, x); err != nil {
				t.Fatal(err)
			}
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		it.Close()
	}
	return out
}
