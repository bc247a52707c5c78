package run

import (
	"context"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/stdlib/robust"
)

// robustnessMetrics are the checker's names `evaluate robustness` records.
var robustnessMetrics = []string{"clean_accuracy", "shift_accuracy", "corruption_accuracy", "fgsm_accuracy", "pgd_accuracy", "robustness_ratio"}

// corruptionName maps the language's corruption words to ops/data's.
func corruptionName(word string) string {
	if word == "rotation" {
		return "rotate"
	}
	return word
}

// measureRobustness runs robust.Evaluate on the current model (attacks
// differentiate attacked, accuracy is deployed's) and on the uncompressed
// baseline, and records every figure, its ratio to the baseline's, and the
// means the checker knows. It returns the current model's figures as the
// report's series points.
func measureRobustness(ctx context.Context, env *Env, attacked, deployed *ops.Model, st *State, step *check.Step, m, r map[string]float64) ([]RobustPoint, error) {
	var a robustSettings
	if err := step.Decode(&a); err != nil {
		return nil, err
	}
	spec, key, err := robustSpec(env, st, a)
	if err != nil {
		return nil, err
	}
	fig, err := robust.Evaluate(ctx, attacked, deployed, spec)
	if err != nil {
		return nil, err
	}
	cur := robustFigures(fig, spec)
	base, err := baselineFigures(ctx, env, st, a.Baseline, spec, key, cur)
	if err != nil {
		return nil, err
	}
	for k, v := range cur {
		r[k] = v
		if b, ok := base[k]; ok && b > 0 {
			r[k+"_ratio"] = v / b
		}
	}
	r["robustness_spec"] = key
	for _, name := range robustnessMetrics[:5] {
		if v, ok := cur[name]; ok {
			m[name] = v
		}
	}
	var ratios []float64
	for _, name := range robustnessMetrics[1:5] {
		if v, ok := r[name+"_ratio"]; ok {
			ratios = append(ratios, v)
		}
	}
	if mean, ok := robust.Mean(ratios); ok {
		m["robustness_ratio"], r["robustness_ratio"] = mean, mean
	}
	return robustPoints(fig, spec, a.Shift), nil
}

// robustPoints are a measurement's figures as report.json's series
// (docs/report.md): clean, shift, each corruption at each severity, each
// attack at each eps, in that order, corruptions by name and severity;
// shift is the shifted dataset's name.
func robustPoints(f robust.Figures, s robust.Spec, shift string) []RobustPoint {
	pts := []RobustPoint{{Group: "clean", Accuracy: f.Clean}}
	if f.HasShift {
		pts = append(pts, RobustPoint{Group: "shift", Name: shift, Accuracy: f.Shift})
	}
	names := make([]string, 0, len(f.Corruption))
	for name := range f.Corruption {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		sevs := make([]int, 0, len(f.Corruption[name]))
		for sev := range f.Corruption[name] {
			sevs = append(sevs, sev)
		}
		sort.Ints(sevs)
		for _, sev := range sevs {
			pts = append(pts, RobustPoint{Group: "corruption", Name: name, Level: float64(sev), Accuracy: f.Corruption[name][sev]})
		}
	}
	for i, e := range s.FGSM {
		pts = append(pts, RobustPoint{Group: "fgsm", Level: e, Accuracy: f.FGSMAcc[i]})
	}
	for i, e := range s.PGD {
		pts = append(pts, RobustPoint{Group: "pgd", Level: e, Accuracy: f.PGDAcc[i]})
	}
	return pts
}

// robustSettings are an evaluate step's robustness arguments.
type robustSettings struct {
	Samples     int       `arg:"samples"`
	PGDSteps    int       `arg:"pgd_steps"`
	Seed        uint64    `arg:"seed"`
	Batch       int       `arg:"batch"`
	Shift       string    `arg:"shift"`
	Corruptions []string  `arg:"corruptions"`
	Severity    []int     `arg:"severity"`
	Attacks     []string  `arg:"attacks"`
	Eps         []float64 `arg:"eps"`
	Baseline    string    `arg:"baseline"`
}

// robustSpec makes the measurement an evaluate step's robustness
// arguments ask for; key identifies them, so a baseline measured with the
// same ones is reused.
func robustSpec(env *Env, st *State, a robustSettings) (robust.Spec, float64, error) {
	if st.Data == nil {
		return robust.Spec{}, 0, fmt.Errorf("evaluate robustness needs data, and no dataset is bound")
	}
	test := st.Data.Splits.Test
	if test == nil {
		test = st.Data.Splits.Validation
	}
	if test == nil {
		return robust.Spec{}, 0, fmt.Errorf("dataset %s has no test split (and no validation split: set val_split on its data line)", st.Data.Spec.Name)
	}
	n := a.Samples
	if n > 0 && n < test.Len() {
		test = test.Subset(n)
	}
	s := robust.Spec{Test: test, PGDSteps: a.PGDSteps, Seed: a.Seed,
		Options: robust.Options{Backend: env.Backend, Normalize: st.Data.Spec.Normalize, Batch: a.Batch}}
	if a.Shift != "" {
		shift, err := shiftSet(env, a.Shift, test, n)
		if err != nil {
			return s, 0, err
		}
		s.Shift = shift
	}
	for _, c := range a.Corruptions {
		s.Corruptions = append(s.Corruptions, corruptionName(c))
	}
	s.Severities = a.Severity
	for _, at := range a.Attacks {
		if at == "fgsm" {
			s.FGSM = append(s.FGSM, a.Eps...)
		} else {
			s.PGD = append(s.PGD, a.Eps...)
		}
	}
	if env.Tick != nil {
		s.Progress = func(_ string, done, total int) { env.Tick(Tick{Done: done, Total: total, Unit: "measurements"}) }
	}
	return s, specKey(s), nil
}

// shiftSet opens the domain-shift dataset (all its images, at most n)
// and checks it has the test set's classes and shape.
func shiftSet(env *Env, name string, test *data.Dataset, n int) (*data.Dataset, error) {
	d, err := openData(env, DataSpec{Name: name})
	if err != nil {
		return nil, fmt.Errorf("shift=%s: %w", name, err)
	}
	all, err := d.Splits.All()
	if err != nil {
		return nil, err
	}
	if err := data.CheckShift(test, all); err != nil {
		return nil, fmt.Errorf("shift=%s is not a domain shift of this model's data: %w", name, err)
	}
	if n > 0 && n < all.Len() {
		all = all.Subset(n)
	}
	return all, nil
}

// specKey hashes what a robustness measurement depends on into a number
// that survives report.json (53 bits).
func specKey(s robust.Spec) float64 {
	h := fnv.New64a()
	fmt.Fprint(h, s.Test.Name, s.Test.Len(), s.Corruptions, s.Severities, s.FGSM, s.PGD, s.PGDSteps, s.Seed)
	if s.Shift != nil {
		fmt.Fprint(h, s.Shift.Name, s.Shift.Len())
	}
	return float64(h.Sum64() >> 11)
}

// robustFigures names every figure as report.json shows it.
func robustFigures(f robust.Figures, s robust.Spec) map[string]float64 {
	out := map[string]float64{"clean_accuracy": f.Clean}
	if f.HasShift {
		out["shift_accuracy"] = f.Shift
	}
	for name, bySev := range f.Corruption {
		var accs []float64
		for sev, a := range bySev {
			out[fmt.Sprintf("corruption_%s_s%d_accuracy", name, sev)] = a
			accs = append(accs, a)
		}
		out[fmt.Sprintf("corruption_%s_accuracy", name)], _ = robust.Mean(accs)
	}
	if mean, ok := f.MeanCorruption(); ok {
		out["corruption_accuracy"] = mean
	}
	attack := func(word string, eps, accs []float64) {
		for i, e := range eps {
			out[fmt.Sprintf("%s_eps%s_accuracy", word, strconv.FormatFloat(e, 'g', 4, 64))] = accs[i]
		}
		if mean, ok := robust.Mean(accs); ok {
			out[word+"_accuracy"] = mean
		}
	}
	attack("fgsm", s.FGSM, f.FGSMAcc)
	attack("pgd", s.PGD, f.PGDAcc)
	return out
}

// baselineFigures are the uncompressed model's figures with the same
// settings: the step's baseline= snapshot, else the model before the first
// compression step of this branch; when nothing was compressed, the
// current model is its own baseline. Figures already measured on the
// baseline with the same settings are reused.
func baselineFigures(ctx context.Context, env *Env, st *State, baseline string, spec robust.Spec, key float64, cur map[string]float64) (map[string]float64, error) {
	snap := st.Snapshots[BaselineSnapshot]
	if baseline != "" {
		if snap = st.Snapshots[baseline]; snap == nil {
			return nil, fmt.Errorf("baseline=%s: no snapshot of that name", baseline)
		}
	}
	if snap == nil {
		return cur, nil
	}
	if snap.Reported["robustness_spec"] == key {
		return snap.Reported, nil
	}
	deployed, err := st.inference(snap.Model)
	if err != nil {
		return nil, err
	}
	fig, err := robust.Evaluate(ctx, snap.Model, deployed, spec)
	if err != nil {
		return nil, fmt.Errorf("measuring the baseline: %w", err)
	}
	base := robustFigures(fig, spec)
	if snap.Reported == nil {
		snap.Reported = map[string]float64{}
	}
	for k, v := range base {
		snap.Reported[k] = v
	}
	snap.Reported["robustness_spec"] = key
	return base, nil
}

// headline drops the per-corruption, per-severity and per-eps robustness
// figures (and their ratios) from a summary: report.json keeps them all.
func headline(r map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range r {
		detail := strings.HasPrefix(k, "corruption_") && k != "corruption_accuracy" && k != "corruption_accuracy_ratio" ||
			strings.Contains(k, "_eps") || k == "robustness_spec"
		if !detail {
			out[k] = v
		}
	}
	return out
}
