package stdlib

import (
	"fmt"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
)

var trainEffects = check.Effects{NeedsModel: true, NeedsData: true, Trains: true, ChangesModel: true}

var trainMetrics = []check.Metric{
	{Name: "train_loss", Outcome: true, Type: check.TFloat, Doc: "Mean training loss of the last epoch."},
	{Name: "train_accuracy", Outcome: true, Type: check.TFraction, Doc: "Training accuracy of the last epoch."},
}

func trainSig() *check.Signature {
	return &check.Signature{
		Verb:    "train",
		Summary: "train the model from its initial weights",
		Doc: "Trains the current model on the bound dataset with cross-entropy, from the weights it " +
			"has (a zoo architecture starts from random ones). Use it when starting from scratch; " +
			"`finetune` is the same loop with defaults for a trained model. The `original` snapshot " +
			"keeps the untrained weights, so snapshot the trained model before distilling from it.",
		Params:   trainingArgs(10, 1e-3, "adamw", 0.9, 0.01),
		Examples: []string{"train epochs=5 lr=1e-3 optimizer=adamw", "train epochs=30 optimizer=sgd lr=0.1 momentum=0.9 weight_decay=5e-4 schedule=step"},
		Effects:  trainEffects,
		Metrics:  trainMetrics,
		Rules: func(st *check.State, step *check.Step) diag.Diagnostics {
			st.SetFlag("trained", step)
			return nil
		},
	}
}

func finetuneSig() *check.Signature {
	return &check.Signature{
		Verb:    "finetune",
		Summary: "continue training the current model",
		Doc: "Continues training the current model (after a replace, prune or quantize, or a " +
			"loaded checkpoint) with a small learning rate. A quantized model trains with " +
			"straight-through rounding (quantization-aware training).",
		Params:   trainingArgs(1, 1e-4, "sgd", 0.9, 0),
		Examples: []string{"finetune epochs=2 lr=1e-4", "finetune epochs=3 optimizer=adamw lr=3e-5 warmup=1"},
		Effects:  trainEffects,
		Metrics:  trainMetrics,
	}
}

func distillSig() *check.Signature {
	return &check.Signature{
		Verb:    "distill",
		Summary: "recover accuracy by knowledge distillation from a snapshot",
		Doc: "Trains the current model (the student) to match a teacher snapshot with the loss " +
			"(1-alpha)*CE(z_s, y) + alpha*T^2*KL(softmax(z_t/T) || softmax(z_s/T)). Iterative: " +
			"`iterations` rounds of `epochs` each; with teacher=original the `from` snapshot teaches " +
			"every round, with teacher=previous each round's student teaches the next. " +
			"progressive=stage distills one stage at a time after a staged replace.",
		Params: []check.Param{
			{Name: "from", Type: check.TSnapshot, Default: BaselineSnapshot, Noun: "snapshot", Doc: "The teacher snapshot (default: baseline, the model just before the first compression step of the branch — replace, prune, quantize — or the model as loaded when nothing was compressed yet)."},
			intArg("iterations", 1, 1, 100, "rounds", "Rounds of distillation."),
			intArg("epochs", 1, 1, 10000, "epochs", "Epochs per round."),
			posFloat("temperature", 4.0, "", "Softmax temperature T of the soft targets."),
			fraction("alpha", 0.9, "Weight of the distillation term (1-alpha weighs the label loss)."),
			posFloat("lr", 1e-4, "", "Learning rate."),
			enumArg("optimizer", "adamw", []string{"sgd", "adamw"}, "sgd (with momentum) or adamw."),
			batchArg(),
			enumArg("teacher", "original", []string{"original", "previous"}, "original: the from snapshot teaches every round; previous: each round's student teaches the next."),
			enumArg("progressive", "none", []string{"none", "stage"}, "stage: distill one stage (block group) at a time; none: the whole model at once."),
		},
		Examples: []string{"distill from=teacher iterations=3 epochs=1 temperature=4 alpha=0.9",
			"distill from=teacher teacher=previous iterations=2 progressive=stage"},
		Effects: trainEffects,
		Metrics: []check.Metric{{Name: "distill_loss", Outcome: true, Type: check.TFloat, Doc: "Mean distillation loss of the last epoch."}},
		Rules:   distillRules,
	}
}

// distillRules: a teacher must exist and be worth learning from. With no
// from=, the teacher is the baseline (the model before the first
// compression step), or the original model when nothing was compressed
// before this distill.
func distillRules(st *check.State, step *check.Step) diag.Diagnostics {
	defer beginCompression(st, step)
	st.SetFlag("distilled", step)
	from := ident(step.Args["from"])
	if _, ok := st.Snapshots[BaselineSnapshot]; !ok && !step.Explicit["from"] {
		from = "original"
	}
	trained := st.Flag("trained")
	if !step.Explicit["from"] && from == "original" && trained != nil && zooModel(st) {
		return errs(diag.Errorf(step.Span, "distill has no teacher: the original model is untrained").
			WithDetail(fmt.Sprintf("the model was trained from scratch at line %d and nothing compressed it since; compress it first (replace, prune, quantize: distill then learns from the model before that step), or name it with `snapshot teacher` after training and write distill from=teacher", trained.Line())))
	}
	if snap := st.Snapshots[from]; snap != nil && st.SnapVersion[from] == st.Version {
		return errs(warning(argSpan(step, "from"), fmt.Sprintf("distilling from %s, which is the current model itself", from),
			"nothing changed the model since it was named; distill recovers accuracy after a replace, prune or quantize"))
	}
	return nil
}

// zooModel reports whether the original model is a freshly initialised
// zoo architecture (so `original` holds random weights).
func zooModel(st *check.State) bool {
	orig := st.Snapshots["original"]
	return orig != nil && orig.Verb == "model" && orig.Words["name"].Kind == check.VIdent
}
