package robust

import (
	"context"
	"fmt"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/stdlib/eval"
)

// Spec is what Evaluate measures.
type Spec struct {
	// Test is the clean test set; Shift, when set, a dataset with the same
	// classes (checked) for the domain shift.
	Test, Shift *data.Dataset
	// Corruptions (ops/data names) at each of Severities (1..5), seeded.
	Corruptions []string
	Severities  []int
	// FGSM and PGD radii; PGDSteps iterations of PGD.
	FGSM, PGD []float64
	PGDSteps  int
	Seed      uint64
	Options
	// Progress, when set, is called before each measurement with its name.
	Progress func(what string, done, total int)
}

// Figures are accuracies (fractions) of one model.
type Figures struct {
	Clean float64
	// Shift is NaN-free only when HasShift.
	Shift    float64
	HasShift bool
	// Corruption[name][severity]; FGSMAcc[i] and PGDAcc[i] are at Spec's
	// FGSM[i] and PGD[i].
	Corruption map[string]map[int]float64
	FGSMAcc    []float64
	PGDAcc     []float64
}

// Evaluate measures attack (the model the attacks differentiate) and
// deployed (the model whose accuracy counts; usually the same model, or the
// integer engine's conversion of a fake-quantized attack model).
func Evaluate(ctx context.Context, attack, deployed *ops.Model, s Spec) (Figures, error) {
	f := Figures{Corruption: map[string]map[int]float64{}}
	if s.Test == nil || s.Test.Len() == 0 {
		return f, fmt.Errorf("robust: the test set is empty")
	}
	total := 1 + len(s.Corruptions)*len(s.Severities) + len(s.FGSM) + len(s.PGD)
	if s.Shift != nil {
		total++
	}
	done := 0
	tick := func(what string) {
		if s.Progress != nil {
			s.Progress(what, done, total)
		}
		done++
	}
	acc := func(ds *data.Dataset) (float64, error) { return accuracy(ctx, deployed, ds, s.Options) }
	var err error
	tick("clean")
	if f.Clean, err = acc(s.Test); err != nil {
		return f, err
	}
	if s.Shift != nil {
		tick("shift")
		if err := data.CheckShift(s.Test, s.Shift); err != nil {
			return f, err
		}
		if f.Shift, err = acc(s.Shift); err != nil {
			return f, err
		}
		f.HasShift = true
	}
	for _, name := range s.Corruptions {
		f.Corruption[name] = map[int]float64{}
		for _, sev := range s.Severities {
			tick(fmt.Sprintf("%s %d", name, sev))
			ds, err := data.Corrupt(s.Test, name, sev, s.Seed)
			if err != nil {
				return f, err
			}
			if f.Corruption[name][sev], err = acc(ds); err != nil {
				return f, err
			}
		}
	}
	attacks := func(eps []float64, mk func(float64) Attack, what string) ([]float64, error) {
		var out []float64
		for _, e := range eps {
			tick(fmt.Sprintf("%s eps=%.4g", what, e))
			r, err := Perturb(ctx, attack, s.Test, mk(e), s.Options)
			if err != nil {
				return nil, err
			}
			a, err := acc(r.Data)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		}
		return out, nil
	}
	if f.FGSMAcc, err = attacks(s.FGSM, FGSM, "fgsm"); err != nil {
		return f, err
	}
	f.PGDAcc, err = attacks(s.PGD, func(e float64) Attack { return PGD(e, s.PGDSteps, s.Seed) }, "pgd")
	return f, err
}

// accuracy is top-1 accuracy of m on ds.
func accuracy(ctx context.Context, m *ops.Model, ds *data.Dataset, o Options) (float64, error) {
	be, err := ops.OrDefault(o.Backend)
	if err != nil {
		return 0, err
	}
	a, _, err := eval.AccuracyOn(ctx, be, m, ds, o.batch(), o.Normalize, nil)
	return a, err
}

// MeanCorruption is the mean accuracy over every corruption and severity.
func (f Figures) MeanCorruption() (float64, bool) {
	var sum float64
	n := 0
	for _, bySev := range f.Corruption {
		for _, a := range bySev {
			sum += a
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return sum / float64(n), true
}

// Mean is the mean of xs (false when empty).
func Mean(xs []float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs)), true
}
