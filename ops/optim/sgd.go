package optim

import (
	"github.com/qpipe/qpipe/ops"
)

// SGDOptions are torch.optim.SGD's arguments; Groups adds per-pattern
// overrides.
type SGDOptions struct {
	LR          float64
	Momentum    float64
	Dampening   float64
	WeightDecay float64
	Nesterov    bool
	Groups      []GroupRule
}

// SGD is stochastic gradient descent with optional momentum:
//
//	g = grad + wd·p
//	buf = momentum·buf + (1-dampening)·g   (buf = g on the first step)
//	g = g + momentum·buf if nesterov, else buf
//	p = p - lr·g
type SGD struct {
	o      SGDOptions
	lr     float64
	groups []Group
	bufs   map[*ops.Param][]float32
}

// NewSGD returns an SGD optimizer over params.
func NewSGD(params []*ops.Param, o SGDOptions) (*SGD, error) {
	groups, err := makeGroups(params, o.WeightDecay, o.Groups)
	if err != nil {
		return nil, err
	}
	return &SGD{o: o, lr: o.LR, groups: groups, bufs: map[*ops.Param][]float32{}}, nil
}

// LR returns the current learning rate.
func (s *SGD) LR() float64 { return s.lr }

// SetLR sets the learning rate.
func (s *SGD) SetLR(lr float64) { s.lr = lr }

// Groups lists the parameter groups.
func (s *SGD) Groups() []Group { return s.groups }

// ZeroGrad clears gradients.
func (s *SGD) ZeroGrad() { zeroGrads(s.groups) }

// Step applies one update.
func (s *SGD) Step() {
	for _, g := range s.groups {
		lr, wd := float32(s.lr*g.LRScale), float32(g.WeightDecay)
		for _, p := range g.Params {
			if grad := p.Grad(); grad != nil {
				s.update(p, grad.Data, lr, wd)
				p.ApplyMask() // pruned weights stay exactly zero
			}
		}
	}
}

func (s *SGD) update(p *ops.Param, grad []float32, lr, wd float32) {
	w := p.Value.Data
	h := sgdHyper{lr: lr, wd: wd, mom: float32(s.o.Momentum), damp: float32(1 - s.o.Dampening)}
	if h.mom == 0 {
		parallel(len(w), func(lo, hi int) { sgdPlain(w[lo:hi], grad[lo:hi], h) })
		return
	}
	buf, started := s.bufs[p]
	if !started {
		buf = make([]float32, len(w))
		s.bufs[p] = buf
		parallel(len(w), func(lo, hi int) { sgdFirst(w[lo:hi], grad[lo:hi], buf[lo:hi], h, s.o.Nesterov) })
		return
	}
	parallel(len(w), func(lo, hi int) { sgdMomentum(w[lo:hi], grad[lo:hi], buf[lo:hi], h, s.o.Nesterov) })
}
