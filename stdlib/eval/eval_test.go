package eval

import (
	"context"
	"math"
	"testing"

	"github.com/qpipe/qpipe/ops"
	_ "github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/ops/modelio"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

func setup(t *testing.T) (ops.Backend, *ops.Model, *data.Dataset) {
	t.Helper()
	be, err := ops.NewBackend("cpu")
	if err != nil {
		t.Fatal(err)
	}
	m, err := zoo.Build("mlp", zoo.Shape{C: 1, H: 4, W: 4}, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	n := 10
	x := make([]float32, n*16)
	y := make([]int, n)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
	}
	for i := range y {
		y[i] = i % 3
	}
	return be, m, &data.Dataset{Name: "t", C: 1, H: 4, W: 4, X: x, Y: y, Classes: []string{"a", "b", "c"}}
}

// Accuracy agrees with one forward pass over the whole set, whatever the
// batch size.
func TestAccuracyMatchesOneForwardPass(t *testing.T) {
	be, m, ds := setup(t)
	c := ops.NewContext(be, ops.Options{})
	logits, err := m.Forward1(c, ops.MustFromData(ds.X, 10, 1, 4, 4))
	if err != nil {
		t.Fatal(err)
	}
	labels := ds.Y
	wantAcc, wantLoss := float64(Correct(logits, labels))/10, float64(c.CrossEntropy(logits, labels).Item())
	ticks := 0
	acc, loss, err := AccuracyOn(context.Background(), be, m, ds, 4, nil, func(done, total int) { ticks++ })
	if err != nil || acc != wantAcc || math.Abs(loss-wantLoss) > 1e-5 || ticks != 3 {
		t.Fatalf("AccuracyOn = %v %v %v, %d ticks; want %v %v, 3 ticks", acc, loss, err, ticks, wantAcc, wantLoss)
	}
}

func TestLatencyAndSize(t *testing.T) {
	be, m, _ := setup(t)
	d, err := Latency(context.Background(), be, m, []int{2, 1, 4, 4}, LatencyOptions{Runs: 3})
	if err != nil || d <= 0 {
		t.Fatalf("latency %v %v", d, err)
	}
	n, err := SizeBytes(m)
	b, _ := modelio.EncodeSafetensors(modelio.ModelTensors(m), map[string]string{"format": "pt", "qpipe_model": m.Name})
	if err != nil || n != len(b) || n < 4*int(m.ParamCount()) {
		t.Fatalf("size %d (%v), encoded %d, %d params", n, err, len(b), m.ParamCount())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Latency(ctx, be, m, []int{1, 1, 4, 4}, LatencyOptions{}); err == nil {
		t.Error("a cancelled latency run did not stop")
	}
}
