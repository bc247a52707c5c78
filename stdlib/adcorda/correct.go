package adcorda

import (
	"context"
	"fmt"
	"strings"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/stdlib/robust"
)

// CorrectedSuffix ends the name of a corrected training set.
const CorrectedSuffix = "+corrected"

// IsCorrected reports whether ds is a set Correct made.
func IsCorrected(ds *data.Dataset) bool { return strings.HasSuffix(ds.Name, CorrectedSuffix) }

// CorrectOptions configure Correct.
type CorrectOptions struct {
	Eps, StepSize float64
	Steps         int
	// KeepUncorrected keeps the wrong samples the attack could not correct
	// (as they were); false drops them.
	KeepUncorrected bool
	robust.Options
}

// Corrected is stage 1's result.
type Corrected struct {
	Data                          *data.Dataset // D'
	Wrong, Corrected, Uncorrected int
}

// UntrainedError is a model that gets most of its training set wrong.
type UntrainedError struct{ Wrong, Total int }

func (e *UntrainedError) Error() string {
	return fmt.Sprintf("adcorda: the model misclassifies %d of %d training samples (%.0f%%); AdCorDA refines a trained classifier: train it first",
		e.Wrong, e.Total, 100*float64(e.Wrong)/float64(e.Total))
}

// Correct finds the samples of train that m misclassifies, attacks each
// toward its label and returns D'. A model wrong on more than half of the
// set is an *UntrainedError.
func Correct(ctx context.Context, m *ops.Model, train *data.Dataset, o CorrectOptions) (Corrected, error) {
	preds, err := robust.Predict(ctx, m, train, o.Options)
	if err != nil {
		return Corrected{}, err
	}
	var wrong []int
	for i, p := range preds {
		if p != train.Y[i] {
			wrong = append(wrong, i)
		}
	}
	if 2*len(wrong) > train.Len() {
		return Corrected{}, &UntrainedError{Wrong: len(wrong), Total: train.Len()}
	}
	res := Corrected{Wrong: len(wrong)}
	if len(wrong) == 0 {
		res.Data = rename(train, train.X, train.Y)
		return res, nil
	}
	bad, err := train.Select(wrong)
	if err != nil {
		return Corrected{}, err
	}
	attack := robust.Attack{Eps: o.Eps, Steps: o.Steps, StepSize: o.StepSize, Targeted: true, EarlyStop: true}
	fixed, err := robust.Perturb(ctx, m, bad, attack, o.Options)
	if err != nil {
		return Corrected{}, err
	}
	res.Corrected, res.Uncorrected = fixed.Correct, len(wrong)-fixed.Correct
	res.Data = assemble(train, wrong, fixed, o.KeepUncorrected)
	return res, nil
}

// assemble replaces the wrong samples by their corrections, keeping or
// dropping the uncorrected ones.
func assemble(train *data.Dataset, wrong []int, fixed robust.Result, keep bool) *data.Dataset {
	size := train.SampleSize()
	x := append([]float32(nil), train.X...)
	drop := map[int]bool{}
	for k, i := range wrong {
		switch {
		case fixed.Right[k]:
			copy(x[i*size:(i+1)*size], fixed.Data.Sample(k))
		case !keep:
			drop[i] = true
		}
	}
	if len(drop) == 0 {
		return rename(train, x, train.Y)
	}
	var xs []float32
	var ys []int
	for i, y := range train.Y {
		if !drop[i] {
			xs = append(xs, x[i*size:(i+1)*size]...)
			ys = append(ys, y)
		}
	}
	return rename(train, xs, ys)
}

func rename(ds *data.Dataset, x []float32, y []int) *data.Dataset {
	return &data.Dataset{Name: ds.Name + CorrectedSuffix, C: ds.C, H: ds.H, W: ds.W, X: x, Y: y, Classes: ds.Classes}
}
