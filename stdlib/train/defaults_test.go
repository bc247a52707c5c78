package train

import "testing"

func TestAdamWDecayDefaultsAndExplicitZero(t *testing.T) {
	o, err := Options{Optimizer: "adamw"}.withDefaults()
	if err != nil || o.WeightDecay != 0.01 {
		t.Fatalf("adamw default weight decay %v (err %v), want 0.01", o.WeightDecay, err)
	}
	o, err = Options{Optimizer: "adamw", NoWeightDecay: true}.withDefaults()
	if err != nil || o.WeightDecay != 0 {
		t.Fatalf("adamw with NoWeightDecay has weight decay %v (err %v), want 0", o.WeightDecay, err)
	}
}

func TestStepScheduleDecaysAtHalfAndThreeQuarters(t *testing.T) {
	o, err := Options{Schedule: "step", Epochs: 4}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSchedule(o, 10) // 40 steps: decays at 20 and 30
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		step int
		want float64
	}{{0, 1}, {19, 1}, {20, 0.1}, {29, 0.1}, {30, 0.01}, {39, 0.01}} {
		if got := s.Factor(c.step); got < c.want*0.999999 || got > c.want*1.000001 {
			t.Errorf("factor at step %d = %v, want %v", c.step, got, c.want)
		}
	}
}
