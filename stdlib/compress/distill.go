package compress

import (
	"context"
	"fmt"
	"github.com/qpipe/qpipe/stdlib/eval"
	"time"

	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/stdlib/train"
)

// KDLoss is Hinton's distillation loss for train.Fit:
//
//	(1-alpha)·CE(z_s, y) + alpha·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T))
//
// with the KL averaged over the batch. The teacher runs on the batch in
// evaluation mode with no tape (train.TeacherForward), so no gradient
// reaches it and its dropout is off.
func KDLoss(teacher *ops.Model, temperature, alpha float64) train.Loss {
	return func(c *ops.Context, logits *ops.Tensor, b *train.Batch) *ops.Tensor {
		zt, err := train.TeacherForward(c, teacher, b.X)
		if err != nil {
			panic(fmt.Errorf("distill: teacher forward: %w", err))
		}
		kl := c.MulScalar(c.KLDiv(logits, zt, float32(temperature)), float32(alpha*temperature*temperature))
		if alpha == 1 {
			return kl
		}
		ce := c.MulScalar(c.CrossEntropy(logits, b.Labels), float32(1-alpha))
		return c.Add(ce, kl)
	}
}

// DistillOptions configure Distill. Zero values select the defaults noted
// (those of the distill verb).
type DistillOptions struct {
	Teacher     *ops.Model // the from snapshot; required
	Iterations  int        // rounds (default 1)
	Epochs      int        // epochs per round (default 1)
	Temperature float64    // default 4
	Alpha       float64    // weight of the KL term, in [0, 1] (default 0.9; set AlphaSet for 0)
	AlphaSet    bool
	LR          float64 // default 1e-4
	Optimizer   string  // "adamw" (default) or "sgd"
	Batch       int     // default 64
	// TeacherMode is "original" (Teacher teaches every round, the
	// default) or "previous" (each round's student teaches the next).
	TeacherMode string
	// Progressive distills one stage at a time: the activations where the
	// student differs from the teacher are put back, then re-applied stage
	// by stage (Stages order, layers outside any stage last), each stage
	// followed by Iterations rounds.
	Progressive bool
	Train       *data.Dataset // required
	Val         *data.Dataset // evaluated after every round when set
	Normalize   *data.Normalize
	Augment     data.Augment
	Seed        uint64
	Backend     ops.Backend
	Span        source.Span // recorded on re-applied nodes
	Progress    func(train.Progress)
	// OnRound, when set, is called after every round.
	OnRound func(Round)
}

// Round is one finished distillation round.
type Round struct {
	Iteration     int     `json:"iteration"`       // 1-based, counted over the whole run
	Stage         string  `json:"stage,omitempty"` // progressive: the stage just re-applied
	Replaced      int     `json:"replaced,omitempty"`
	Loss          float64 `json:"distill_loss"` // mean loss of the round's last epoch
	TrainAccuracy float64 `json:"train_accuracy"`
	Accuracy      float64 `json:"accuracy,omitempty"` // on Val
	ValLoss       float64 `json:"val_loss,omitempty"`
	Seconds       float64 `json:"seconds"`
}

func (o DistillOptions) withDefaults() (DistillOptions, error) {
	if o.Teacher == nil || o.Train == nil {
		return o, fmt.Errorf("distill: a teacher model and a training set are required")
	}
	o.Iterations = max(o.Iterations, 1)
	o.Epochs = max(o.Epochs, 1)
	o.Temperature = orDefault(o.Temperature, 4)
	if o.Alpha == 0 && !o.AlphaSet {
		o.Alpha = 0.9
	}
	o.LR = orDefault(o.LR, 1e-4)
	o.Batch = max(o.Batch, 0)
	if o.Batch == 0 {
		o.Batch = 64
	}
	if o.Optimizer == "" {
		o.Optimizer = "adamw"
	}
	switch {
	case o.TeacherMode == "":
		o.TeacherMode = "original"
	case o.TeacherMode != "original" && o.TeacherMode != "previous":
		return o, fmt.Errorf("distill: teacher=%q: want original or previous", o.TeacherMode)
	}
	if o.Alpha < 0 || o.Alpha > 1 || o.Temperature <= 0 {
		return o, fmt.Errorf("distill: alpha %g must be in [0, 1] and temperature %g positive", o.Alpha, o.Temperature)
	}
	var err error
	o.Backend, err = ops.OrDefault(o.Backend)
	return o, err
}

func orDefault(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

// Distill trains student against the teacher for o.Iterations rounds of
// o.Epochs epochs each (per stage when o.Progressive) and returns every
// round's figures. On an error the student keeps the weights of the last
// good step and the rounds finished so far are returned with it.
func Distill(ctx context.Context, student *ops.Model, o DistillOptions) ([]Round, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	d := &distiller{o: o, student: student, teacher: o.Teacher}
	if !o.Progressive {
		return d.rounds, d.run(ctx, "", 0)
	}
	groups, err := stageGroups(student, o.Teacher)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		for _, n := range g.nodes {
			student.ReplaceKind(n.node, n.to, o.Span)
		}
		if err := d.run(ctx, g.stage, len(g.nodes)); err != nil {
			return d.rounds, err
		}
	}
	return d.rounds, nil
}

// distiller carries a run's teacher and finished rounds across stages.
type distiller struct {
	o        DistillOptions
	student  *ops.Model
	teacher  *ops.Model
	rounds   []Round
	iterDone int
}

// run performs o.Iterations rounds; stage and replaced label them.
func (d *distiller) run(ctx context.Context, stage string, replaced int) error {
	for range d.o.Iterations {
		if d.o.TeacherMode == "previous" && d.iterDone > 0 {
			d.teacher = d.student.Clone()
		}
		r, err := d.round(ctx)
		if err != nil {
			return err
		}
		r.Stage, r.Replaced = stage, replaced
		replaced = 0
		d.rounds = append(d.rounds, r)
		if d.o.OnRound != nil {
			d.o.OnRound(r)
		}
	}
	return nil
}

// round is one Fit of o.Epochs epochs with the distillation loss, then an
// evaluation on o.Val.
func (d *distiller) round(ctx context.Context) (Round, error) {
	o := d.o
	d.iterDone++
	start := time.Now()
	loader, err := data.NewLoader(o.Train, data.LoaderOptions{BatchSize: o.Batch, Shuffle: true,
		Seed: o.Seed + uint64(d.iterDone), Augment: o.Augment, Normalize: o.Normalize})
	if err != nil {
		return Round{}, err
	}
	h, err := train.Fit(ctx, d.student, loader, nil, train.Options{Epochs: o.Epochs, Optimizer: o.Optimizer, LR: o.LR,
		NoDecay: true, Seed: o.Seed + uint64(d.iterDone), Backend: o.Backend, Progress: o.Progress,
		Loss: KDLoss(d.teacher, o.Temperature, o.Alpha)})
	if err != nil {
		return Round{}, fmt.Errorf("distill: round %d: %w", d.iterDone, err)
	}
	last := h.Last()
	r := Round{Iteration: d.iterDone, Loss: last.TrainLoss, TrainAccuracy: last.TrainAcc}
	if o.Val != nil {
		if r.Accuracy, r.ValLoss, err = eval.AccuracyOn(ctx, o.Backend, d.student, o.Val, o.Batch, o.Normalize, nil); err != nil {
			return r, err
		}
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// stageNode is one activation progressive distillation re-applies.
type stageNode struct {
	node *ops.Node
	to   ops.OpKind
}

// stageGroup is the activations of one stage.
type stageGroup struct {
	stage string
	nodes []stageNode
}

// stageGroups finds the activations where student differs from teacher
// (same node names), puts the teacher's kind back on them and returns them
// grouped by stage, in stage order.
func stageGroups(student, teacher *ops.Model) ([]stageGroup, error) {
	byStage := map[string][]stageNode{}
	for _, n := range student.Nodes {
		t := teacher.NodeByName(n.Name)
		if t == nil || t.Kind == n.Kind || !ops.IsActivation(n.Kind) || !ops.IsActivation(t.Kind) {
			continue
		}
		s := "rest"
		for _, st := range Stages(student) {
			if in, _ := InScope(st, n.Name); in {
				s = st
				break
			}
		}
		byStage[s] = append(byStage[s], stageNode{node: n, to: n.Kind})
		student.ReplaceKind(n, t.Kind, n.Span)
	}
	if len(byStage) == 0 {
		return nil, fmt.Errorf("distill: progressive=stage needs a replaced model, but no activation of %s differs from the teacher's (replace first)", student.Name)
	}
	var out []stageGroup
	for _, s := range append(Stages(student), "rest") {
		if nodes := byStage[s]; len(nodes) > 0 {
			out = append(out, stageGroup{stage: s, nodes: nodes})
		}
	}
	return out, nil
}
