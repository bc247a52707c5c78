// Package optim owns the optimizers that update model parameters from
// their gradients — SGD (momentum, Nesterov, weight decay) and AdamW, both
// with PyTorch's update rules — parameter groups chosen by name pattern,
// and learning-rate schedules (cosine, step, linear warmup) that compose.
package optim

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/qpipe/qpipe/ops"
)

// Optimizer updates parameters from their accumulated gradients.
type Optimizer interface {
	// Step applies one update to every parameter that has a gradient.
	Step()
	// ZeroGrad clears the gradients of the optimizer's parameters.
	ZeroGrad()
	// LR is the current base learning rate; SetLR changes it (schedules).
	LR() float64
	SetLR(lr float64)
	// Groups lists the parameter groups with their settings.
	Groups() []Group
}

// GroupRule overrides settings for the parameters it selects; the first
// matching rule wins, unmatched parameters use the optimizer's options.
type GroupRule struct {
	// Pattern is a glob over parameter names (see ops.MatchName); empty
	// matches every name.
	Pattern string
	// MaxDims, when > 0, restricts the rule to parameters with at most that
	// many axes (MaxDims 1 selects biases and norm gains).
	MaxDims int
	// WeightDecay replaces the optimizer's weight decay.
	WeightDecay float64
	// LRScale multiplies the learning rate (0 means 1).
	LRScale float64
}

func (r GroupRule) matches(p *ops.Param) bool {
	if r.MaxDims > 0 && p.Value.Dims() > r.MaxDims {
		return false
	}
	return r.Pattern == "" || ops.MatchName(r.Pattern, p.Name)
}

// NoDecay is the usual rule: no weight decay on biases and norm weights
// (every parameter with at most one axis).
func NoDecay() GroupRule { return GroupRule{MaxDims: 1} }

// Group is a set of parameters sharing settings.
type Group struct {
	Params      []*ops.Param
	WeightDecay float64
	LRScale     float64
	Rule        int // index of the rule that made the group, -1 for the default
}

// makeGroups splits params by rules. A rule that selects no parameter is
// an error: a pattern that matches nothing is almost always a typo.
func makeGroups(params []*ops.Param, decay float64, rules []GroupRule) ([]Group, error) {
	groups := make([]Group, len(rules)+1)
	groups[0] = Group{WeightDecay: decay, LRScale: 1, Rule: -1}
	for i, r := range rules {
		groups[i+1] = Group{WeightDecay: r.WeightDecay, LRScale: r.LRScale, Rule: i}
		if r.LRScale == 0 {
			groups[i+1].LRScale = 1
		}
	}
	for _, p := range params {
		g := 0
		for i, r := range rules {
			if r.matches(p) {
				g = i + 1
				break
			}
		}
		groups[g].Params = append(groups[g].Params, p)
	}
	out := groups[:1]
	for i, g := range groups[1:] {
		if len(g.Params) == 0 {
			return nil, fmt.Errorf("optim: group rule %d (pattern %q, max dims %d) matches no parameter", i, rules[i].Pattern, rules[i].MaxDims)
		}
		out = append(out, g)
	}
	return out, nil
}

// zeroGrads clears gradients of all params in groups.
func zeroGrads(groups []Group) {
	for _, g := range groups {
		for _, p := range g.Params {
			p.Value.ZeroGrad()
		}
	}
}

// minPerGoroutine is the fewest elements an update loop hands to a
// goroutine of its own: the vector loops stream them in a few
// microseconds, less than starting and joining the goroutine costs, so
// small parameters (all of a small model's) update on the caller.
const minPerGoroutine = 1 << 18

// parallel runs fn over [0, n) in up to GOMAXPROCS contiguous chunks of
// at least minPerGoroutine elements, cut at multiples of 16 (the vector
// loops' width; the updates are elementwise, so the cut never changes a
// result).
func parallel(n int, fn func(lo, hi int)) {
	k := min(runtime.GOMAXPROCS(0), n/minPerGoroutine)
	if k <= 1 {
		fn(0, n)
		return
	}
	cut := func(i int) int { return min(n, (n*i/k+15)&^15) }
	var wg sync.WaitGroup
	for i := 1; i < k; i++ {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(cut(i), cut(i+1))
	}
	fn(0, cut(1))
	wg.Wait()
}
