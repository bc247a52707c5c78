package htmlreport

import (
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"

	"github.com/qpipe/qpipe/stdlib/run"
)

func TestParetoKeepsUnbeatenPointsSortedBySize(t *testing.T) {
	nan := math.NaN()
	x := []float64{4, 1, 2, 3, 2, nan, 5}
	y := []float64{0.95, 0.80, 0.90, 0.85, 0.90, 0.99, 0.95}
	// 1 (smallest), 2 (better at size 2; its twin 4 is not better), 0
	// (best accuracy); 3 is beaten by 2, 6 by 0, 5 has no size.
	if got := pareto(x, y); !slices.Equal(got, []int{1, 2, 0}) {
		t.Errorf("front %v, want [1 2 0]", got)
	}
	if got := pareto(nil, nil); len(got) != 0 {
		t.Errorf("front of nothing %v", got)
	}
}

func entry(i int, verb, branch string, m map[string]float64) run.StepReport {
	return run.StepReport{Index: i, Verb: verb, Line: i + 1, Branch: branch, Status: run.StatusDone, Metrics: m}
}

func TestModelStatesOnePointPerMeasuredState(t *testing.T) {
	steps := []run.StepReport{
		entry(0, "model", "", nil),
		entry(1, "train", "", nil),
		entry(2, "evaluate", "", map[string]float64{"accuracy": 0.9}),
		entry(3, "evaluate", "", map[string]float64{"size_bytes": 1000, "latency_ms_b1": 2}),
		{Index: 4, Verb: "snapshot", Line: 5, Status: run.StatusDone, Summary: "snapshot teacher: 10 parameters"},
		entry(5, "quantize", "bits=2", nil),
		entry(6, "evaluate", "bits=2", map[string]float64{"accuracy": 0.7, "size_bytes": 250}),
		entry(7, "expect", "bits=2", nil),
		entry(8, "quantize", "bits=4", nil),
		entry(9, "evaluate", "bits=4", map[string]float64{"accuracy": 0.85, "size_bytes": 500}),
		{Index: 10, Verb: "train", Line: 11, Status: run.StatusFailed},
		entry(11, "evaluate", "", map[string]float64{"train_loss": 1}),
	}
	got := modelStates(steps)
	if len(got) != 3 {
		t.Fatalf("%d states, want 3: %+v", len(got), got)
	}
	want := []state{
		{Label: "snapshot teacher", Branch: "", Accuracy: 0.9, Size: 1000, LatencyMS: 2},
		{Label: "after quantize (l. 6)", Branch: "bits=2", Accuracy: 0.7, Size: 250, LatencyMS: math.NaN()},
		{Label: "after quantize (l. 9)", Branch: "bits=4", Accuracy: 0.85, Size: 500, LatencyMS: math.NaN()},
	}
	for i, w := range want {
		g := got[i]
		if g.Label != w.Label || g.Branch != w.Branch || g.Accuracy != w.Accuracy || g.Size != w.Size ||
			!(g.LatencyMS == w.LatencyMS || math.IsNaN(g.LatencyMS) && math.IsNaN(w.LatencyMS)) {
			t.Errorf("state %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestGatesAreLabelledWithTheirLineOnce(t *testing.T) {
	steps := []run.StepReport{
		{Index: 0, Verb: "expect", Line: 7, Series: &run.Series{Gate: &run.Gate{Metric: "accuracy", Op: ">=", Value: 0.985}}},
		{Index: 1, Verb: "expect", Line: 8, Series: &run.Series{Gate: &run.Gate{Metric: "size_bytes", Op: "<", Value: 2e6}}},
		{Index: 2, Verb: "train", Line: 9, Series: &run.Series{}},
		{Index: 3, Verb: "expect", Line: 7, Branch: "b=2", Series: &run.Series{Gate: &run.Gate{Metric: "accuracy", Op: ">=", Value: 0.985}}},
	}
	gs := gates(steps)
	if len(gs) != 2 || gs[0].Label != "l. 7: accuracy >= 98.50%" || gs[1].Label != "l. 8: size_bytes < 2 MB" {
		t.Errorf("gates %+v", gs)
	}
}

func TestRobustnessGroupsAndCurves(t *testing.T) {
	pts := []run.RobustPoint{
		{Group: "clean", Accuracy: 0.9},
		{Group: "corruption", Name: "noise", Level: 1, Accuracy: 0.8},
		{Group: "corruption", Name: "blur", Level: 1, Accuracy: 0.6},
		{Group: "corruption", Name: "noise", Level: 3, Accuracy: 0.4},
		{Group: "fgsm", Level: 0.1, Accuracy: 0.3},
		{Group: "fgsm", Level: 0.03, Accuracy: 0.5},
	}
	m := groupMeans(pts)
	if m["clean"] != 0.9 || math.Abs(m["corruption"]-0.6) > 1e-12 || m["fgsm"] != 0.4 || len(m) != 3 {
		t.Errorf("group means %v", m)
	}
	c := levelCurve(pts, "corruption")
	if len(c) != 2 || c[0] != (plotter.XY{X: 1, Y: 0.7}) || c[1] != (plotter.XY{X: 3, Y: 0.4}) {
		t.Errorf("severity curve %v", c)
	}
	e := levelCurve(pts, "fgsm")
	if len(e) != 2 || e[0].X != 0.03 || e[1].X != 0.1 {
		t.Errorf("eps curve %v, want sorted by eps", e)
	}
	steps := []run.StepReport{
		{Index: 1, Line: 4, Branch: "q=int8", Series: &run.Series{Robustness: pts}},
		{Index: 2, Line: 5, Branch: "q=int8", Series: &run.Series{Robustness: pts[:1]}},
		{Index: 3, Line: 4, Branch: "q=prune", Series: &run.Series{Robustness: pts[:2]}},
	}
	var names []string
	for _, a := range arms(steps) {
		names = append(names, a.Name)
	}
	if !slices.Equal(names, []string{"q=int8 line 4", "q=int8 line 5", "q=prune"}) {
		t.Errorf("arms %v", names)
	}
}

func TestStatsAndPointwiseBand(t *testing.T) {
	mean, sd, lo, hi, n := stats([]float64{1, math.NaN(), 3, 5})
	if mean != 3 || sd != 2 || lo != 1 || hi != 5 || n != 3 {
		t.Errorf("stats = %v %v %v %v %v", mean, sd, lo, hi, n)
	}
	a := plotter.XYs{{X: 1, Y: 1}, {X: 2, Y: 4}}
	b := plotter.XYs{{X: 1, Y: 3}, {X: 2, Y: 2}}
	m, l, h := pointwise([]plotter.XYs{a, b})
	if len(m) != 2 || m[0].Y != 2 || m[1].Y != 3 || l[1].Y != 2 || h[1].Y != 4 {
		t.Errorf("band %v %v %v", m, l, h)
	}
	if m, _, _ := pointwise([]plotter.XYs{a, {{X: 1, Y: 0}, {X: 3, Y: 0}}}); m != nil {
		t.Errorf("curves at other x got a mean %v", m)
	}
}

func TestMetricRowsLineUpRunsWithMeanAndSpread(t *testing.T) {
	acc := func(v float64) *float64 { return &v }
	r1 := &run.Report{Final: run.Final{Accuracy: acc(0.90)}, Steps: []run.StepReport{entry(2, "evaluate", "", map[string]float64{"accuracy": 0.90})}}
	r2 := &run.Report{Final: run.Final{Accuracy: acc(0.94)}, Steps: []run.StepReport{entry(2, "evaluate", "", map[string]float64{"accuracy": 0.94, "loss": 0.2})}}
	rows := metricRows([]Run{{Name: "a", Report: r1}, {Name: "b", Report: r2}})
	if len(rows) != 3 {
		t.Fatalf("rows %+v", rows)
	}
	f := rows[0]
	if f.Step != "final" || !slices.Equal(f.Values, []string{"90.00%", "94.00%"}) || f.Mean != "92.00%" || f.SD != "2.83 pt" || f.Spread != "90.00% – 94.00%" {
		t.Errorf("final row %+v", f)
	}
	loss := rows[2]
	if loss.Metric != "loss" || !slices.Equal(loss.Values, []string{"—", "0.2"}) || loss.SD != "" || loss.Mean != "0.2" {
		t.Errorf("loss row %+v", loss)
	}
}

func TestPlanOfReportGroupsBranches(t *testing.T) {
	r := &run.Report{Steps: []run.StepReport{
		entry(0, "model", "", nil), entry(1, "quantize", "bits=2", nil), entry(2, "evaluate", "bits=2", nil),
		entry(3, "quantize", "bits=4", nil), entry(4, "export", "", nil),
	}}
	p := planOfReport(r)
	var got []string
	for _, n := range p.Nodes {
		got = append(got, n.Label+":"+string(n.Kind)+":"+n.Verb+n.Bind)
	}
	want := "1:step:model 2:for: 2.1:branch:bits=2 2.1.1:step:quantize 2.1.2:step:evaluate 2.2:branch:bits=4 2.2.1:step:quantize 3:step:export"
	if strings.Join(got, " ") != want {
		t.Errorf("plan\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if !matches(p, r) {
		t.Error("the plan made from a report does not match it")
	}
}

func TestHighlightUsesTheEditorClasses(t *testing.T) {
	got := string(highlight([]byte("train epochs=3 # go\nexpect accuracy >= 98.5%\n")))
	for _, want := range []string{`<span class="verb">train</span>`, `<span class="arg">epochs</span>`, `<span class="assign">=</span>`,
		`<span class="number">3</span>`, `<span class="comment"># go</span>`, `<span class="keyword">expect</span>`,
		`<span class="operator">&gt;=</span>`, `<span class="percent">98.5%</span>`} {
		if !strings.Contains(got, want) {
			t.Errorf("highlighted recipe lacks %s:\n%s", want, got)
		}
	}
	if got := highlight([]byte("x <b>")); !strings.Contains(string(got), "&lt;") {
		t.Errorf("recipe text not escaped: %s", got)
	}
}

func TestStatusOfRunningFailedAndInterruptedRuns(t *testing.T) {
	r := &run.Report{Steps: []run.StepReport{entry(0, "model", "", nil), entry(1, "quantize", "bits=2", nil)}}
	full := planOfReport(&run.Report{Steps: append(slices.Clone(r.Steps), entry(2, "evaluate", "bits=2", nil))})
	if s := status(r, full); s != "running" {
		t.Errorf("2 of 3 planned steps: %s, want running", s)
	}
	if s := status(r, nil); s != "done" {
		t.Errorf("without a plan: %s, want done", s)
	}
	r.Steps[1].Status, r.Steps[1].Error = run.StatusFailed, "interrupted"
	if s := status(r, full); s != "interrupted" {
		t.Errorf("%s, want interrupted", s)
	}
	r.Steps[1].Error = "recipe:2:1: quantize: boom"
	if s := status(r, full); s != "failed" {
		t.Errorf("%s, want failed", s)
	}
}

func TestEntriesFollowTheNodeTheyName(t *testing.T) {
	full := &run.Report{Steps: []run.StepReport{
		entry(0, "model", "", nil), entry(1, "quantize", "bits=2", nil), entry(2, "quantize", "bits=4", nil),
	}}
	p := planOfReport(full)
	// A report whose entries name their nodes: the second branch's step
	// is drawn on node 2.2.1 although it is the report's second entry.
	r := &run.Report{Steps: []run.StepReport{full.Steps[0], full.Steps[2]}}
	r.Steps[0].Node, r.Steps[1].Node = "1", "2.2.1"
	got, ok := byNode(p, r)
	if !ok || len(got) != 2 {
		t.Fatalf("byNode = %v, %v", got, ok)
	}
	for id, e := range got {
		if want := map[string]string{"model": "1", "quantize": "2.2.1"}[e.Verb]; p.Nodes[id].Label != want {
			t.Errorf("%s drawn on node %s, want %s", e.Verb, p.Nodes[id].Label, want)
		}
	}
	// Without node ids (older reports), or naming another statement, the
	// entries are matched by position instead.
	r.Steps[1].Node = ""
	if _, ok := byNode(p, r); ok {
		t.Error("an entry without a node id matched")
	}
	r.Steps[1].Node = "1"
	if _, ok := byNode(p, r); ok {
		t.Error("an entry naming another statement's node matched")
	}
}
