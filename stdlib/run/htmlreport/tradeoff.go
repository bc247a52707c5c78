package htmlreport

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/stdlib/run"
)

// state is one model state's measurements: a point of the trade-off
// plots. Unmeasured figures are NaN.
type state struct {
	Label, Branch             string
	Accuracy, Size, LatencyMS float64
}

// keepsModel are the verbs that measure, name or write the model without
// changing it: their steps belong to the state before them.
var keepsModel = map[string]bool{"evaluate": true, "expect": true, "snapshot": true, "export": true, "let": true}

// modelStates walks the finished steps in order and returns one state per
// model state that an evaluate measured: a step that changes the model
// starts a new state in its branch, measurements of the same state merge,
// and a snapshot names it.
func modelStates(steps []run.StepReport) []state {
	var out []state
	cur := map[string]int{} // branch → index in out of its current state, -1 none
	after := map[string]string{}
	for _, s := range steps {
		if s.Status != run.StatusDone && s.Status != run.StatusRestored && s.Status != "cached" {
			continue
		}
		i, ok := cur[s.Branch]
		if !ok {
			i = -1
		}
		switch {
		case !keepsModel[s.Verb]:
			cur[s.Branch], after[s.Branch] = -1, fmt.Sprintf("after %s (l. %d)", s.Verb, s.Line)
		case s.Verb == "evaluate" && measures(s.Metrics):
			if i < 0 {
				out = append(out, state{Label: after[s.Branch], Branch: s.Branch, Accuracy: math.NaN(), Size: math.NaN(), LatencyMS: math.NaN()})
				i = len(out) - 1
				cur[s.Branch] = i
			}
			merge(&out[i], s.Metrics)
		case s.Verb == "snapshot" && i >= 0:
			out[i].Label = snapshotName(s)
		}
	}
	return out
}

func measures(m map[string]float64) bool {
	_, a := m["accuracy"]
	_, s := m["size_bytes"]
	_, l := m["latency_ms_b1"]
	return a || s || l
}

func merge(st *state, m map[string]float64) {
	if v, ok := m["accuracy"]; ok {
		st.Accuracy = v
	}
	if v, ok := m["size_bytes"]; ok {
		st.Size = v
	}
	if v, ok := m["latency_ms_b1"]; ok {
		st.LatencyMS = v
	}
}

// snapshotName reads the name from a snapshot step's summary
// ("snapshot NAME: ...").
func snapshotName(s run.StepReport) string {
	var name string
	if _, err := fmt.Sscanf(s.Summary, "snapshot %s", &name); err == nil && len(name) > 1 {
		return "snapshot " + name[:len(name)-1]
	}
	return label(s)
}

// pareto returns the indices of the points no other point beats — one
// with x no larger and y no smaller, better in at least one — sorted by
// x. Points with a NaN coordinate take no part.
func pareto(x, y []float64) []int {
	var idx []int
	for i := range x {
		if !math.IsNaN(x[i]) && !math.IsNaN(y[i]) {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool {
		if x[idx[a]] != x[idx[b]] {
			return x[idx[a]] < x[idx[b]]
		}
		return y[idx[a]] > y[idx[b]]
	})
	var front []int
	best := math.Inf(-1)
	for _, i := range idx {
		if y[i] > best {
			front = append(front, i)
			best = y[i]
		}
	}
	return front
}

// gate is an expect threshold with the step that set it.
type gate struct {
	run.Gate
	Label string
}

// gates are the expect thresholds of the steps, once each: the same
// line with the same threshold in several branches is one gate.
func gates(steps []run.StepReport) []gate {
	var out []gate
	seen := map[string]bool{}
	for _, s := range steps {
		if s.Series != nil && s.Series.Gate != nil {
			g := s.Series.Gate
			l := fmt.Sprintf("l. %d: %s %s %s", s.Line, g.Metric, g.Op, gateValue(*g))
			if !seen[l] {
				seen[l] = true
				out = append(out, gate{Gate: *g, Label: l})
			}
		}
	}
	return out
}

func gateValue(g run.Gate) string {
	switch g.Metric {
	case "size_bytes":
		return bytesText(g.Value)
	case "latency_ms_b1":
		return fmt.Sprintf("%.3g ms", g.Value)
	}
	return check.FormatMetric(g.Metric, g.Value)
}

// tradeoffFigures draws accuracy against size and against latency.
func tradeoffFigures(r *run.Report) ([]figure, string, error) {
	states := modelStates(r.Steps)
	gs := gates(r.Steps)
	var figs []figure
	for _, axis := range []struct {
		id, metric, title string
		x                 func(state) float64
	}{
		{"tradeoff-size", "size_bytes", "accuracy vs size", func(s state) float64 { return s.Size }},
		{"tradeoff-latency", "latency_ms_b1", "accuracy vs latency (batch 1)", func(s state) float64 { return s.LatencyMS }},
	} {
		x, y := make([]float64, len(states)), make([]float64, len(states))
		for i, s := range states {
			x[i], y[i] = axis.x(s), s.Accuracy
		}
		front := pareto(x, y)
		if len(front) == 0 {
			continue
		}
		p, err := tradeoffPlot(axis.title, axis.metric, states, x, y, front, gs)
		if err != nil {
			return nil, "", err
		}
		svg, err := svgOf(380, 280, p)
		if err != nil {
			return nil, "", err
		}
		figs = append(figs, figure{ID: axis.id, Caption: fmt.Sprintf("%s: %s, %s on the Pareto front (black), expect gates in red",
			axis.title, plural(len(states), "model state", "model states"), plural(len(front), "point", "points")), SVG: svg})
	}
	if len(figs) == 0 {
		return nil, "No model state measured both accuracy and size or latency (evaluate accuracy size latency draws these plots).", nil
	}
	return figs, "", nil
}

// tradeoffPlot draws the states (one colour per branch), the front and
// the gates on the plotted metric and on accuracy.
func tradeoffPlot(title, metric string, states []state, x, y []float64, front []int, gs []gate) (*plot.Plot, error) {
	scale, unit := 1.0, "ms"
	if metric == "size_bytes" {
		scale, unit = unitScale(maxFinite(x))
	}
	p := newPlot(title, map[bool]string{true: "size (" + unit + ")", false: "latency (ms)"}[metric == "size_bytes"], "accuracy (%)")
	p.Y.Tick.Marker = percentTicks
	branches := map[string]int{}
	var order []string
	for _, s := range states {
		if _, ok := branches[s.Branch]; !ok {
			branches[s.Branch] = len(order)
			order = append(order, s.Branch)
		}
	}
	for bi, b := range order {
		var xy plotter.XYs
		var names []string
		for i, s := range states {
			if s.Branch == b && !math.IsNaN(x[i]) && !math.IsNaN(y[i]) {
				xy = append(xy, plotter.XY{X: x[i] / scale, Y: y[i]})
				names = append(names, s.Label)
			}
		}
		if err := scatter(p, xy, names, branchName(b), bi, len(states) <= 12); err != nil {
			return nil, err
		}
	}
	var fxy plotter.XYs
	for _, i := range front {
		fxy = append(fxy, plotter.XY{X: x[i] / scale, Y: y[i]})
	}
	if err := frontLine(p, fxy); err != nil {
		return nil, err
	}
	ys := plotter.XYs{}
	for _, v := range y {
		if !math.IsNaN(v) {
			ys = append(ys, plotter.XY{Y: v})
		}
	}
	for _, g := range gs {
		if g.Metric == "accuracy" {
			ys = append(ys, plotter.XY{Y: g.Value})
		}
	}
	fitFraction(&p.Y, ys)
	x0, x1 := span(x, scale)
	for _, g := range gs {
		if g.Metric == metric {
			x0, x1 = min(x0, g.Value/scale), max(x1, g.Value/scale)
		}
	}
	// The legend sits in the empty band right of the data.
	p.X.Min, p.X.Max = x0, x1+0.6*(x1-x0)
	return p, gateLines(p, metric, scale, gs, x0, p.X.Max, p.Y.Min, p.Y.Max)
}

func branchName(b string) string {
	if b == "" {
		return "main"
	}
	return b
}

func maxFinite(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		if !math.IsNaN(x) {
			m = max(m, x)
		}
	}
	return m
}

// scatter adds points named in the legend, labelled with names when
// labelled.
func scatter(p *plot.Plot, xy plotter.XYs, names []string, legend string, ci int, labelled bool) error {
	if len(xy) == 0 {
		return nil
	}
	s, err := plotter.NewScatter(xy)
	if err != nil {
		return err
	}
	s.Color, s.Radius = colorAt(ci), vg.Points(3.5)
	p.Add(s)
	p.Legend.Add(legend, s)
	if !labelled {
		return nil
	}
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: xy, Labels: names})
	if err != nil {
		return err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].Font = plot.DefaultFont
		l.TextStyle[i].Font.Size = vg.Points(7)
		l.TextStyle[i].Color = colorAt(ci)
	}
	l.Offset = vg.Point{X: vg.Points(4), Y: vg.Points(3)}
	p.Add(l)
	return nil
}

func frontLine(p *plot.Plot, xy plotter.XYs) error {
	l, err := plotter.NewLine(xy)
	if err != nil {
		return err
	}
	l.Color, l.Width, l.StepStyle = paretoColor, vg.Points(1), plotter.PostStep
	rings, err := plotter.NewScatter(xy)
	if err != nil {
		return err
	}
	rings.Color, rings.Radius, rings.Shape = paretoColor, vg.Points(6), draw.RingGlyph{}
	p.Add(l, rings)
	p.Legend.Add("Pareto front", l, rings)
	return nil
}

// gateLines draws accuracy gates across [x0, x1] and the plotted
// metric's gates upright over [y0, y1].
func gateLines(p *plot.Plot, metric string, scale float64, gs []gate, x0, x1, y0, y1 float64) error {
	for _, g := range gs {
		var xy plotter.XYs
		switch g.Metric {
		case "accuracy":
			xy = plotter.XYs{{X: x0, Y: g.Value}, {X: x1, Y: g.Value}}
		case metric:
			v := g.Value / scale
			xy = plotter.XYs{{X: v, Y: y0}, {X: v, Y: y1}}
		default:
			continue
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return err
		}
		l.Color, l.Width, l.Dashes = gateColor, vg.Points(1.2), []vg.Length{vg.Points(5), vg.Points(3)}
		p.Add(l)
		p.Legend.Add(g.Label, l)
	}
	return nil
}

// span is the finite range of xs/scale, padded so a lone point gets width.
func span(xs []float64, scale float64) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		if !math.IsNaN(x) {
			lo, hi = min(lo, x/scale), max(hi, x/scale)
		}
	}
	pad := (hi - lo) * 0.05
	if pad == 0 {
		pad = math.Max(math.Abs(hi)*0.05, 1e-3)
	}
	return lo - pad, hi + pad
}
