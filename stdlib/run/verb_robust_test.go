package run

import (
	"context"
	"math"
	"strings"
	"testing"
)

const robustArgs = "samples=200 shift=digits corruptions=[gaussian_noise, rotation] severity=[1, 5] eps=[0.02, 0.1] pgd_steps=3"

func TestRobustnessFiguresRatiosAndQuantizedModel(t *testing.T) {
	rep, err := runRecipe(t, context.Background(), t.TempDir(), `model mlp
data mnist subset=1000
train epochs=2 lr=1e-3
evaluate accuracy robustness `+robustArgs+`
prune ratio=0.8
quantize int8 batches=4
evaluate robustness `+robustArgs+`
expect robustness_ratio < 2
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	base, comp := rep.Steps[3].Metrics, rep.Steps[6].Metrics
	for _, k := range []string{"clean_accuracy", "shift_accuracy", "corruption_accuracy", "fgsm_accuracy", "pgd_accuracy",
		"corruption_gaussian_noise_s1_accuracy", "corruption_rotate_s5_accuracy", "fgsm_eps0.02_accuracy", "pgd_eps0.1_accuracy", "robustness_ratio"} {
		if _, ok := comp[k]; !ok {
			t.Errorf("no %s in %v", k, comp)
		}
	}
	if base["clean_accuracy"] < 0.6 || base["shift_accuracy"] >= base["clean_accuracy"] {
		t.Errorf("clean %v, digits shift %v", base["clean_accuracy"], base["shift_accuracy"])
	}
	for _, m := range []map[string]float64{base, comp} {
		if m["pgd_eps0.1_accuracy"] >= m["fgsm_eps0.02_accuracy"] || m["fgsm_eps0.1_accuracy"] >= m["clean_accuracy"] ||
			m["pgd_eps0.1_accuracy"] > m["fgsm_eps0.1_accuracy"]+0.02 {
			t.Errorf("attacks do not degrade in order: %v", m)
		}
		if m["corruption_rotate_s5_accuracy"] >= m["corruption_rotate_s1_accuracy"] {
			t.Errorf("rotation severity 5 (%v) not below severity 1 (%v)", m["corruption_rotate_s5_accuracy"], m["corruption_rotate_s1_accuracy"])
		}
	}
	if base["clean_accuracy_ratio"] != 1 || base["robustness_ratio"] != 1 {
		t.Errorf("an uncompressed model's ratios are %v, %v, want 1", base["clean_accuracy_ratio"], base["robustness_ratio"])
	}
	for _, k := range []string{"clean_accuracy", "pgd_eps0.02_accuracy", "corruption_accuracy"} {
		if want := comp[k] / base[k]; math.Abs(comp[k+"_ratio"]-want) > 1e-12 {
			t.Errorf("%s_ratio %v, want %v / %v", k, comp[k+"_ratio"], comp[k], base[k])
		}
	}
}

func TestRobustnessRefusesAShiftWithOtherClasses(t *testing.T) {
	_, err := runRecipe(t, context.Background(), t.TempDir(), "model mlp\ndata mnist subset=100\nevaluate robustness shift=fashion-mnist samples=10\n", nil)
	if err == nil || !strings.Contains(err.Error(), "recipe.qpipe:3:1: evaluate: shift=fashion-mnist is not a domain shift of this model's data") ||
		!strings.Contains(err.Error(), "a domain shift keeps the classes") {
		t.Fatalf("err = %v", err)
	}
}

func TestAdCorDACorrectsAndAdapts(t *testing.T) {
	rep, err := runRecipe(t, context.Background(), t.TempDir(), `model mlp
data mnist subset=1000
train epochs=1 lr=1e-3
adcorda steps=5 eps=0.1 step_size=0.02 epochs=1 lr=1e-3
correct steps=5 eps=0.1 keep_uncorrected=false
expect corrected > 0
adapt epochs=1 lambda=2
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, c, d := rep.Steps[3].Metrics, rep.Steps[4].Metrics, rep.Steps[6].Metrics
	if a["misclassified"] == 0 || a["corrected"] == 0 || a["corrected"]+a["uncorrected"] != a["misclassified"] || a["coral"] <= 0 {
		t.Errorf("adcorda metrics %v", a)
	}
	if c["corrected_samples"] != 1000-c["uncorrected"] {
		t.Errorf("correct without keep: %v samples, %v uncorrected", c["corrected_samples"], c["uncorrected"])
	}
	if !strings.Contains(rep.Steps[6].Summary, "adapt on ") || d["train_accuracy"] <= 0.5 {
		t.Errorf("adapt: %q %v", rep.Steps[6].Summary, d)
	}
}
