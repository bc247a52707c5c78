package htmlreport

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/stdlib/run"
)

// Run is one run on a comparison page.
type Run struct {
	// Name labels the run (its output directory).
	Name   string
	Report *run.Report
}

// comparison is the template's data for a comparison page.
type comparison struct {
	Runs    []runInfo
	Columns []string
	Rows    []metricRow
	Figures []figure
	Note    string
}

type runInfo struct{ Name, Recipe, Device, Seed, Status, Wall string }

// metricRow is one metric of one step across the runs, with the mean and
// the sample standard deviation of the runs that measured it.
type metricRow struct {
	Step, Metric     string
	Values           []string
	Mean, SD, Spread string
}

// Compare writes one page comparing runs (the same recipe with other
// seeds or settings): metrics side by side with mean and spread, training
// curves overlaid with their mean.
func Compare(w io.Writer, runs []Run) error {
	v, err := buildComparison(runs)
	if err != nil {
		return err
	}
	return tmpl.Execute(w, v)
}

// WriteComparison renders Compare to path atomically.
func WriteComparison(path string, runs []Run) error {
	var b bytes.Buffer
	if err := Compare(&b, runs); err != nil {
		return err
	}
	return writeAtomic(path, b.Bytes())
}

func buildComparison(runs []Run) (*view, error) {
	c := &comparison{}
	for _, r := range runs {
		c.Columns = append(c.Columns, r.Name)
		c.Runs = append(c.Runs, runInfo{Name: r.Name, Recipe: r.Report.Recipe, Device: r.Report.Device, Seed: fmt.Sprint(r.Report.Seed),
			Status: status(r.Report, nil), Wall: seconds(wall(r.Report))})
	}
	c.Rows = metricRows(runs)
	figs, err := overlayFigures(runs)
	if err != nil {
		return nil, err
	}
	c.Figures = figs
	if len(figs) == 0 {
		c.Note = "No training step shared by these runs."
	}
	return &view{Title: fmt.Sprintf("%d runs", len(runs)), Compare: c}, nil
}

// stepKey identifies a step across runs of one recipe.
func stepKey(s run.StepReport) string {
	k := fmt.Sprintf("%d %s (line %d", s.Index, s.Verb, s.Line)
	if s.Branch != "" {
		k += ", " + s.Branch
	}
	if s.Round > 0 {
		k += fmt.Sprintf(", round %d", s.Round)
	}
	return k + ")"
}

// metricRows lists the final metrics, then every step's metrics in step
// order, each across the runs.
func metricRows(runs []Run) []metricRow {
	type key struct {
		order      int
		step, name string
	}
	vals := map[key][]float64{}
	seen := map[key]bool{}
	var keys []key
	put := func(k key, i int, v float64) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
			vals[k] = nanSlice(len(runs))
		}
		vals[k][i] = v
	}
	for i, r := range runs {
		for _, f := range finalValues(r.Report) {
			put(key{-1, "final", f.name}, i, f.v)
		}
		for _, s := range r.Report.Steps {
			for _, m := range run.SortedKeys(s.Metrics) {
				put(key{s.Index, stepKey(s), m}, i, s.Metrics[m])
			}
		}
	}
	sort.SliceStable(keys, func(a, b int) bool { return keys[a].order < keys[b].order })
	rows := make([]metricRow, len(keys))
	for j, k := range keys {
		rows[j] = row(k.step, k.name, vals[k])
	}
	return rows
}

type named struct {
	name string
	v    float64
}

func finalValues(r *run.Report) []named {
	var out []named
	if a := r.Final.Accuracy; a != nil {
		out = append(out, named{"accuracy", *a})
	}
	if s := r.Final.SizeBytes; s != nil {
		out = append(out, named{"size_bytes", float64(*s)})
	}
	for _, b := range []string{"b1", "b64"} {
		if v, ok := r.Final.LatencyMS[b]; ok {
			out = append(out, named{"latency_ms_" + b, v})
		}
	}
	return out
}

func nanSlice(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = math.NaN()
	}
	return s
}

func row(step, metric string, vs []float64) metricRow {
	r := metricRow{Step: step, Metric: metric}
	for _, v := range vs {
		if math.IsNaN(v) {
			r.Values = append(r.Values, "—")
		} else {
			r.Values = append(r.Values, check.FormatMetric(metric, v))
		}
	}
	mean, sd, lo, hi, n := stats(vs)
	if n > 0 {
		r.Mean = check.FormatMetric(metric, mean)
		r.Spread = check.FormatMetric(metric, lo) + " – " + check.FormatMetric(metric, hi)
	}
	if n > 1 {
		r.SD = check.FormatMetric(metric, sd)
		if metric == "accuracy" || len(metric) > 8 && metric[len(metric)-8:] == "accuracy" {
			r.SD = fmt.Sprintf("%.2f pt", sd*100)
		}
	}
	return r
}

// stats are the mean, sample standard deviation, minimum and maximum of
// the finite values and their count.
func stats(vs []float64) (mean, sd, lo, hi float64, n int) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		if !math.IsNaN(v) {
			mean += v
			lo, hi = min(lo, v), max(hi, v)
			n++
		}
	}
	if n == 0 {
		return math.NaN(), math.NaN(), math.NaN(), math.NaN(), 0
	}
	mean /= float64(n)
	if n > 1 {
		for _, v := range vs {
			if !math.IsNaN(v) {
				sd += (v - mean) * (v - mean)
			}
		}
		sd = math.Sqrt(sd / float64(n-1))
	}
	return mean, sd, lo, hi, n
}

// overlayFigures draws, for every training step the runs share, the loss
// of each run overlaid with their mean and min–max band, and the
// validation (else train) accuracy per epoch.
func overlayFigures(runs []Run) ([]figure, error) {
	byKey := map[string][]*run.Series{}
	var order []string
	index := map[string]int{}
	for i, r := range runs {
		for _, s := range r.Report.Steps {
			if !isTraining(s) {
				continue
			}
			k := stepKey(s)
			if byKey[k] == nil {
				byKey[k] = make([]*run.Series, len(runs))
				order = append(order, k)
				index[k] = s.Index
			}
			byKey[k][i] = s.Series
		}
	}
	var figs []figure
	for _, k := range order {
		loss, acc, err := overlayPanels(runs, byKey[k])
		if err != nil {
			return nil, err
		}
		svg, err := svgOf(760, 250, loss, acc)
		if err != nil {
			return nil, err
		}
		figs = append(figs, figure{ID: fmt.Sprintf("compare-%d", index[k]), Caption: k + ": every run, their mean (black) and min–max band", SVG: svg})
	}
	return figs, nil
}

func overlayPanels(runs []Run, ss []*run.Series) (*plot.Plot, *plot.Plot, error) {
	loss := newPlot("loss", "optimizer step", "loss")
	acc := newPlot("accuracy per epoch", "epoch", "accuracy (%)")
	var curves, accs []plotter.XYs
	for i, s := range ss {
		if s == nil {
			continue
		}
		xy, a := stepCurve(s), epochAccuracy(s)
		curves, accs = append(curves, xy), append(accs, a)
		if err := thin(loss, xy, runs[i].Name, colorAt(i)); err != nil {
			return nil, nil, err
		}
		if err := thin(acc, a, runs[i].Name, colorAt(i)); err != nil {
			return nil, nil, err
		}
	}
	fitFraction(&acc.Y, accs...)
	for _, pc := range []struct {
		p  *plot.Plot
		cs []plotter.XYs
	}{{loss, curves}, {acc, accs}} {
		if err := meanBand(pc.p, pc.cs); err != nil {
			return nil, nil, err
		}
	}
	return loss, acc, nil
}

func stepCurve(s *run.Series) plotter.XYs {
	var xy plotter.XYs
	for _, p := range s.Steps {
		xy = append(xy, plotter.XY{X: float64(p.Step), Y: p.Loss})
	}
	return finite(xy)
}

func epochAccuracy(s *run.Series) plotter.XYs {
	var xy plotter.XYs
	for _, e := range s.Epochs {
		y := e.TrainAccuracy
		if e.ValAccuracy != nil {
			y = *e.ValAccuracy
		}
		xy = append(xy, plotter.XY{X: float64(e.Epoch), Y: y})
	}
	return finite(xy)
}

func thin(p *plot.Plot, xy plotter.XYs, name string, c color.Color) error {
	if len(xy) == 0 {
		return nil
	}
	l, err := plotter.NewLine(xy)
	if err != nil {
		return err
	}
	l.Color, l.Width = c, vg.Points(0.8)
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}

// meanBand draws the pointwise mean and min–max band of curves sampled
// at the same x (runs of one recipe); nothing for fewer than two.
func meanBand(p *plot.Plot, cs []plotter.XYs) error {
	mean, lo, hi := pointwise(cs)
	if len(mean) == 0 {
		return nil
	}
	band := append(plotter.XYs{}, lo...)
	for i := len(hi) - 1; i >= 0; i-- {
		band = append(band, hi[i])
	}
	poly, err := plotter.NewPolygon(band)
	if err != nil {
		return err
	}
	poly.Color, poly.LineStyle.Width = color.RGBA{0, 0, 0, 28}, 0
	p.Add(poly)
	l, err := plotter.NewLine(mean)
	if err != nil {
		return err
	}
	l.Color, l.Width = paretoColor, vg.Points(2)
	p.Add(l)
	p.Legend.Add("mean", l)
	return nil
}

// pointwise is the mean, minimum and maximum of curves that share their
// x values; empty unless there are at least two such curves.
func pointwise(cs []plotter.XYs) (mean, lo, hi plotter.XYs) {
	if len(cs) < 2 {
		return nil, nil, nil
	}
	for _, c := range cs[1:] {
		if len(c) != len(cs[0]) {
			return nil, nil, nil
		}
		for i := range c {
			if c[i].X != cs[0][i].X {
				return nil, nil, nil
			}
		}
	}
	for i, p := range cs[0] {
		ys := make([]float64, len(cs))
		for j, c := range cs {
			ys[j] = c[i].Y
		}
		m, _, l, h, _ := stats(ys)
		mean, lo, hi = append(mean, plotter.XY{X: p.X, Y: m}), append(lo, plotter.XY{X: p.X, Y: l}), append(hi, plotter.XY{X: p.X, Y: h})
	}
	return mean, lo, hi
}

// RunName is how a run directory is named on a comparison page.
func RunName(dir string) string { return filepath.Base(filepath.Clean(dir)) }
