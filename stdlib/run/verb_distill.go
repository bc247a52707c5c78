package run

import (
	"context"
	"fmt"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/stdlib/compress"
	"github.com/qpipe/qpipe/stdlib/train"
)

func init() {
	Register("distill", Verb{Run: runDistill})
}

// runDistill trains the current model against a snapshot
// (compress.Distill), evaluating after every round on the test split (the
// validation split when there is no test split). Each round's figures are
// reported as accuracy_round_N, loss_round_N (test cross-entropy) and
// distill_loss_round_N (the training objective).
func runDistill(ctx context.Context, env *Env, st *State, step *check.Step) (*Outcome, error) {
	if err := needModel(st); err != nil {
		return nil, err
	}
	if st.Data == nil {
		return nil, fmt.Errorf("distill needs data, and no dataset is bound")
	}
	var a distillArgs
	if err := step.Decode(&a); err != nil {
		return nil, err
	}
	from, snap := teacherSnapshot(st, a.From)
	if snap == nil {
		return nil, fmt.Errorf("no snapshot named %s", from)
	}
	st.BeginCompression()
	o := distillOptions(env, st, step, a)
	o.Teacher = snap.Model
	samples := newSampler()
	o.Progress = samples.then(o.Progress)
	rounds, err := compress.Distill(ctx, st.Model, o)
	if len(rounds) > 0 {
		st.ModelChanged()
	}
	series := &Series{Epochs: roundPoints(rounds, o), Steps: samples.Points()}
	if err != nil {
		return nil, withSeries(err, series)
	}
	out := distillOutcome(st, from, o, rounds)
	out.Series = series
	return out, nil
}

// teacherSnapshot resolves distill's from=: "baseline" (the default) is
// the model before the first compression step of the branch, or the
// original model when none ran yet (State.Baseline); any other name is
// that snapshot. It returns the name the teacher goes by.
func teacherSnapshot(st *State, from string) (string, *Snapshot) {
	if from != BaselineSnapshot {
		return from, st.Snapshots[from]
	}
	if b, ok := st.Snapshots[BaselineSnapshot]; ok {
		return BaselineSnapshot, b
	}
	return "original", st.Snapshots["original"]
}

// distillArgs are a distill step's arguments.
type distillArgs struct {
	From        string  `arg:"from"`
	Iterations  int     `arg:"iterations"`
	Epochs      int     `arg:"epochs"`
	Temperature float64 `arg:"temperature"`
	Alpha       float64 `arg:"alpha"`
	LR          float64 `arg:"lr"`
	Optimizer   string  `arg:"optimizer"`
	Batch       int     `arg:"batch"`
	Teacher     string  `arg:"teacher"`
	Progressive string  `arg:"progressive"`
}

// distillOptions are a distill step's decoded arguments as the trainer
// takes them; batch is the one the checker resolved (the step's, the data
// line's or the bound dataset's).
func distillOptions(env *Env, st *State, step *check.Step, a distillArgs) compress.DistillOptions {
	o := compress.DistillOptions{Iterations: a.Iterations, Epochs: a.Epochs, Temperature: a.Temperature, Alpha: a.Alpha,
		AlphaSet: true, LR: a.LR, Optimizer: a.Optimizer, Batch: a.Batch, TeacherMode: a.Teacher,
		Progressive: a.Progressive == "stage", Train: st.Data.Splits.Train, Val: st.Data.Splits.Test,
		Normalize: st.Data.Spec.Normalize, Seed: env.StepSeed(), Backend: env.Backend, Span: step.Span}
	if o.Val == nil {
		o.Val = st.Data.Splits.Validation
	}
	if env.Tick != nil {
		o.Progress = distillTicks(env.Tick, o.Train.Len(), o.Batch)
	}
	return o
}

// distillTicks maps a round's training progress onto the run's ticks.
func distillTicks(tick func(Tick), images, batch int) func(train.Progress) {
	perEpoch := (images + batch - 1) / batch
	var sum float64
	return func(p train.Progress) {
		done := p.Step - (p.Epoch-1)*perEpoch
		if done == 1 {
			sum = 0
		}
		sum += p.Loss
		tick(Tick{Done: done, Total: perEpoch, Unit: "batches", Epoch: p.Epoch, Epochs: p.Epochs, Loss: sum / float64(max(done, 1))})
	}
}

// distillOutcome records the last round as the step's metrics and every
// round under its number.
func distillOutcome(st *State, from string, o compress.DistillOptions, rounds []compress.Round) *Outcome {
	last := rounds[len(rounds)-1]
	metrics := map[string]float64{"distill_loss": last.Loss, "train_accuracy": last.TrainAccuracy}
	st.Record("distill_loss", last.Loss, "distill_loss", last.Loss)
	var parts []string
	for _, r := range rounds {
		metrics[fmt.Sprintf("distill_loss_round_%d", r.Iteration)] = r.Loss
		p := fmt.Sprintf("round %d loss %.4f", r.Iteration, r.Loss)
		if r.Stage != "" {
			p = r.Stage + " " + p
		}
		if o.Val != nil {
			metrics[fmt.Sprintf("accuracy_round_%d", r.Iteration)] = r.Accuracy
			metrics[fmt.Sprintf("loss_round_%d", r.Iteration)] = r.ValLoss
			p += fmt.Sprintf(" accuracy %.4f", r.Accuracy)
		}
		parts = append(parts, p)
	}
	if o.Val != nil {
		metrics["accuracy"], metrics["loss"] = last.Accuracy, last.ValLoss
		st.Record("accuracy", last.Accuracy, "accuracy", last.Accuracy)
		st.Record("loss", last.ValLoss, "loss", last.ValLoss)
	}
	return &Outcome{Summary: fmt.Sprintf("distill from %s (teacher=%s): %s", from, o.TeacherMode, strings.Join(parts, "; ")), Metrics: metrics}
}

// roundPoints are the rounds as epoch points: one per round, at the
// round's last epoch, with the evaluation on o.Val when there is one.
func roundPoints(rounds []compress.Round, o compress.DistillOptions) []EpochPoint {
	out := make([]EpochPoint, len(rounds))
	for i, r := range rounds {
		out[i] = EpochPoint{Epoch: r.Iteration * max(o.Epochs, 1), Round: r.Iteration, Stage: r.Stage,
			TrainLoss: r.Loss, TrainAccuracy: r.TrainAccuracy, LR: o.LR, Seconds: r.Seconds}
		if o.Val != nil {
			out[i].ValLoss, out[i].ValAccuracy = ptr(r.ValLoss), ptr(r.Accuracy)
		}
	}
	return out
}
