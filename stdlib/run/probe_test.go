package run

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/qpipe/qpipe/ops"
	_ "github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

func TestProbe(t *testing.T) {
	if os.Getenv("PROBE") == "" {
		t.Skip()
	}
	s, err := data.Open("mnist", data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	be, _ := ops.NewBackend("cpu")
	m, _ := zoo.Build("cnn", zoo.Shape{1, 28, 28}, 10, 1)
	start := time.Now()
	r, err := Fit(context.Background(), be, m, s.Train.Subset(12000), FitOptions{Epochs: 1, LR: 1e-3, Optimizer: "adamw", Batch: 64, Schedule: "cosine", Seed: 1}, nil)
	t.Log(r, err, time.Since(start))
	start = time.Now()
	acc, loss, err := Accuracy(context.Background(), be, m, s.Test, 256, nil, nil)
	t.Log(acc, loss, err, time.Since(start))
	d, err := Latency(context.Background(), be, m, [3]int{1, 28, 28}, 64, 10)
	t.Log(d, err)
}
