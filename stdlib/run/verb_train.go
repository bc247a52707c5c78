package run

import (
	"context"
	"fmt"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/ops/data"
)

func init() {
	Register("train", Verb{Run: runTrain})
	Register("finetune", Verb{Run: runTrain})
	Register("snapshot", Verb{Run: runSnapshot})
}

// fitOptions decodes a training step's arguments; batch is the one the
// checker resolved (the step's, the data line's or the bound dataset's).
func fitOptions(env *Env, st *State, step *check.Step) (FitOptions, error) {
	o := FitOptions{Seed: env.StepSeed(), Normalize: st.Data.Spec.Normalize}
	if err := step.Decode(&o); err != nil {
		return o, err
	}
	if st.Data.Spec.Augment {
		o.Augment = data.DefaultAugment(st.Data.Spec.Name)
	}
	return o, nil
}

func runTrain(ctx context.Context, env *Env, st *State, step *check.Step) (*Outcome, error) {
	if err := needModel(st); err != nil {
		return nil, err
	}
	o, err := fitOptions(env, st, step)
	if err != nil {
		return nil, err
	}
	res, err := Fit(ctx, env.Backend, st.Model, st.Data.Splits.Train, st.Data.Splits.Validation, o, env.Tick)
	st.ModelChanged() // even a failed run changed the weights
	if err != nil {
		return nil, err
	}
	st.Record("train_loss", res.Loss, "train_loss", res.Loss)
	st.Record("train_accuracy", res.Accuracy, "train_accuracy", res.Accuracy)
	out := &Outcome{
		Summary: fmt.Sprintf("%s: %d epochs, %d steps, last epoch loss %.4f, train accuracy %.2f%%", step.Verb, o.Epochs, res.Steps, res.Loss, 100*res.Accuracy),
		Metrics: map[string]float64{"train_loss": res.Loss, "train_accuracy": res.Accuracy},
		Series:  res.Series,
	}
	if res.HasVal {
		out.Metrics["val_accuracy"] = res.ValAccuracy
		out.Summary += fmt.Sprintf(", validation accuracy %.2f%%", 100*res.ValAccuracy)
	}
	return out, nil
}

// needModel reports a zoo architecture still waiting for its input shape.
func needModel(st *State) error {
	if st.Model != nil {
		return nil
	}
	if st.Pending != nil {
		return fmt.Errorf("model %s has no input shape yet: add a data line before this step", st.Pending.Name)
	}
	return fmt.Errorf("no model is loaded")
}

func runSnapshot(ctx context.Context, env *Env, st *State, step *check.Step) (*Outcome, error) {
	if err := needModel(st); err != nil {
		return nil, err
	}
	name := snapshotName(step)
	st.TakeSnapshot(name)
	return &Outcome{Summary: fmt.Sprintf("snapshot %s: %d parameters", name, st.Model.ParamCount())}, nil
}

func snapshotName(step *check.Step) string {
	if step.Name != "" {
		return step.Name
	}
	for _, v := range step.Words {
		return v.Str
	}
	return ""
}
