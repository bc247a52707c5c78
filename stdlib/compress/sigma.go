package compress

import (
	"fmt"

	"github.com/qpipe/qpipe/ops"
)

// sigmaEMA keeps the std-based activation thresholds tau_A = alpha_A·sigma_A
// moving during quantization-aware training, as the paper's sigma_A is an
// exponential moving average over training batches, not only over the
// calibration batches (PAPERS.md section 4).
//
// Each input fake_quant node with a "sigma" parameter (see StdObserver)
// is a site. forward, the QAT loop's train.Options.Forward, runs the
// training forward with a hook that records the standard deviation of
// each site's input on this batch; before the next step's forward (and by
// finish after the last step) apply folds it in:
//
//	sigma' = momentum·sigma + (1-momentum)·std(batch)
//	scale' = scale·sigma'/sigma
//
// so the learned multiplier alpha_A = scale·qmax/sigma_A (LSQ trains the
// scale) is kept and only sigma_A moves. The update happens between steps,
// never inside one, so a step's backward sees the scale its forward used.
// Evaluation runs the plain forward and leaves sigma_A and the scale as
// they are. The statistics are float64 sums over the batch in a fixed
// order, so the result is deterministic.
type sigmaEMA struct {
	m        *ops.Model
	momentum float64
	index    map[*ops.Node]int
	sigma    []*ops.Param
	scale    []*ops.Param
	std      []float64
	seen     []bool
}

// newSigmaEMA finds m's sigma_A sites; nil when there are none.
func newSigmaEMA(m *ops.Model, momentum float64) (*sigmaEMA, error) {
	t := &sigmaEMA{m: m, momentum: momentum, index: map[*ops.Node]int{}}
	for _, fq := range m.FindKind(ops.OpFakeQuant) {
		name := fq.Params["sigma"]
		if name == "" {
			continue
		}
		sg, sc := m.Param(name), m.Param(fq.Params["scale"])
		if sg == nil || sc == nil || sg.Value.Numel() != 1 || sc.Value.Numel() != 1 {
			return nil, fmt.Errorf("quantize: %s: want scalar sigma and scale parameters", fq.Name)
		}
		t.index[fq] = len(t.sigma)
		t.sigma, t.scale = append(t.sigma, sg), append(t.scale, sc)
	}
	if len(t.sigma) == 0 {
		return nil, nil
	}
	if !(momentum >= 0 && momentum < 1) {
		return nil, fmt.Errorf("quantize: ema=%g: want a momentum in [0, 1)", momentum)
	}
	t.std, t.seen = make([]float64, len(t.sigma)), make([]bool, len(t.sigma))
	return t, nil
}

// forward runs one training forward, recording each site's input std.
func (t *sigmaEMA) forward(c *ops.Context, m *ops.Model, x *ops.Tensor) (*ops.Tensor, error) {
	t.apply()
	outs, err := m.ForwardObserved(c, t.observe, x)
	if err != nil {
		return nil, err
	}
	if len(outs) != 1 {
		return nil, fmt.Errorf("quantize: model %s has %d outputs, want 1", m.Name, len(outs))
	}
	return outs[0], nil
}

func (t *sigmaEMA) observe(n *ops.Node, in []*ops.Tensor, _ *ops.Tensor) {
	if i, ok := t.index[n]; ok {
		t.std[i], t.seen[i] = float64(ops.Std(in[0].Data)), true
	}
}

// apply folds the recorded batch statistics into sigma_A and rescales each
// site's step size (see the type comment).
func (t *sigmaEMA) apply() {
	changed := false
	for i, seen := range t.seen {
		if !seen {
			continue
		}
		t.seen[i] = false
		old := float64(t.sigma[i].Value.Data[0])
		next := emaStep(old, t.std[i], t.momentum)
		if !(old > 0) || !(next > 0) {
			continue // an all-zero input: no range to rescale
		}
		t.sigma[i].Value.Data[0] = float32(next)
		t.scale[i].Value.Data[0] = float32(float64(t.scale[i].Value.Data[0]) * next / old)
		changed = true
	}
	if changed {
		t.m.Invalidate()
	}
}
