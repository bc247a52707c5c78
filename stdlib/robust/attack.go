package robust

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
)

// Attack is an L-infinity attack.
type Attack struct {
	// Eps is the radius of the ball around each image, in pixels.
	Eps float64
	// Steps of size StepSize; 1 step of size Eps from no random start is
	// FGSM.
	Steps    int
	StepSize float64
	// RandomStart starts from a uniform point of the ball drawn from
	// (Seed, image index), see Start.
	RandomStart bool
	Seed        uint64
	// Targeted descends the loss of the labels (moves images toward their
	// labels) instead of ascending it; EarlyStop freezes an image once the
	// model classifies it as its label (AdCorDA's correction).
	Targeted, EarlyStop bool
}

// FGSM is the fast gradient sign method at eps.
func FGSM(eps float64) Attack { return Attack{Eps: eps, Steps: 1, StepSize: eps} }

// PGD is projected gradient descent at eps with a random start and steps
// of 2.5*eps/steps (Madry et al.'s choice, so the walk can cross the ball).
func PGD(eps float64, steps int, seed uint64) Attack {
	return Attack{Eps: eps, Steps: steps, StepSize: 2.5 * eps / float64(steps), RandomStart: true, Seed: seed}
}

// Options say how images reach the model.
type Options struct {
	Backend   ops.Backend
	Normalize *data.Normalize
	Batch     int // default 128
}

func (o Options) batch() int {
	if o.Batch <= 0 {
		return 128
	}
	return o.Batch
}

// Result is a perturbed dataset and, for a targeted or early-stopping
// attack, which of its images the attacked model classifies as their
// label at the end.
type Result struct {
	Data    *data.Dataset
	Correct int
	Right   []bool // per image; nil for an untargeted attack
}

// Start is the random start of image index: uniform in [-eps, eps] per
// pixel from a generator seeded with (seed, index), so a run and its
// cross-check draw the same point.
func Start(seed uint64, index, n int, eps float64) []float32 {
	r := rand.New(rand.NewPCG(seed, uint64(index)))
	out := make([]float32, n)
	for i := range out {
		out[i] = float32((2*r.Float64() - 1) * eps)
	}
	return out
}

// Perturb runs the attack on every image of ds against m and returns the
// perturbed images (clipped to [0, 1] and to the eps-ball of each
// original). m is not changed: the attack runs on a frozen copy.
func Perturb(ctx context.Context, m *ops.Model, ds *data.Dataset, a Attack, o Options) (Result, error) {
	if a.Steps < 1 || !(a.Eps > 0) || !(a.StepSize > 0) {
		return Result{}, fmt.Errorf("robust: attack needs eps > 0, steps >= 1 and a step size > 0 (got %g, %d, %g)", a.Eps, a.Steps, a.StepSize)
	}
	be, err := ops.OrDefault(o.Backend)
	if err != nil {
		return Result{}, err
	}
	frozen := m.Clone()
	for _, p := range frozen.Params() {
		p.Trainable = false
	}
	batch := o.batch()
	out := &data.Dataset{Name: ds.Name + "+attack", C: ds.C, H: ds.H, W: ds.W, X: append([]float32(nil), ds.X...), Y: ds.Y, Classes: ds.Classes}
	c := ops.NewContext(be, ops.Options{Grad: true})
	res := Result{Data: out}
	if a.Targeted || a.EarlyStop {
		res.Right = make([]bool, ds.Len())
	}
	for lo := 0; lo < ds.Len(); lo += batch {
		if err := ctx.Err(); err != nil {
			return Result{}, context.Cause(ctx)
		}
		hi := min(lo+batch, ds.Len())
		if err := perturbBatch(c, frozen, ds, out, lo, hi, a, o.Normalize, res.Right); err != nil {
			return Result{}, err
		}
	}
	for _, r := range res.Right {
		if r {
			res.Correct++
		}
	}
	return res, nil
}

// perturbBatch attacks images lo..hi of src, writing them into dst, and
// when right is not nil, marks those classified as their label at the end.
func perturbBatch(c *ops.Context, m *ops.Model, src, dst *data.Dataset, lo, hi int, a Attack, norm *data.Normalize, right []bool) error {
	size := src.SampleSize()
	x0 := src.X[lo*size : hi*size]
	x := dst.X[lo*size : hi*size]
	labels := src.Y[lo:hi]
	if a.RandomStart {
		for i := lo; i < hi; i++ {
			d := Start(a.Seed, i, size, a.Eps)
			xi := x[(i-lo)*size : (i-lo+1)*size]
			for j := range xi {
				xi[j] = clamp(xi[j]+d[j], 0, 1)
			}
		}
	}
	done := make([]bool, hi-lo)
	for range a.Steps {
		grad, preds, err := inputGrad(c, m, x, labels, src, norm)
		if err != nil {
			return err
		}
		stepImages(x, x0, grad, preds, labels, done, size, a)
	}
	if right == nil {
		return nil
	}
	_, preds, err := inputGrad(c, m, x, labels, src, norm)
	if err != nil {
		return err
	}
	for i, p := range preds {
		right[lo+i] = p == labels[i]
	}
	return nil
}

// Predict returns m's predicted class for every image of ds.
func Predict(ctx context.Context, m *ops.Model, ds *data.Dataset, o Options) ([]int, error) {
	be, err := ops.OrDefault(o.Backend)
	if err != nil {
		return nil, err
	}
	l, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: o.batch(), Normalize: o.Normalize})
	if err != nil {
		return nil, err
	}
	c := ops.NewContext(be, ops.Options{})
	it := l.Epoch(ctx, 0)
	defer it.Close()
	var out []int
	for b, ok := it.Next(); ok; b, ok = it.Next() {
		x, err := ops.FromData(b.X, b.Shape[:]...)
		if err != nil {
			return nil, err
		}
		logits, err := m.Forward1(c, x)
		if err != nil {
			return nil, err
		}
		out = append(out, ops.Argmax(logits)...)
		c.Reset()
	}
	return out, it.Err()
}

// stepImages moves each image one signed step and projects it back.
func stepImages(x, x0, grad []float32, preds, labels []int, done []bool, size int, a Attack) {
	dir := float32(a.StepSize)
	if a.Targeted {
		dir = -dir
	}
	eps := float32(a.Eps)
	for i := range done {
		if a.EarlyStop && preds[i] == labels[i] {
			done[i] = true
		}
		if done[i] {
			continue
		}
		for j := i * size; j < (i+1)*size; j++ {
			v := x[j] + dir*sign(grad[j])
			x[j] = clamp(clamp(v, x0[j]-eps, x0[j]+eps), 0, 1)
		}
	}
}

// inputGrad returns the gradient of the mean cross-entropy with respect
// to the (normalized) input, and the model's predictions.
func inputGrad(c *ops.Context, m *ops.Model, x []float32, labels []int, ds *data.Dataset, norm *data.Normalize) ([]float32, []int, error) {
	defer c.Reset()
	in := append([]float32(nil), x...)
	if norm != nil {
		norm.Apply(in, ds.C, ds.H*ds.W)
	}
	t, err := ops.FromData(in, len(labels), ds.C, ds.H, ds.W)
	if err != nil {
		return nil, nil, err
	}
	t.SetRequiresGrad(true)
	logits, err := m.Forward1(c, t)
	if err != nil {
		return nil, nil, err
	}
	preds := ops.Argmax(logits)
	var loss *ops.Tensor
	if err := ops.Guard(func() error { loss = c.CrossEntropy(logits, labels); return nil }); err != nil {
		return nil, nil, err
	}
	if err := c.Backward(loss); err != nil {
		return nil, nil, err
	}
	// Normalization divides by a positive std, which leaves the gradient's
	// sign unchanged: the sign step in pixel space is the same.
	return t.Grad().Data, preds, nil
}

func sign(v float32) float32 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func clamp(v, lo, hi float32) float32 {
	return min(max(v, lo), hi)
}
