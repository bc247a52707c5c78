package run

import (
	"context"
	"errors"
	"fmt"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/stdlib/adcorda"
	"github.com/qpipe/qpipe/stdlib/robust"
	"github.com/qpipe/qpipe/stdlib/train"
)

func init() {
	Register("adcorda", Verb{Run: runAdCorDA})
	Register("correct", Verb{Run: runCorrect})
	Register("adapt", Verb{Run: runAdapt})
}

// runAdCorDA runs both stages: correct the training set, adapt on it
// with Deep CORAL against the original set, then bind the original set
// again.
func runAdCorDA(ctx context.Context, env *Env, st *State, step *check.Step) (*Outcome, error) {
	if err := needTrainingData(st); err != nil {
		return nil, err
	}
	orig := st.Data
	res, err := correctData(ctx, env, st, step)
	if err != nil {
		return nil, err
	}
	out, err := adaptOn(ctx, env, st, step, res.Data, orig.Splits.Train)
	if err != nil {
		return nil, err
	}
	addCorrected(st, out, res)
	out.Summary = correctSummary(res) + "; " + out.Summary
	return out, nil
}

func runCorrect(ctx context.Context, env *Env, st *State, step *check.Step) (*Outcome, error) {
	if err := needTrainingData(st); err != nil {
		return nil, err
	}
	res, err := correctData(ctx, env, st, step)
	if err != nil {
		return nil, err
	}
	splits := *st.Data.Splits
	splits.Train = res.Data
	st.Data = &Dataset{Spec: st.Data.Spec, Splits: &splits}
	out := &Outcome{Summary: correctSummary(res) + "; the corrected set is the training set of the next adapt", Metrics: map[string]float64{}}
	addCorrected(st, out, res)
	return out, nil
}

// runAdapt trains on the corrected set bound by `correct` against the
// original training set, reopened from the data line.
func runAdapt(ctx context.Context, env *Env, st *State, step *check.Step) (*Outcome, error) {
	if err := needTrainingData(st); err != nil {
		return nil, err
	}
	src := st.Data.Splits.Train
	if !adcorda.IsCorrected(src) {
		return nil, fmt.Errorf("the training set is not a corrected set (a resumed run does not keep the set `correct` made): rerun from the correct step, or use adcorda, which runs both stages in one step")
	}
	orig, err := openData(env, st.Data.Spec)
	if err != nil {
		return nil, err
	}
	return adaptOn(ctx, env, st, step, src, orig.Splits.Train)
}

func needTrainingData(st *State) error {
	if err := needModel(st); err != nil {
		return err
	}
	if st.Data == nil || st.Data.Splits.Train == nil {
		return fmt.Errorf("AdCorDA needs a training set, and no dataset is bound")
	}
	return nil
}

// correctData is stage 1 on the bound training set.
func correctData(ctx context.Context, env *Env, st *State, step *check.Step) (adcorda.Corrected, error) {
	a := step.Args
	o := adcorda.CorrectOptions{Eps: a["eps"].Number(), StepSize: a["step_size"].Number(), Steps: int(a["steps"].Int),
		KeepUncorrected: a["keep_uncorrected"].Bool,
		Options:         robust.Options{Backend: env.Backend, Normalize: st.Data.Spec.Normalize, Batch: 128}}
	res, err := adcorda.Correct(ctx, st.Model, st.Data.Splits.Train, o)
	var ue *adcorda.UntrainedError
	if errors.As(err, &ue) {
		return res, fmt.Errorf("the model misclassifies %d of %d training samples; AdCorDA refines a trained classifier: add `train` (or load a trained model) above this line", ue.Wrong, ue.Total)
	}
	return res, err
}

func correctSummary(r adcorda.Corrected) string {
	return fmt.Sprintf("%d training samples misclassified: %d corrected, %d not", r.Wrong, r.Corrected, r.Uncorrected)
}

// addCorrected records stage 1's counts.
func addCorrected(st *State, out *Outcome, r adcorda.Corrected) {
	st.Record("corrected", float64(r.Corrected), "corrected", float64(r.Corrected))
	st.Record("uncorrected", float64(r.Uncorrected), "uncorrected", float64(r.Uncorrected))
	out.Metrics["corrected"] = float64(r.Corrected)
	out.Metrics["uncorrected"] = float64(r.Uncorrected)
	out.Metrics["misclassified"] = float64(r.Wrong)
	out.Metrics["corrected_samples"] = float64(r.Data.Len())
}

// adaptOn is stage 2: train the current model on src with the Deep CORAL
// term against batches of target, then bind the original training set
// again.
func adaptOn(ctx context.Context, env *Env, st *State, step *check.Step, src, target *data.Dataset) (*Outcome, error) {
	st.BeginCompression()
	o, err := fitOptions(env, st, step)
	if err != nil {
		return nil, err
	}
	var a struct {
		Lambda float64 `arg:"lambda"`
	}
	if err := step.Decode(&a); err != nil {
		return nil, err
	}
	srcL, err := data.NewLoader(src, data.LoaderOptions{BatchSize: o.Batch, Shuffle: true, Seed: o.Seed, Augment: o.Augment, Normalize: o.Normalize})
	if err != nil {
		return nil, err
	}
	tgtL, err := data.NewLoader(target, data.LoaderOptions{BatchSize: o.Batch, Shuffle: true, Seed: o.Seed + 1, Augment: o.Augment, Normalize: o.Normalize})
	if err != nil {
		return nil, err
	}
	al, err := adcorda.NewAligner(ctx, st.Model, tgtL, a.Lambda)
	if err != nil {
		return nil, err
	}
	defer al.Close()
	to := trainOptions(env.Backend, o, srcL.Batches(), env.Tick)
	to.Forward, to.Loss = al.Forward, al.Loss(st.Model)
	h, err := train.Fit(ctx, st.Model, srcL, nil, to)
	st.ModelChanged()
	splits := *st.Data.Splits
	splits.Train = target
	st.Data = &Dataset{Spec: st.Data.Spec, Splits: &splits}
	var div *train.DivergedError
	if errors.As(err, &div) {
		return nil, fmt.Errorf("%w: %v at epoch %d, batch %d (try a smaller lr or lambda)", ErrNonFinite, div.Loss, div.Epoch, div.Step)
	}
	if err != nil {
		return nil, err
	}
	last := h.Last()
	coral := al.Coral / float64(max(al.Batches, 1))
	st.Record("train_loss", last.TrainLoss, "train_loss", last.TrainLoss)
	st.Record("train_accuracy", last.TrainAcc, "train_accuracy", last.TrainAcc)
	return &Outcome{Summary: fmt.Sprintf("adapt on %d corrected samples against %d: %d epochs, last epoch loss %.4f, train accuracy %.2f%%, mean CORAL %.4g (lambda %g)",
		src.Len(), target.Len(), o.Epochs, last.TrainLoss, 100*last.TrainAcc, coral, a.Lambda),
		Metrics: map[string]float64{"train_loss": last.TrainLoss, "train_accuracy": last.TrainAcc, "coral": coral}}, nil
}
