package htmlreport

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/qpipe/qpipe/stdlib/run"
)

// maxNamedLayers is how many layers get their names on the x axis;
// more are numbered.
const maxNamedLayers = 24

// layerFigures draws, for every step that reported its layers (quantize,
// prune), bit width, sparsity and weight range with the clipping
// threshold per layer.
func layerFigures(r *run.Report) ([]figure, string, error) {
	var figs []figure
	for _, s := range r.Steps {
		if s.Series == nil || len(s.Series.Layers) == 0 {
			continue
		}
		ps, err := layerPanels(s.Series.Layers)
		if err != nil {
			return nil, "", err
		}
		w := max(240, 14*float64(len(s.Series.Layers))+90)
		svg, err := svgOf(3*w, 240, ps...)
		if err != nil {
			return nil, "", err
		}
		figs = append(figs, figure{ID: fmt.Sprintf("layers-%d", s.Index),
			Caption: fmt.Sprintf("%s: %s", label(s), plural(len(s.Series.Layers), "layer", "layers")), SVG: svg})
	}
	if len(figs) == 0 {
		return nil, "No step reported per-layer statistics (quantize and prune do).", nil
	}
	return figs, "", nil
}

func layerPanels(ls []run.LayerStat) ([]*plot.Plot, error) {
	bits, sparsity := make(plotter.Values, len(ls)), make(plotter.Values, len(ls))
	var lo, hi, clip plotter.XYs
	for i, l := range ls {
		bits[i], sparsity[i] = float64(l.Bits), l.Sparsity
		lo, hi = append(lo, plotter.XY{X: float64(i), Y: l.Min}), append(hi, plotter.XY{X: float64(i), Y: l.Max})
		if l.Clip > 0 {
			clip = append(clip, plotter.XY{X: float64(i), Y: l.Clip}, plotter.XY{X: float64(i), Y: -l.Clip})
		}
	}
	bp, err := barPanel("weight bits", "bits", bits, 0)
	if err != nil {
		return nil, err
	}
	sp, err := barPanel("sparsity", "zero weights (%)", sparsity, 2)
	if err != nil {
		return nil, err
	}
	sp.Y.Tick.Marker = percentTicks
	sp.Y.Min, sp.Y.Max = 0, 1
	rp := newPlot("weight range", "layer", "weight")
	if err := addAll(rp, []plotter.XYs{hi, lo}, []string{"max", "min"}, 0); err != nil {
		return nil, err
	}
	if len(clip) > 0 {
		s, err := plotter.NewScatter(clip)
		if err != nil {
			return nil, err
		}
		s.Color, s.Radius, s.Shape = gateColor, vg.Points(3), draw.CrossGlyph{}
		rp.Add(s)
		rp.Legend.Add("± clip threshold", s)
	}
	ps := []*plot.Plot{bp, sp, rp}
	names := layerNames(ls)
	for _, p := range ps {
		p.NominalX(names...)
		p.X.Tick.Label.Rotation = 0.9
		p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = -1, -0.5
		p.X.Tick.Label.Font.Size = vg.Points(6)
	}
	return ps, nil
}

func layerNames(ls []run.LayerStat) []string {
	names := make([]string, len(ls))
	for i, l := range ls {
		if len(ls) <= maxNamedLayers {
			names[i] = l.Name
		} else if i%5 == 0 {
			names[i] = fmt.Sprint(i)
		}
	}
	return names
}

func barPanel(title, y string, v plotter.Values, ci int) (*plot.Plot, error) {
	p := newPlot(title, "", y)
	b, err := plotter.NewBarChart(v, vg.Points(8))
	if err != nil {
		return nil, err
	}
	b.Color, b.LineStyle.Width = colorAt(ci), 0
	p.Add(b)
	return p, nil
}
