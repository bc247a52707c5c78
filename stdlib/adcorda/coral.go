package adcorda

import (
	"context"
	"fmt"
	"slices"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/stdlib/train"
)

// CORAL is the Deep CORAL loss ||C_S - C_T||_F^2 / (4 d^2) between the
// feature covariances of a source batch s and a target batch t (each
// n × d, flattened from any feature map), differentiable in both.
func CORAL(c *ops.Context, s, t *ops.Tensor) *ops.Tensor {
	cs, ct := covariance(c, flat(c, s)), covariance(c, flat(c, t))
	d := float32(cs.Shape[0])
	diff := c.Sub(cs, ct)
	return c.MulScalar(c.SumAll(c.Mul(diff, diff)), 1/(4*d*d))
}

func flat(c *ops.Context, x *ops.Tensor) *ops.Tensor {
	if x.Dims() == 2 {
		return x
	}
	return c.Flatten(x, 1)
}

// covariance is the unbiased covariance of the rows of x (n × d):
// (x - mean)^T (x - mean) / (n - 1).
func covariance(c *ops.Context, x *ops.Tensor) *ops.Tensor {
	n := x.Shape[0]
	xc := c.Sub(x, c.Mean(x, []int{0}, true))
	return c.MulScalar(c.MatMul(xc, xc, true, false), 1/float32(max(n-1, 1)))
}

// FeatureNode is the node whose output feeds the classifier: the input of
// the last linear layer on the way back from the model's output (past
// fake-quant, dropout and identity nodes).
func FeatureNode(m *ops.Model) (int, error) {
	if len(m.Outputs) != 1 {
		return 0, fmt.Errorf("adcorda: model %s has %d outputs, want 1", m.Name, len(m.Outputs))
	}
	n := m.Node(m.Outputs[0])
	for n != nil && slices.Contains([]ops.OpKind{ops.OpFakeQuant, ops.OpDropout, ops.OpIdentity}, n.Kind) && len(n.Inputs) > 0 {
		n = m.Node(n.Inputs[0])
	}
	if n == nil || (n.Kind != ops.OpLinear && n.Kind != ops.OpQLinear) || len(n.Inputs) == 0 {
		return 0, fmt.Errorf("adcorda: model %s does not end in a linear classifier, so it has no penultimate features to align", m.Name)
	}
	return n.Inputs[0], nil
}

// Aligner holds stage 2's state for train.Fit: its Forward captures the
// source batch's features and its Loss adds the CORAL term against the
// features of the next target batch.
type Aligner struct {
	feat   int
	lambda float32
	target *data.Loader
	ctx    context.Context
	it     *data.Iterator
	epoch  int
	src    *ops.Tensor
	// Coral is the running sum of the CORAL terms, and Batches their count.
	Coral   float64
	Batches int
}

// NewAligner aligns m's penultimate features with batches of target.
func NewAligner(ctx context.Context, m *ops.Model, target *data.Loader, lambda float64) (*Aligner, error) {
	feat, err := FeatureNode(m)
	if err != nil {
		return nil, err
	}
	if target.Batches() == 0 {
		return nil, fmt.Errorf("adcorda: the target set yields no batches")
	}
	return &Aligner{feat: feat, lambda: float32(lambda), target: target, ctx: ctx}, nil
}

// features runs m on x and returns its logits and penultimate features.
func (a *Aligner) features(c *ops.Context, m *ops.Model, x *ops.Tensor) (*ops.Tensor, *ops.Tensor, error) {
	var feat *ops.Tensor
	hook := func(n *ops.Node, _ []*ops.Tensor, out *ops.Tensor) {
		if n.ID == a.feat {
			feat = out
		}
	}
	outs, err := m.ForwardObserved(c, hook, x)
	if err != nil {
		return nil, nil, err
	}
	if feat == nil {
		return nil, nil, fmt.Errorf("adcorda: the feature node %d did not run", a.feat)
	}
	return outs[0], feat, nil
}

// Forward is train.Options.Forward: m's logits, keeping the features.
func (a *Aligner) Forward(c *ops.Context, m *ops.Model, x *ops.Tensor) (*ops.Tensor, error) {
	logits, feat, err := a.features(c, m, x)
	a.src = feat
	return logits, err
}

// Loss returns train.Options.Loss for m: cross-entropy plus lambda times
// CORAL against the next target batch.
func (a *Aligner) Loss(m *ops.Model) train.Loss {
	return func(c *ops.Context, logits *ops.Tensor, b *train.Batch) *ops.Tensor {
		ce := c.CrossEntropy(logits, b.Labels)
		if a.lambda == 0 {
			return ce
		}
		x, err := a.next()
		if err != nil {
			panic(err)
		}
		_, ft, err := a.features(c, m, x)
		if err != nil {
			panic(err)
		}
		coral := CORAL(c, a.src, ft)
		a.Coral += float64(coral.Item())
		a.Batches++
		return c.Add(ce, c.MulScalar(coral, a.lambda))
	}
}

// next is the next target batch, starting a new epoch when one ends.
func (a *Aligner) next() (*ops.Tensor, error) {
	for range 2 {
		if a.it == nil {
			a.it = a.target.Epoch(a.ctx, a.epoch)
			a.epoch++
		}
		if b, ok := a.it.Next(); ok {
			return ops.FromData(b.X, b.Shape[:]...)
		}
		err := a.it.Err()
		a.it.Close()
		a.it = nil
		if err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("adcorda: the target set yields no batches")
}

// Close stops the target loader.
func (a *Aligner) Close() {
	if a.it != nil {
		a.it.Close()
	}
}
