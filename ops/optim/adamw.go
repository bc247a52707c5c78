package optim

import (
	"math"

	"github.com/qpipe/qpipe/ops"
)

// AdamWOptions are torch.optim.AdamW's arguments (zero Beta1, Beta2, Eps
// select 0.9, 0.999, 1e-8; WeightDecay is used as given, torch's default is
// 0.01).
type AdamWOptions struct {
	LR          float64
	Beta1       float64
	Beta2       float64
	Eps         float64
	WeightDecay float64
	Groups      []GroupRule
}

// AdamW is Adam with decoupled weight decay:
//
//	p = p·(1 - lr·wd)
//	m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²
//	p = p - lr·(m/(1-β1ᵗ)) / (sqrt(v/(1-β2ᵗ)) + eps)
type AdamW struct {
	o      AdamWOptions
	lr     float64
	groups []Group
	state  map[*ops.Param]*adamState
}

type adamState struct {
	m, v []float32
	t    int
}

// NewAdamW returns an AdamW optimizer over params.
func NewAdamW(params []*ops.Param, o AdamWOptions) (*AdamW, error) {
	if o.Beta1 == 0 {
		o.Beta1 = 0.9
	}
	if o.Beta2 == 0 {
		o.Beta2 = 0.999
	}
	if o.Eps == 0 {
		o.Eps = 1e-8
	}
	groups, err := makeGroups(params, o.WeightDecay, o.Groups)
	if err != nil {
		return nil, err
	}
	return &AdamW{o: o, lr: o.LR, groups: groups, state: map[*ops.Param]*adamState{}}, nil
}

// LR returns the current learning rate.
func (a *AdamW) LR() float64 { return a.lr }

// SetLR sets the learning rate.
func (a *AdamW) SetLR(lr float64) { a.lr = lr }

// Groups lists the parameter groups.
func (a *AdamW) Groups() []Group { return a.groups }

// ZeroGrad clears gradients.
func (a *AdamW) ZeroGrad() { zeroGrads(a.groups) }

// Step applies one update.
func (a *AdamW) Step() {
	for _, g := range a.groups {
		lr := a.lr * g.LRScale
		for _, p := range g.Params {
			if grad := p.Grad(); grad != nil {
				a.update(p, grad.Data, lr, g.WeightDecay)
				p.ApplyMask() // pruned weights stay exactly zero
			}
		}
	}
}

func (a *AdamW) update(p *ops.Param, grad []float32, lr, wd float64) {
	st := a.state[p]
	if st == nil {
		st = &adamState{m: make([]float32, len(grad)), v: make([]float32, len(grad))}
		a.state[p] = st
	}
	st.t++
	b1, b2 := float32(a.o.Beta1), float32(a.o.Beta2)
	bc1 := 1 - math.Pow(a.o.Beta1, float64(st.t))
	bc2 := 1 - math.Pow(a.o.Beta2, float64(st.t))
	h := adamHyper{
		decay: float32(1 - lr*wd), b1: b1, c1: 1 - b1, b2: b2, c2: 1 - b2,
		invBC2: float32(1 / math.Sqrt(bc2)), eps: float32(a.o.Eps), step: float32(lr / bc1),
	}
	w := p.Value.Data
	parallel(len(w), func(lo, hi int) { adamW(w[lo:hi], grad[lo:hi], st.m[lo:hi], st.v[lo:hi], h) })
}
