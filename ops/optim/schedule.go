package optim

import "math"

// Schedule maps a step number (0-based) to a learning-rate multiplier.
type Schedule interface {
	Factor(step int) float64
}

// Constant keeps the base rate.
type Constant struct{}

// Factor is 1.
func (Constant) Factor(int) float64 { return 1 }

// Cosine anneals from 1 to MinFactor over Steps steps (torch's
// CosineAnnealingLR with eta_min = MinFactor·base), then stays there.
type Cosine struct {
	Steps     int
	MinFactor float64
}

// Factor is MinFactor + (1-MinFactor)·(1+cos(π·step/Steps))/2.
func (c Cosine) Factor(step int) float64 {
	if c.Steps <= 0 || step >= c.Steps {
		return c.MinFactor
	}
	return c.MinFactor + (1-c.MinFactor)*(1+math.Cos(math.Pi*float64(step)/float64(c.Steps)))/2
}

// Step multiplies the rate by Gamma every Every steps (torch's StepLR).
type Step struct {
	Every int
	Gamma float64
}

// Factor is Gamma^(step/Every).
func (s Step) Factor(step int) float64 {
	if s.Every <= 0 {
		return 1
	}
	return math.Pow(s.Gamma, float64(step/s.Every))
}

// MultiStep multiplies the rate by Gamma at each milestone step (torch's
// MultiStepLR); Milestones are ascending.
type MultiStep struct {
	Milestones []int
	Gamma      float64
}

// Factor is Gamma^(number of milestones <= step).
func (s MultiStep) Factor(step int) float64 {
	n := 0
	for _, m := range s.Milestones {
		if step >= m {
			n++
		}
	}
	return math.Pow(s.Gamma, float64(n))
}

// Warmup ramps linearly from StartFactor to 1 over Steps steps, then
// follows Then (nil: constant), whose step count starts after the warmup.
type Warmup struct {
	Steps       int
	StartFactor float64
	Then        Schedule
}

// Factor is the warmup ramp, then Then.Factor(step-Steps).
func (w Warmup) Factor(step int) float64 {
	if step < w.Steps {
		return w.StartFactor + (1-w.StartFactor)*float64(step)/float64(w.Steps)
	}
	if w.Then == nil {
		return 1
	}
	return w.Then.Factor(step - w.Steps)
}

// Product multiplies schedules (e.g. a step decay under a cosine).
type Product []Schedule

// Factor is the product of the factors.
func (p Product) Factor(step int) float64 {
	f := 1.0
	for _, s := range p {
		f *= s.Factor(step)
	}
	return f
}

// Scheduler drives an optimizer's learning rate from a schedule.
type Scheduler struct {
	Opt   Optimizer
	Base  float64
	Sched Schedule
	step  int
}

// NewScheduler starts a schedule at step 0 with the optimizer's current
// rate as the base, and sets the step-0 rate.
func NewScheduler(opt Optimizer, s Schedule) *Scheduler {
	sc := &Scheduler{Opt: opt, Base: opt.LR(), Sched: s}
	opt.SetLR(sc.Base * s.Factor(0))
	return sc
}

// Step advances one step and sets the new rate; call it after each
// optimizer step.
func (s *Scheduler) Step() {
	s.step++
	s.Opt.SetLR(s.Base * s.Sched.Factor(s.step))
}

// StepCount is the number of Step calls so far.
func (s *Scheduler) StepCount() int { return s.step }
