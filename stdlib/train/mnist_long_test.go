package train

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

// TestLongCNNOnMNIST trains the zoo cnn on the real MNIST training set and
// reports test accuracy and wall time. It needs the MNIST files (see
// ops/data) and a few minutes, so it runs only with QPIPE_LONG=1:
//
//	QPIPE_LONG=1 go test ./stdlib/train -run LongCNNOnMNIST -v -timeout 30m
//
// QPIPE_EPOCHS overrides the epoch count (default 3).
func TestLongCNNOnMNIST(t *testing.T) {
	if os.Getenv("QPIPE_LONG") != "1" {
		t.Skip("set QPIPE_LONG=1 to train on MNIST")
	}
	epochs := 3
	if e := os.Getenv("QPIPE_EPOCHS"); e != "" {
		fmt.Sscan(e, &epochs)
	}
	splits, err := data.Open("mnist", data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	trainSet := splits.Train
	m, err := zoo.Build("cnn", zoo.Shape{C: 1, H: 28, W: 28}, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	trainL, _ := data.NewLoader(trainSet, data.LoaderOptions{BatchSize: 128, Shuffle: true, Seed: 1})
	testL, _ := data.NewLoader(splits.Test, data.LoaderOptions{BatchSize: 500})
	start := time.Now()
	o := Options{Epochs: epochs, LR: 0.05, Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4, NoDecay: true, Schedule: "cosine", Warmup: 100,
		OnEpoch: func(s EpochStats) error {
			t.Logf("epoch %d: train loss %.4f acc %.4f, test loss %.4f acc %.4f, %.0f img/s, %.1fs",
				s.Epoch, s.TrainLoss, s.TrainAcc, s.ValLoss, s.ValAcc, s.ImagesPerSec, s.Seconds)
			return nil
		}}
	h, err := Fit(context.Background(), m, trainL, testL, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cnn on MNIST: %d train images, %d epochs, test accuracy %.4f, wall %.1fs",
		trainSet.Len(), epochs, h.Last().ValAcc, time.Since(start).Seconds())
	if h.Last().ValAcc < 0.985 {
		t.Errorf("test accuracy %.4f below 0.985", h.Last().ValAcc)
	}
}
