package htmlreport

import (
	"fmt"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/qpipe/qpipe/stdlib/run"
)

// robustGroups are the bar groups, in order.
var robustGroups = []string{"clean", "shift", "corruption", "fgsm", "pgd"}

// arm is one robustness measurement of a model: a step's points.
type arm struct {
	Name   string
	Points []run.RobustPoint
}

// arms are the steps that measured robustness, named by branch (and
// line when a branch has several).
func arms(steps []run.StepReport) []arm {
	var out []arm
	count := map[string]int{}
	for _, s := range steps {
		if s.Series != nil && len(s.Series.Robustness) > 0 {
			count[s.Branch]++
		}
	}
	for _, s := range steps {
		if s.Series == nil || len(s.Series.Robustness) == 0 {
			continue
		}
		name := branchName(s.Branch)
		if count[s.Branch] > 1 {
			name += fmt.Sprintf(" line %d", s.Line)
		}
		out = append(out, arm{Name: name, Points: s.Series.Robustness})
	}
	return out
}

// groupMeans is the mean accuracy of an arm's points per group (over
// corruption names, severities and eps); groups without points are
// missing.
func groupMeans(pts []run.RobustPoint) map[string]float64 {
	sum, n := map[string]float64{}, map[string]int{}
	for _, p := range pts {
		sum[p.Group] += p.Accuracy
		n[p.Group]++
	}
	out := map[string]float64{}
	for g, s := range sum {
		out[g] = s / float64(n[g])
	}
	return out
}

// levelCurve is the mean accuracy of an arm's points of one group per
// level (severity or eps), sorted by level.
func levelCurve(pts []run.RobustPoint, group string) plotter.XYs {
	sum, n := map[float64]float64{}, map[float64]int{}
	for _, p := range pts {
		if p.Group == group {
			sum[p.Level] += p.Accuracy
			n[p.Level]++
		}
	}
	var xy plotter.XYs
	for l, s := range sum {
		xy = append(xy, plotter.XY{X: l, Y: s / float64(n[l])})
	}
	sort.Slice(xy, func(i, j int) bool { return xy[i].X < xy[j].X })
	return xy
}

// robustFigures draws the grouped bars and the severity and eps curves.
func robustFigures(r *run.Report) ([]figure, string, error) {
	as := arms(r.Steps)
	if len(as) == 0 {
		return nil, "No robustness measured in this run (evaluate robustness fills this section).", nil
	}
	bars, err := robustBars(as)
	if err != nil {
		return nil, "", err
	}
	svg, err := svgOf(max(380, 60*float64(len(as)*len(robustGroups))/2), 260, bars)
	if err != nil {
		return nil, "", err
	}
	figs := []figure{{ID: "robustness-bars", Caption: "accuracy per arm: clean, under shift, and corruptions and attacks averaged over their severities and eps", SVG: svg}}
	for _, c := range []struct {
		id, title, x string
		groups       []string
	}{{"robustness-severity", "accuracy vs corruption severity", "severity", []string{"corruption"}},
		{"robustness-eps", "accuracy vs attack eps", "eps", []string{"fgsm", "pgd"}}} {
		p := newPlot(c.title, c.x, "accuracy (%)")
		p.Y.Tick.Marker = percentTicks
		n := 0
		for ai, a := range as {
			for gi, g := range c.groups {
				xy := levelCurve(a.Points, g)
				n += len(xy)
				name := a.Name
				if len(c.groups) > 1 {
					name += " " + g
				}
				if err := line(p, xy, name, colorAt(ai), gi > 0); err != nil {
					return nil, "", err
				}
			}
		}
		if n == 0 {
			continue
		}
		svg, err := svgOf(380, 260, p)
		if err != nil {
			return nil, "", err
		}
		figs = append(figs, figure{ID: c.id, Caption: c.title + " (mean over corruption types)", SVG: svg})
	}
	return figs, "", nil
}

// robustBars is one group of bars per kind of test, one bar per arm.
func robustBars(as []arm) (*plot.Plot, error) {
	p := newPlot("robustness", "", "accuracy (%)")
	p.Y.Tick.Marker = percentTicks
	p.NominalX(robustGroups...)
	w := vg.Points(max(4, 48/float64(len(as))))
	for ai, a := range as {
		means := groupMeans(a.Points)
		vals := make(plotter.Values, len(robustGroups))
		for gi, g := range robustGroups {
			vals[gi] = means[g] // 0 (no bar) when not measured
		}
		b, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, err
		}
		b.Color, b.LineStyle.Width = colorAt(ai), 0
		b.Offset = w * vg.Length(float64(ai)-float64(len(as)-1)/2)
		p.Add(b)
		p.Legend.Add(a.Name, b)
	}
	p.Y.Min = 0
	return p, nil
}
