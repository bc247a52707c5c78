package stdlib

import (
	"fmt"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
)

var evalWhat = []string{"accuracy", "latency", "size", "robustness"}

// The words some of evaluate's arguments are about (check.Param.When).
var (
	robustnessOnly = []string{"robustness"}
	latencyOnly    = []string{"latency"}
)

// when makes p apply to statements with one of words only.
func when(words []string, p check.Param) check.Param {
	p.When = words
	return p
}

func evaluateSig() *check.Signature {
	return &check.Signature{
		Verb:    "evaluate",
		Summary: "measure the current model",
		Doc: "Records metrics of the current model for the report and for expect. accuracy: top-1 " +
			"on the test set (and loss). latency: median milliseconds per batch on the run's device " +
			"over `runs` timed runs, of the model frozen for inference as infer.Load runs it (its weights " +
			"copied once, batch norms folded and weight transforms cached once, not per batch). size: bytes of the model as it would be exported, and parameter " +
			"count. robustness: clean accuracy, accuracy under a domain shift (shift=DATASET) and " +
			"corruptions (CIFAR-10-C style, severities 1..5, seeded), and under FGSM and PGD at each eps, " +
			"each also as a ratio to the uncompressed model (Shen et al. 2024): per-corruption, per-severity " +
			"and per-eps figures go to report.json beside the means. Attacks differentiate the " +
			"fake-quantized forward (straight-through) and accuracy is that of the deployed model " +
			"(the integer engine after quantize int8). With no word: accuracy.",
		Slots: []check.Param{{Name: "what", Type: check.TEnum, Values: evalWhat, Repeated: true, Default: []string{"accuracy"},
			Noun: "metric", Doc: "What to measure: accuracy, latency, size, robustness."}},
		Params: []check.Param{
			intArg("batch", 64, 1, 65536, "images", "Batch size of accuracy and latency runs."),
			when(latencyOnly, intArg("runs", 20, 1, 100000, "runs", "Timed runs of latency (after 3 warm-up runs).")),
			{When: latencyOnly, Name: "budget", Type: check.TDuration, Min: fp(0), MinOpen: true, Unit: "time", Doc: "latency: a warning in the report when the median exceeds it."},
			{When: robustnessOnly, Name: "shift", Type: check.TEnum, Values: datasets, Noun: "dataset", Doc: "robustness: a dataset with the same classes to measure domain shift on (mnist -> digits)."},
			{When: robustnessOnly, Name: "corruptions", Type: check.TList, Elem: check.TEnum, Values: corruptions, Noun: "corruption", Default: []string{}, Doc: "robustness: corruptions to apply to the test set."},
			{When: robustnessOnly, Name: "severity", Type: check.TList, Elem: check.TInt, Min: fp(1), Max: fp(5), Default: []int{3}, Doc: "robustness: corruption severities 1..5."},
			{When: robustnessOnly, Name: "attacks", Type: check.TList, Elem: check.TEnum, Values: attacks, Noun: "attack", Default: []string{"fgsm", "pgd"}, Doc: "robustness: adversarial attacks."},
			{When: robustnessOnly, Name: "eps", Type: check.TList, Elem: check.TFloat, Min: fp(0), MinOpen: true, Default: []float64{2.0 / 255, 8.0 / 255}, Doc: "robustness: L-infinity attack radii (pixels in [0, 1])."},
			when(robustnessOnly, intArg("pgd_steps", 10, 1, 1000, "steps", "robustness: PGD iterations.")),
			when(robustnessOnly, intArg("seed", 1, 0, 0, "", "robustness: seed of corruptions and random starts.")),
			when(robustnessOnly, intArg("samples", 1000, 0, 0, "images", "robustness: test images the corruptions and attacks use, the first ones of the test set (0: all).")),
			{When: robustnessOnly, Name: "baseline", Type: check.TSnapshot, Noun: "snapshot", Doc: "robustness: the uncompressed model the ratios divide by (default: the model before the first compression step of this branch; the current model when nothing was compressed yet)."},
		},
		Examples: []string{"evaluate accuracy latency size",
			"evaluate robustness shift=digits corruptions=[gaussian_noise, fog] severity=1..5 eps=[0.01, 0.03]"},
		Effects: check.Effects{NeedsModel: true},
		Metrics: evalMetrics(),
		Rules:   evaluateRules,
	}
}

func evalMetrics() []check.Metric {
	return []check.Metric{
		{Name: "accuracy", Type: check.TFraction, When: "accuracy", Doc: "Top-1 test accuracy."},
		{Name: "loss", Type: check.TFloat, When: "accuracy", Doc: "Mean test cross-entropy."},
		{Name: "latency", Type: check.TDuration, When: "latency", Doc: "Median time per batch."},
		{Name: "throughput", Type: check.TFloat, When: "latency", Doc: "Images per second."},
		{Name: "size", Type: check.TBytes, When: "size", Doc: "Bytes of the exported model."},
		{Name: "params", Type: check.TInt, When: "size", Doc: "Parameter count."},
		{Name: "clean_accuracy", Type: check.TFraction, When: "robustness", Doc: "Accuracy on the clean test set."},
		{Name: "shift_accuracy", Type: check.TFraction, When: "robustness", Doc: "Accuracy on the shift dataset."},
		{Name: "corruption_accuracy", Type: check.TFraction, When: "robustness", Doc: "Mean accuracy over corruptions and severities."},
		{Name: "fgsm_accuracy", Type: check.TFraction, When: "robustness", Doc: "Mean accuracy under FGSM over eps."},
		{Name: "pgd_accuracy", Type: check.TFraction, When: "robustness", Doc: "Mean accuracy under PGD over eps."},
		{Name: "robustness_ratio", Type: check.TFloat, When: "robustness", Doc: "Mean of the shift, corruption, FGSM and PGD accuracy ratios to the uncompressed model."},
	}
}

// robustnessArgs are only read by `evaluate robustness`.
var robustnessArgs = []string{"shift", "corruptions", "severity", "attacks", "eps", "pgd_steps", "seed", "samples", "baseline"}

func evaluateRules(st *check.State, step *check.Step) diag.Diagnostics {
	var ds diag.Diagnostics
	for _, w := range []string{"accuracy", "robustness"} {
		if step.HasWord(w) && !st.DataLoaded {
			ds = append(ds, diag.Errorf(step.Span, fmt.Sprintf("evaluate %s needs data, and no dataset is loaded", w)).
				WithDetail("add `data NAME` above this line, or pass --data"))
		}
	}
	ds = append(ds, unusedArgs(step, "robustness", robustnessArgs)...)
	return append(ds, unusedArgs(step, "latency", []string{"budget", "runs"})...)
}

// unusedArgs warns about arguments only a word of evaluate reads.
func unusedArgs(step *check.Step, word string, names []string) diag.Diagnostics {
	if step.HasWord(word) {
		return nil
	}
	var ds diag.Diagnostics
	for _, n := range names {
		if step.Explicit[n] {
			ds = append(ds, warning(step.Args[n].Span, fmt.Sprintf("%s is only used by evaluate %s", n, word),
				fmt.Sprintf("add %s to the words of this evaluate, or drop %s", word, n)))
		}
	}
	return ds
}
