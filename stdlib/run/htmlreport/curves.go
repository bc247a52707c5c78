package htmlreport

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/qpipe/qpipe/stdlib/run"
)

// trainingFigures draws one figure per training step (train, finetune,
// distill, QAT — any step whose series has epochs or loss samples): loss,
// accuracy and learning rate side by side.
func trainingFigures(r *run.Report) ([]figure, string, error) {
	var figs []figure
	for _, s := range r.Steps {
		if !isTraining(s) {
			continue
		}
		panels, err := trainingPanels(s.Series)
		if err != nil {
			return nil, "", err
		}
		svg, err := svgOf(250*float64(len(panels)), 210, panels...)
		if err != nil {
			return nil, "", err
		}
		caption := label(s) + trainingNote(s.Series)
		if s.Status == run.StatusFailed {
			caption += "; failed: " + s.Error
		}
		figs = append(figs, figure{ID: fmt.Sprintf("training-%d", s.Index), Caption: caption, SVG: svg})
	}
	if len(figs) == 0 {
		return nil, "No step trained in this run (train, finetune, distill and quantize mode=qat draw curves here).", nil
	}
	return figs, "", nil
}

func isTraining(s run.StepReport) bool {
	return s.Series != nil && (len(s.Series.Epochs) > 0 || len(s.Series.Steps) > 0)
}

func trainingNote(s *run.Series) string {
	if n := len(s.Steps); n > 1 && s.Steps[n-1].Step > n {
		return fmt.Sprintf(": loss averaged over every %d optimizer steps", s.Steps[n-1].Step/n)
	}
	return ""
}

// stepsPerEpoch converts optimizer steps to epochs: the last sample's
// step over the last finished epoch (0 when either is missing).
func stepsPerEpoch(s *run.Series) float64 {
	if len(s.Epochs) == 0 || len(s.Steps) == 0 {
		return 0
	}
	return float64(s.Steps[len(s.Steps)-1].Step) / float64(s.Epochs[len(s.Epochs)-1].Epoch)
}

// trainingPanels are the loss, accuracy and learning-rate plots.
func trainingPanels(s *run.Series) ([]*plot.Plot, error) {
	per := stepsPerEpoch(s)
	xName := "epoch"
	if per == 0 && len(s.Epochs) == 0 {
		xName = "optimizer step"
	}
	stepX := func(step int) float64 {
		if per > 0 {
			return float64(step) / per
		}
		return float64(step)
	}
	loss := newPlot("loss", xName, "loss")
	var samples, lrs plotter.XYs
	for _, p := range s.Steps {
		samples = append(samples, plotter.XY{X: stepX(p.Step), Y: p.Loss})
		lrs = append(lrs, plotter.XY{X: stepX(p.Step), Y: p.LR})
	}
	if err := line(loss, finite(samples), "train (steps)", colorAt(5), false); err != nil {
		return nil, err
	}
	var trainLoss, valLoss, trainAcc, valAcc, epochLR plotter.XYs
	for _, e := range s.Epochs {
		x := float64(e.Epoch)
		trainLoss, trainAcc = append(trainLoss, plotter.XY{X: x, Y: e.TrainLoss}), append(trainAcc, plotter.XY{X: x, Y: e.TrainAccuracy})
		epochLR = append(epochLR, plotter.XY{X: x, Y: e.LR})
		if e.ValLoss != nil {
			valLoss = append(valLoss, plotter.XY{X: x, Y: *e.ValLoss})
		}
		if e.ValAccuracy != nil {
			valAcc = append(valAcc, plotter.XY{X: x, Y: *e.ValAccuracy})
		}
	}
	if err := addAll(loss, []plotter.XYs{trainLoss, valLoss}, []string{"train (epoch)", "validation"}, 0); err != nil {
		return nil, err
	}
	panels := []*plot.Plot{loss}
	acc, err := accuracyPanel(s, trainAcc, valAcc)
	if err != nil {
		return nil, err
	}
	if acc != nil {
		panels = append(panels, acc)
	}
	if len(lrs) == 0 {
		lrs = epochLR
	}
	lr := newPlot("learning rate", xName, "rate")
	if err := line(lr, finite(lrs), "", colorAt(2), false); err != nil {
		return nil, err
	}
	lr.Y.Min, lr.Y.Max = 0, 1.05*maxY(finite(lrs))
	return append(panels, lr), nil
}

// addAll adds lines in palette order from first.
func addAll(p *plot.Plot, xys []plotter.XYs, names []string, first int) error {
	for i, xy := range xys {
		if err := line(p, finite(xy), names[i], colorAt(first+i), false); err != nil {
			return err
		}
	}
	return nil
}

// accuracyPanel plots accuracy per epoch, or for distillation one pair
// of bars per round (train and test accuracy side by side).
func accuracyPanel(s *run.Series, trainAcc, valAcc plotter.XYs) (*plot.Plot, error) {
	if len(trainAcc) == 0 {
		return nil, nil
	}
	if s.Epochs[0].Round == 0 {
		p := newPlot("accuracy", "epoch", "accuracy (%)")
		fitFraction(&p.Y, trainAcc, valAcc)
		return p, addAll(p, []plotter.XYs{trainAcc, valAcc}, []string{"train", "validation"}, 0)
	}
	p := newPlot("accuracy per round", "round", "accuracy (%)")
	p.Y.Tick.Marker = percentTicks
	names := make([]string, len(s.Epochs))
	for i, e := range s.Epochs {
		names[i] = fmt.Sprint(e.Round)
		if e.Stage != "" {
			names[i] += " " + e.Stage
		}
	}
	p.NominalX(names...)
	bars := []plotter.XYs{trainAcc, valAcc}
	legend := []string{"train", "test"}
	for i, xy := range bars {
		if len(xy) == 0 {
			continue
		}
		vals := make(plotter.Values, len(xy))
		for j, pt := range xy {
			vals[j] = pt.Y
		}
		b, err := plotter.NewBarChart(vals, vg.Points(10))
		if err != nil {
			return nil, err
		}
		b.Color, b.LineStyle.Width = colorAt(i), 0
		b.Offset = vg.Points(float64(i*10 - 5))
		p.Add(b)
		p.Legend.Add(legend[i], b)
	}
	return p, nil
}

// maxY is the largest y of xy (1e-9 at least, for an axis with height).
func maxY(xy plotter.XYs) float64 {
	m := 1e-9
	for _, p := range xy {
		m = max(m, p.Y)
	}
	return m
}
