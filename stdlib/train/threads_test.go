package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

// TestSameWeightsOnAnyWorkerCount trains swin-micro and vit-tiny (layer
// norm, attention, a patch-embedding convolution: every summed gradient)
// for one epoch with 1, 2 and 8 CPU workers: the weights and the losses must
// have the same bits (docs/determinism.md).
func TestSameWeightsOnAnyWorkerCount(t *testing.T) {
	ds := noise28(96)
	for _, name := range []string{"swin-micro", "vit-tiny"} {
		var first []float32
		var firstLoss float64
		for _, workers := range []int{1, 2, 8} {
			m, err := zoo.Build(name, zoo.Shape{C: 1, H: 28, W: 28}, 10, 3)
			if err != nil {
				t.Fatal(err)
			}
			h, err := Fit(context.Background(), m, loader(t, ds, 48, true), nil,
				Options{Epochs: 1, Optimizer: "adamw", Seed: 5, Backend: cpu.New(cpu.Options{Threads: workers})})
			if err != nil {
				t.Fatal(err)
			}
			w, loss := weights(m), h.Epochs[0].TrainLoss
			if first == nil {
				first, firstLoss = w, loss
				continue
			}
			if loss != firstLoss {
				t.Errorf("%s: %d workers end with loss %v, 1 worker with %v", name, workers, loss, firstLoss)
			}
			for i := range w {
				if math.Float32bits(w[i]) != math.Float32bits(first[i]) {
					t.Errorf("%s: weight %d is %v with %d workers, %v with 1", name, i, w[i], workers, first[i])
					break
				}
			}
		}
	}
}

// noise28 is n random 1×28×28 images with 10 labels.
func noise28(n int) *data.Dataset {
	r := rand.New(rand.NewPCG(5, 6))
	ds := &data.Dataset{Name: "noise28", C: 1, H: 28, W: 28, X: make([]float32, n*784), Y: make([]int, n), Classes: make([]string, 10)}
	for i := range ds.X {
		ds.X[i] = r.Float32()
	}
	for i := range ds.Y {
		ds.Y[i] = r.IntN(10)
	}
	for i := range ds.Classes {
		ds.Classes[i] = fmt.Sprint(i)
	}
	return ds
}
