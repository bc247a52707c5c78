package compress

import (
	"context"
	"github.com/qpipe/qpipe/stdlib/eval"
	"math"
	"testing"

	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/stdlib/train"
)

// TestKDLossMatchesTheFormula checks (1-a)·CE + a·T²·KL on hand-made
// logits against a float64 computation.
func TestKDLossMatchesTheFormula(t *testing.T) {
	m, ds := trained(t, ops.OpReLU)
	x := ops.MustFromData(append([]float32(nil), ds.X[:4*64]...), 4, 1, 8, 8)
	zt := logits(t, m, ds, 4)
	zs := ops.MustFromData([]float32{1, 0, -1, 2, 0.5, 0.5, 0, -2, 3, 1, 1, 1, -1, 0, 2, 0}, 4, 4)
	labels := []int{3, 0, 1, 2}
	const T, a = 3.0, 0.7
	c := ops.NewContext(cpu(t), ops.Options{})
	got := KDLoss(m, T, a)(c, zs, &train.Batch{X: x, Labels: labels}).Item()

	logSoftmax := func(z []float32, temp float64) []float64 {
		mx := math.Inf(-1)
		for _, v := range z {
			mx = math.Max(mx, float64(v)/temp)
		}
		var s float64
		for _, v := range z {
			s += math.Exp(float64(v)/temp - mx)
		}
		out := make([]float64, len(z))
		for i, v := range z {
			out[i] = float64(v)/temp - mx - math.Log(s)
		}
		return out
	}
	var ce, kl float64
	for r := range 4 {
		s, tt := zs.Data[r*4:r*4+4], zt.Data[r*4:r*4+4]
		ce -= logSoftmax(s, 1)[labels[r]]
		ls, lt := logSoftmax(s, T), logSoftmax(tt, T)
		for i := range 4 {
			kl += math.Exp(lt[i]) * (lt[i] - ls[i])
		}
	}
	want := (1-a)*ce/4 + a*T*T*kl/4
	if math.Abs(float64(got)-want) > 1e-4*math.Max(1, want) {
		t.Fatalf("KD loss %v; want %v", got, want)
	}
}

func TestDistillRecoversAReplacedModel(t *testing.T) {
	teacher, ds := trained(t, ops.OpGELU)
	tAcc, _, err := eval.AccuracyOn(context.Background(), cpu(t), teacher, ds, 64, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	student := teacher.Clone()
	if _, err := Replace(student, ops.OpGELU, ops.OpReLU, "*", source.Span{}); err != nil {
		t.Fatal(err)
	}
	var seen []int
	rounds, err := Distill(context.Background(), student, DistillOptions{Teacher: teacher, Iterations: 2, LR: 3e-3,
		Train: ds, Val: ds, Batch: 32, TeacherMode: "previous", OnRound: func(r Round) { seen = append(seen, r.Iteration) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(rounds) != 2 || len(seen) != 2 || rounds[1].Iteration != 2 {
		t.Fatalf("rounds %+v (callbacks %v); want 2", rounds, seen)
	}
	if last := rounds[1]; last.Accuracy < tAcc-0.05 || math.IsNaN(last.Loss) {
		t.Fatalf("student accuracy %.3f after distilling; teacher %.3f", last.Accuracy, tAcc)
	}
	if teacher.KindCounts()[ops.OpGELU] != 2 {
		t.Fatal("distilling changed the teacher")
	}
}

func TestDistillProgressiveGoesStageByStage(t *testing.T) {
	teacher, ds := trained(t, ops.OpGELU)
	student := teacher.Clone()
	if _, err := Replace(student, ops.OpGELU, ops.OpReLU, "*", source.Span{}); err != nil {
		t.Fatal(err)
	}
	var kinds []map[ops.OpKind]int
	rounds, err := Distill(context.Background(), student, DistillOptions{Teacher: teacher, Progressive: true, Train: ds, Batch: 64,
		OnRound: func(Round) { kinds = append(kinds, student.KindCounts()) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(rounds) != 2 || rounds[0].Stage != "stages.0" || rounds[1].Stage != "stages.1" || rounds[0].Replaced != 1 {
		t.Fatalf("rounds %+v; want one per stage", rounds)
	}
	if kinds[0][ops.OpReLU] != 1 || kinds[0][ops.OpGELU] != 1 || kinds[1][ops.OpReLU] != 2 {
		t.Fatalf("activations after each stage %v; want ReLU put back one stage at a time", kinds)
	}
	if _, err := Distill(context.Background(), teacher.Clone(), DistillOptions{Teacher: teacher, Progressive: true, Train: ds}); err == nil {
		t.Fatal("progressive distillation of an unreplaced model: want an error")
	}
	if _, err := Distill(context.Background(), student, DistillOptions{Teacher: teacher, Train: ds, TeacherMode: "best"}); err == nil {
		t.Fatal("teacher=best: want an error")
	}
}
