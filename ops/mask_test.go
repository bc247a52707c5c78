package ops_test

import (
	"encoding/json"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/optim"
)

func maskedModel(t *testing.T) (*ops.Model, *ops.Param) {
	t.Helper()
	b := ops.NewBuilder("masked", 1)
	m, err := b.Build(b.Linear("fc", b.Input("x"), 4, 2, true))
	if err != nil {
		t.Fatal(err)
	}
	p := m.Param("fc.weight")
	for i := range p.Value.Data {
		p.Value.Data[i] = float32(i + 1)
	}
	keep := []bool{true, false, true, false, false, true, true, true}
	if err := p.SetMask(keep); err != nil {
		t.Fatal(err)
	}
	return m, p
}

func TestMaskZeroesAndSurvivesCloneJSONAndUpdates(t *testing.T) {
	m, p := maskedModel(t)
	want := []float32{1, 0, 3, 0, 0, 6, 7, 8}
	assertData(t, "after SetMask", p.Value.Data, want)
	if p.Zeros() != 3 {
		t.Errorf("Zeros = %d, want 3", p.Zeros())
	}
	c := m.Clone()
	if got := c.Param("fc.weight").Mask(); len(got) != 8 || got[1] || !got[0] {
		t.Errorf("clone lost the mask: %v", got)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back ops.Model
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	bp := back.Param("fc.weight")
	if err := back.SetParam("fc.weight", ops.MustFromData([]float32{1, 2, 3, 4, 5, 6, 7, 8}, 2, 4)); err != nil {
		t.Fatal(err)
	}
	assertData(t, "loaded after JSON round trip", bp.Value.Data, want)

	opt, err := optim.NewSGD(m.Trainable(), optim.SGDOptions{LR: 0.1, Momentum: 0.9, WeightDecay: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	x := ops.MustFromData([]float32{1, -1, 2, 0.5, 0.3, 0.1, -2, 1}, 2, 4)
	for range 3 {
		c := newCtx(true, true)
		y, err := m.Forward1(c, x)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Backward(c.CrossEntropy(y, []int{0, 1})); err != nil {
			t.Fatal(err)
		}
		opt.Step()
		opt.ZeroGrad()
	}
	changed := false
	for i, keep := range p.Mask() {
		if !keep && p.Value.Data[i] != 0 {
			t.Errorf("pruned weight %d = %v after SGD steps", i, p.Value.Data[i])
		}
		if keep && p.Value.Data[i] != want[i] {
			changed = true
		}
	}
	if !changed {
		t.Error("SGD did not update the kept weights: the test proves nothing")
	}
}

func TestMaskRejectsWrongLengthAndBadJSON(t *testing.T) {
	_, p := maskedModel(t)
	if err := p.SetMask(make([]bool, 3)); err == nil {
		t.Error("SetMask accepted 3 flags for 8 elements")
	}
	var m ops.Model
	bad := `{"name":"x","inputs":[0],"outputs":[0],"nodes":[{"id":0,"kind":"input","name":"x"}],"params":[{"name":"w","shape":[9]}],"masks":{"w":"AA=="}}`
	if err := json.Unmarshal([]byte(bad), &m); err == nil {
		t.Error("a 1-byte mask for 9 elements was accepted")
	}
}

func assertData(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: %v, want %v", what, got, want)
		}
	}
}
