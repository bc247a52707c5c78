package stdlib

import (
	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
)

// attackArgs are the targeted-correction arguments of stage 1.
func attackArgs() []check.Param {
	return []check.Param{
		intArg("steps", 10, 1, 1000, "steps", "Attack steps per wrong sample (stops early once corrected)."),
		posFloat("eps", 8.0/255, "pixel", "Radius of the L-infinity ball the corrected input stays in."),
		posFloat("step_size", 2.0/255, "pixel", "Step a of x' = clip(x - a*sign(grad_x CE(f(x), y)))."),
		boolArg("keep_uncorrected", true, "Keep the samples the attack could not correct (false: drop them)."),
	}
}

// coralArgs are the Deep CORAL adaptation arguments of stage 2.
func coralArgs() []check.Param {
	return append([]check.Param{
		nonNegFloat("lambda", 1.0, "", "Weight of the CORAL term ||C_S - C_T||_F^2 / (4 d^2)."),
	}, trainingArgs(1, 1e-3, "sgd", 0.9, 5e-4)...)
}

var correctMetrics = []check.Metric{
	{Name: "corrected", Outcome: true, Type: check.TInt, Doc: "Wrongly classified training samples the attack corrected."},
	{Name: "uncorrected", Outcome: true, Type: check.TInt, Doc: "Wrong samples the attack could not correct."},
}

func adcordaSig() *check.Signature {
	return &check.Signature{
		Verb:    "adcorda",
		Summary: "adversarial correction then domain adaptation (AdCorDA)",
		Doc: "Refines a trained classifier by changing its training set (Shen et al. 2024). Stage 1 " +
			"(`correct`): each misclassified training sample gets a targeted attack toward its true " +
			"label, PGD-style inside an eps-ball, giving the corrected set D'. Stage 2 (`adapt`): " +
			"train on D' while aligning feature covariances with the original set D by Deep CORAL. " +
			"Works on quantized models through the fake-quantized forward.",
		Params:   append(attackArgs(), coralArgs()...),
		Examples: []string{"adcorda steps=10 eps=0.03 lambda=1 epochs=5"},
		Effects:  check.Effects{NeedsModel: true, NeedsData: true, Trains: true, ChangesModel: true, ChangesData: true},
		Metrics:  correctMetrics,
		Rules:    correctRules,
	}
}

func correctSig() *check.Signature {
	return &check.Signature{
		Verb:    "correct",
		Summary: "AdCorDA stage 1: correct the wrong training samples",
		Doc: "Finds the training samples the model gets wrong and moves each toward its true label " +
			"with a targeted attack (x' = clip(x - a*sign(grad_x CE(f(x), y))), projected to the " +
			"eps-ball, at most `steps` steps). The corrected set D' replaces the training set for " +
			"`adapt`; the model is unchanged.",
		Params:   attackArgs(),
		Examples: []string{"correct steps=20 eps=0.03 keep_uncorrected=false"},
		Effects:  check.Effects{NeedsModel: true, NeedsData: true, ChangesData: true},
		Metrics:  correctMetrics,
		Rules:    correctRules,
	}
}

func adaptSig() *check.Signature {
	return &check.Signature{
		Verb:    "adapt",
		Summary: "AdCorDA stage 2: adapt from the corrected set back to the data",
		Doc: "Trains on the corrected set D' (source) with the Deep CORAL loss " +
			"CE(f(x_s), y_s) + lambda*||C_S - C_T||_F^2/(4 d^2) against batches of the original set " +
			"(target). Needs `correct` above. Defaults follow Deep CORAL: SGD, lr 1e-3, momentum 0.9, " +
			"weight decay 5e-4.",
		Params:   coralArgs(),
		Examples: []string{"adapt lambda=1 epochs=5"},
		Effects:  check.Effects{NeedsModel: true, NeedsData: true, Trains: true, ChangesModel: true},
		Metrics:  trainMetrics,
		Rules: func(st *check.State, step *check.Step) diag.Diagnostics {
			if st.Flag("corrected") == nil {
				return errs(diag.Errorf(step.Span, "adapt needs the corrected training set").
					WithDetail("run `correct` above this line (or use `adcorda`, which runs both stages)"))
			}
			return nil
		},
	}
}

// correctRules: stage 1 attacks the samples a trained model gets wrong.
func correctRules(st *check.State, step *check.Step) diag.Diagnostics {
	st.SetFlag("corrected", step)
	if zooModel(st) && st.Flag("trained") == nil {
		return errs(diag.Errorf(step.Span, step.Verb+" needs a trained model, and this one has its initial random weights").
			WithDetail("AdCorDA refines a trained classifier: add `train epochs=N` above this line"))
	}
	return nil
}
