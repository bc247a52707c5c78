package planner

import (
	"errors"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
)

// node finds the node with the given label.
func node(t *testing.T, p *Plan, label string) *Node {
	t.Helper()
	for _, n := range p.Nodes {
		if n.Label == label {
			return n
		}
	}
	t.Fatalf("no node %s", label)
	return nil
}

// writerOf returns the label of the node n reads resource from.
func writerOf(t *testing.T, p *Plan, n *Node, resource string) string {
	t.Helper()
	for _, e := range p.Edges {
		if e.To == n.ID && e.Resource == resource {
			return p.Nodes[e.From].Label
		}
	}
	t.Fatalf("node %s has no edge for %s", n.Label, resource)
	return ""
}

func TestBranchesForkFromTheStateBeforeTheLoopAndDoNotMerge(t *testing.T) {
	p := planText(t, "fork.qpipe", `model cnn
data mnist
train
for r in [0.5, 0.7] {
  prune magnitude ratio=r
  snapshot pruned
}
evaluate accuracy
`, newTestEnv(), Options{}, check.Options{})
	for _, label := range []string{"4.1.1", "4.2.1"} {
		if got := writerOf(t, p, node(t, p, label), ResModel); got != "3" {
			t.Errorf("branch step %s reads the model from %s, want 3 (the train before the loop)", label, got)
		}
	}
	if got := node(t, p, "4.2.1").Args[0]; got != (Arg{Name: "ratio", Value: "0.7"}) {
		t.Errorf("second branch's ratio = %+v, want the loop value 0.7", got)
	}
	if got := writerOf(t, p, node(t, p, "5"), ResModel); got != "3" {
		t.Errorf("the step after the loop reads the model from %s, want 3: branches do not merge", got)
	}
	if b := node(t, p, "4.2"); b.Kind != KindBranch || b.Bind != "r=0.7" {
		t.Errorf("branch node = %s %q, want branch r=0.7", b.Kind, b.Bind)
	}
}

func TestRepeatIsUnrolledRoundAfterRound(t *testing.T) {
	p := planText(t, "rep.qpipe", `model cnn
data mnist
repeat 3 {
  train epochs=2
}
`, newTestEnv(), Options{}, check.Options{})
	rep := node(t, p, "3")
	if rep.Kind != KindRepeat || len(rep.Children) != 3 {
		t.Fatalf("repeat node %s with %d rounds, want 3", rep.Kind, len(rep.Children))
	}
	if got := writerOf(t, p, node(t, p, "3.3.1"), ResModel); got != "3.2.1" {
		t.Errorf("round 3 reads the model from %s, want round 2's 3.2.1", got)
	}
	if p.Total.TrainEpochs != 6 {
		t.Errorf("total training epochs = %v, want 3 rounds × 2", p.Total.TrainEpochs)
	}
}

func TestEpochsTimesIterationsAndTeacherPasses(t *testing.T) {
	p := planText(t, "kd.qpipe", "model cnn; data mnist; snapshot t; distill from=t iterations=3 epochs=2\n",
		newTestEnv(), Options{}, check.Options{})
	c := node(t, p, "4").Cost
	if c.TrainEpochs != 6 || c.ForwardPasses != 6 {
		t.Errorf("distill cost = %v epochs, %v forward passes; want 6 and 6 (the teacher's logits)", c.TrainEpochs, c.ForwardPasses)
	}
}

func TestPTQCalibratesInsteadOfTraining(t *testing.T) {
	p := planText(t, "ptq.qpipe", "model cnn; data mnist; quantize int8 epochs=5\nquantize int8 mode=qat epochs=5\n",
		newTestEnv(), Options{}, check.Options{})
	if c := node(t, p, "3").Cost; c.TrainEpochs != 0 || c.ForwardPasses != 1 {
		t.Errorf("ptq cost = %+v, want no training and one calibration pass", c)
	}
	if c := node(t, p, "4").Cost; c.TrainEpochs != 5 {
		t.Errorf("qat cost = %+v, want 5 training epochs", c)
	}
}

func TestCommandLineBindingsWinAndAreShown(t *testing.T) {
	opts := Options{Model: "mlp", Data: "digits"}
	p := planText(t, "bind.qpipe", "model cnn\ndata mnist\ntrain\n", newTestEnv(), opts,
		check.Options{ModelBound: true, DataBound: true})
	if p.Model != (Binding{Name: "mlp", From: FromCommand}) || p.Data != (Binding{Name: "digits", From: FromCommand}) {
		t.Errorf("bindings = %+v %+v, want both from the command line", p.Model, p.Data)
	}
	if n := node(t, p, "1"); n.Note != "overridden by --model mlp" {
		t.Errorf("model node note = %q", n.Note)
	}
	if got := writerOf(t, p, node(t, p, "3"), "data:digits"); got != "2" {
		t.Errorf("train reads data:digits from %s, want 2", got)
	}
}

func TestBindingWithoutARecipeStatementOpensThePlan(t *testing.T) {
	p := planText(t, "nobind.qpipe", "train epochs=2\nevaluate accuracy\n", newTestEnv(),
		Options{Model: "cnn", Data: "mnist"}, check.Options{ModelBound: true, DataBound: true})
	if n := node(t, p, "1"); n.Text != "model cnn" || n.Note != "bound by --model" {
		t.Errorf("first node = %q (%s), want the --model binding", n.Text, n.Note)
	}
	if got := writerOf(t, p, node(t, p, "3"), ResModel); got != "1" {
		t.Errorf("train reads the model from %s, want the binding node 1", got)
	}
}

type fakeModel struct{}

func (fakeModel) FLOPsPerImage() float64 { return 1e6 }
func (fakeModel) Params() int64          { return 1000 }

type fakeData struct{}

func (fakeData) TrainImages() int64 { return 100 }
func (fakeData) TestImages() int64  { return 10 }

func TestModelDependentCostsComeFromModelInfo(t *testing.T) {
	p := planText(t, "cost.qpipe", `model cnn
data mnist
train epochs=2
quantize log2 bits=4
evaluate accuracy
export onnx "m.onnx"
`, newTestEnv(), Options{ModelInfo: fakeModel{}, DataInfo: fakeData{}}, check.Options{})
	train := node(t, p, "3").Cost
	if *train.FLOPs != 3*2*100*1e6 || *train.Images != 200 || *train.ParamMemoryBytes != 1000*4*4 {
		t.Errorf("train cost = flops %v images %v memory %v; want 6e8, 200, 16000",
			*train.FLOPs, *train.Images, *train.ParamMemoryBytes)
	}
	eval := node(t, p, "5").Cost
	if *eval.FLOPs != 10*1e6 || *eval.ParamMemoryBytes != 4000 {
		t.Errorf("evaluate cost = flops %v memory %v; want 1e7, 4000", *eval.FLOPs, *eval.ParamMemoryBytes)
	}
	if out := node(t, p, "6").Cost.OutputBytes; out == nil || *out != 1000*4/8 {
		t.Errorf("export output = %v, want 500 bytes (1000 params at 4 bits)", out)
	}
	if *p.Total.ParamMemoryBytes != 16000 || *p.Total.FLOPs != 6e8+1e7 {
		t.Errorf("total = memory %v flops %v; want the peak 16000 and the sum 6.1e8", *p.Total.ParamMemoryBytes, *p.Total.FLOPs)
	}
}

func TestEffectsHookRefinesAStep(t *testing.T) {
	opts := Options{Effects: func(s *check.Step, e Effects) Effects {
		if s.Verb == "prune" {
			e.Writes = append(e.Writes, "metric:sparsity")
		}
		return e
	}}
	p := planText(t, "hook.qpipe", "model cnn; prune magnitude ratio=0.5\n", newTestEnv(), opts, check.Options{})
	if got := strings.Join(node(t, p, "2").Writes, " "); got != "model metric:sparsity" {
		t.Errorf("prune writes %q, want the hook's metric added", got)
	}
}

func TestUnrollingIsBounded(t *testing.T) {
	f := "model cnn; data mnist\nrepeat 50 {\n  train\n}\n"
	env := newTestEnv()
	_, err := Build(checked(t, f, env), Options{MaxNodes: 40})
	if !errors.Is(err, errTooLarge) || !strings.Contains(err.Error(), "more than 40 nodes") {
		t.Errorf("err = %v, want the node bound", err)
	}
}

// A long recipe without repeat blocks always plans: the bound is on what
// unrolling adds, not on the statements written (qpipe run executes them).
func TestLongRecipeWithoutRepeatPlans(t *testing.T) {
	f := "model cnn; data mnist\n" + strings.Repeat("evaluate accuracy\n", 200)
	p, err := Build(checked(t, f, newTestEnv()), Options{MaxNodes: 40})
	if err != nil || len(p.Nodes) != 202 {
		t.Fatalf("200 statements with MaxNodes 40: %v", err)
	}
}

func TestNoRecipeIsAnError(t *testing.T) {
	if _, err := Build(nil, Options{}); err == nil {
		t.Error("Build(nil) succeeded")
	}
}

func TestSetOverridesALetAndSaysSo(t *testing.T) {
	text := "let n = 2\nmodel cnn\ndata mnist\ntrain epochs=n\n"
	p := planText(t, "set.qpipe", text, newTestEnv(), Options{}, check.Options{Sets: map[string]string{"n": "5"}})
	let := node(t, p, "1")
	if let.Text != "let n = 5" || let.Note != "set on the command line; the recipe says 2" {
		t.Errorf("let node = %q (%s)", let.Text, let.Note)
	}
	if got := node(t, p, "4").Args[0]; got != (Arg{Name: "epochs", Value: "5"}) {
		t.Errorf("train's epochs = %+v, want the --set value 5", got)
	}
	if p.Total.TrainEpochs != 5 {
		t.Errorf("training epochs = %v, want 5", p.Total.TrainEpochs)
	}
	p = planText(t, "set.qpipe", text, newTestEnv(), Options{}, check.Options{})
	if let := node(t, p, "1"); let.Text != "let n = 2" || let.Note != "" {
		t.Errorf("let node without --set = %q (%s)", let.Text, let.Note)
	}
}
