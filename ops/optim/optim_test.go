package optim

import (
	"math"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
)

// param returns a one-element parameter with value v and gradient g.
func param(name string, v, g float32) *ops.Param {
	m := ops.NewModel("t")
	p, _ := m.AddParam(name, ops.MustFromData([]float32{v}, 1), true)
	setGrad(p, g)
	return p
}

// setGrad gives p a gradient by running a tiny backward pass: loss = g·p.
func setGrad(p *ops.Param, g float32) {
	p.Value.SetRequiresGrad(true)
	p.Value.ZeroGrad()
	c := ops.NewContext(cpu.New(cpu.Options{}), ops.Options{Grad: true})
	loss := c.MulScalar(c.SumAll(p.Value), g)
	if err := c.Backward(loss); err != nil {
		panic(err)
	}
}

func near(t *testing.T, what string, got float32, want float64) {
	t.Helper()
	if math.Abs(float64(got)-want) > 1e-6*max(1, math.Abs(want)) {
		t.Errorf("%s = %.8f, want %.8f", what, got, want)
	}
}

func TestSGDMomentumWeightDecayTwoSteps(t *testing.T) {
	p := param("w", 1, 0.5)
	opt, err := NewSGD([]*ops.Param{p}, SGDOptions{LR: 0.1, Momentum: 0.9, WeightDecay: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	opt.Step() // g = 0.5+0.1·1 = 0.6, buf = 0.6, p = 1-0.06
	near(t, "step 1", p.Value.Data[0], 0.94)
	opt.Step() // g = 0.5+0.094 = 0.594, buf = 0.54+0.594 = 1.134, p = 0.94-0.1134
	near(t, "step 2", p.Value.Data[0], 0.8266)
}

func TestSGDNesterov(t *testing.T) {
	p := param("w", 1, 0.5)
	opt, _ := NewSGD([]*ops.Param{p}, SGDOptions{LR: 0.1, Momentum: 0.9, WeightDecay: 0.1, Nesterov: true})
	opt.Step() // g = 0.6 + 0.9·0.6 = 1.14
	near(t, "step 1", p.Value.Data[0], 0.886)
	opt.Step() // g = 0.5886, buf = 1.1286, g = 0.5886+1.01574
	near(t, "step 2", p.Value.Data[0], 0.725566)
}

func TestSGDPlainIsGradientDescent(t *testing.T) {
	p := param("w", 2, -1)
	opt, _ := NewSGD([]*ops.Param{p}, SGDOptions{LR: 0.5})
	opt.Step()
	near(t, "p", p.Value.Data[0], 2.5)
	opt.ZeroGrad()
	if p.Grad().Data[0] != 0 {
		t.Fatal("ZeroGrad left a gradient")
	}
}

func TestAdamWTwoSteps(t *testing.T) {
	p := param("w", 1, 0.5)
	opt, _ := NewAdamW([]*ops.Param{p}, AdamWOptions{LR: 0.1, WeightDecay: 0.01})
	opt.Step() // p·(1-0.001), then m̂/sqrt(v̂) = 1 → -0.1
	near(t, "step 1", p.Value.Data[0], 0.899000002)
	setGrad(p, -1)
	opt.Step()
	near(t, "step 2", p.Value.Data[0], 0.9347113542385653)
}

func TestGroupsNoDecayOnBiases(t *testing.T) {
	m := ops.NewModel("t")
	w, _ := m.AddParam("fc.weight", ops.MustFromData([]float32{1, 1}, 1, 2), true)
	b, _ := m.AddParam("fc.bias", ops.MustFromData([]float32{1}, 1), true)
	for _, p := range []*ops.Param{w, b} {
		setGrad(p, 0)
	}
	opt, err := NewSGD(m.Trainable(), SGDOptions{LR: 0.1, WeightDecay: 0.5, Groups: []GroupRule{NoDecay()}})
	if err != nil {
		t.Fatal(err)
	}
	opt.Step()
	near(t, "decayed weight", w.Value.Data[0], 0.95)
	near(t, "undecayed bias", b.Value.Data[0], 1)
	if g := opt.Groups(); len(g) != 2 || len(g[1].Params) != 1 || g[1].Params[0] != b {
		t.Fatalf("groups = %+v", g)
	}
}

func TestGroupPatternAndLRScale(t *testing.T) {
	a, b := param("head.weight", 1, 1), param("body.weight", 1, 1)
	opt, _ := NewSGD([]*ops.Param{a, b}, SGDOptions{LR: 0.1, Groups: []GroupRule{{Pattern: "head.*", LRScale: 10}}})
	opt.Step()
	near(t, "head", a.Value.Data[0], 0)
	near(t, "body", b.Value.Data[0], 0.9)
}

func TestGroupRuleMatchingNothingIsAnError(t *testing.T) {
	_, err := NewAdamW([]*ops.Param{param("fc.weight", 1, 1)}, AdamWOptions{Groups: []GroupRule{{Pattern: "**.bais"}}})
	if err == nil || !strings.Contains(err.Error(), "bais") {
		t.Fatalf("err = %v", err)
	}
}

func TestSchedules(t *testing.T) {
	cases := []struct {
		name string
		s    Schedule
		step int
		want float64
	}{
		{"cosine start", Cosine{Steps: 10}, 0, 1},
		{"cosine middle", Cosine{Steps: 10}, 5, 0.5},
		{"cosine end with floor", Cosine{Steps: 10, MinFactor: 0.1}, 10, 0.1},
		{"cosine quarter", Cosine{Steps: 4}, 1, (1 + math.Cos(math.Pi/4)) / 2},
		{"step before", Step{Every: 3, Gamma: 0.1}, 2, 1},
		{"step after two", Step{Every: 3, Gamma: 0.1}, 6, 0.01},
		{"multistep before", MultiStep{Milestones: []int{5, 8}, Gamma: 0.1}, 4, 1},
		{"multistep at first", MultiStep{Milestones: []int{5, 8}, Gamma: 0.1}, 5, 0.1},
		{"multistep past both", MultiStep{Milestones: []int{5, 8}, Gamma: 0.1}, 9, 0.01},
		{"warmup ramp", Warmup{Steps: 4, StartFactor: 0.2}, 2, 0.6},
		{"warmup then cosine", Warmup{Steps: 4, Then: Cosine{Steps: 10}}, 9, 0.5},
		{"product", Product{Step{Every: 1, Gamma: 0.5}, Warmup{Steps: 2}}, 1, 0.25},
	}
	for _, c := range cases {
		if got := c.s.Factor(c.step); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: Factor(%d) = %v, want %v", c.name, c.step, got, c.want)
		}
	}
}

func TestSchedulerDrivesLR(t *testing.T) {
	p := param("w", 0, 0)
	opt, _ := NewSGD([]*ops.Param{p}, SGDOptions{LR: 1})
	sc := NewScheduler(opt, Warmup{Steps: 2, StartFactor: 0.5})
	if opt.LR() != 0.5 {
		t.Fatalf("step 0 lr = %v", opt.LR())
	}
	sc.Step()
	sc.Step()
	if opt.LR() != 1 || sc.StepCount() != 2 {
		t.Fatalf("step 2 lr = %v", opt.LR())
	}
}
