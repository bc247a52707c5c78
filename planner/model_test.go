package planner

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
)

// shrinking is a model whose structured pruning keeps 1-ratio of the
// parameters and (1-ratio)² of the FLOPs, and remembers the scopes asked.
type shrinking struct {
	params int64
	flops  float64
	scopes *[]string
}

func (m shrinking) Params() int64          { return m.params }
func (m shrinking) FLOPsPerImage() float64 { return m.flops }
func (m shrinking) PruneStructured(ratio float64, scope string) (ModelInfo, error) {
	*m.scopes = append(*m.scopes, scope)
	k := 1 - ratio
	return shrinking{int64(float64(m.params) * k), m.flops * k * k, m.scopes}, nil
}

// TestResolvedModelFollowsTheSteps: each branch of a sweep prunes the
// model it starts from (not its sibling's), quantizing sets the bits the
// weight bytes are counted at, and costs use the model as it stands.
func TestResolvedModelFollowsTheSteps(t *testing.T) {
	var scopes []string
	var asked []string
	resolve := func(model, data *check.Step) Inputs {
		asked = append(asked, model.Verb+" "+data.Verb)
		return Inputs{Model: shrinking{1000, 1e6, &scopes}, Data: fakeData{}}
	}
	p := planText(t, "sweep.qpipe", `model cnn
data mnist
for r in [0.5, 0.75] {
  prune magnitude ratio=r structured=true scope=layer
  quantize log2 bits=4
  evaluate accuracy
}
`, newTestEnv(), Options{Resolve: resolve}, check.Options{})
	if strings.Join(asked, ",") != "model data" || strings.Join(scopes, ",") != "layer,layer" {
		t.Errorf("resolve asked with %v, pruned with scopes %v", asked, scopes)
	}
	if *p.Model.Params != 1000 || *p.Model.FLOPsPerImage != 1e6 || *p.Data.TrainImages != 100 {
		t.Errorf("bindings = %+v %+v", p.Model, p.Data)
	}
	for _, c := range []struct {
		branch string
		params int64
		flops  float64
	}{{"3.1", 500, 0.25e6}, {"3.2", 250, 0.0625e6}} {
		prune, quant, eval := node(t, p, c.branch+".1"), node(t, p, c.branch+".2"), node(t, p, c.branch+".3")
		if m := prune.Model; m.Params != c.params || m.FLOPsPerImage != c.flops || m.Bits != 32 || m.WeightBytes != 4*c.params {
			t.Errorf("%s prune: %+v", c.branch, m)
		}
		if want := fmt.Sprintf("params 1,000 → %s", count(c.params)); !strings.Contains(prune.Model.Change, want) {
			t.Errorf("%s prune change %q, want %q", c.branch, prune.Model.Change, want)
		}
		if m := quant.Model; m.Bits != 4 || m.WeightBytes != c.params/2 || !strings.Contains(m.Change, "(32 → 4 bits)") {
			t.Errorf("%s quantize: %+v", c.branch, m)
		}
		if f := eval.Cost.FLOPs; f == nil || *f != c.flops*10 {
			t.Errorf("%s evaluate FLOPs %v, want %v (10 test images)", c.branch, f, c.flops*10)
		}
	}
	var b bytes.Buffer
	if err := Text(&b, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"model: cnn (recipe): 1,000 params, 1 MFLOP per image", "change: weights 2.0 KiB → 250 B (32 → 4 bits)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text plan lacks %q:\n%s", want, b.String())
		}
	}
}

// TestUnknownInputsSayWhy: what Resolve cannot find is shown with its
// reason, and nothing model-dependent is estimated.
func TestUnknownInputsSayWhy(t *testing.T) {
	resolve := func(model, data *check.Step) Inputs {
		return Inputs{ModelUnknown: "model file m.onnx: no such file", DataUnknown: "dataset x is read when the run opens it"}
	}
	p := planText(t, "u.qpipe", "model cnn\ndata mnist\ntrain\n", newTestEnv(), Options{Resolve: resolve}, check.Options{})
	var b bytes.Buffer
	Text(&b, p)
	for _, want := range []string{"FLOPs and params unknown (model file m.onnx: no such file)", "size unknown (dataset x is read when the run opens it)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text plan lacks %q:\n%s", want, b.String())
		}
	}
	if p.Total.FLOPs != nil || node(t, p, "3").Model != nil {
		t.Errorf("an unknown model was estimated: %+v", p.Total)
	}
}
