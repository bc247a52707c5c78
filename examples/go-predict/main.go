// Command go-predict serves a checkpoint qpipe exported, from Go: it loads
// it with package infer, classifies the test images of a built-in dataset
// in batches, prints the accuracy, and times batch-1 inference the way
// `evaluate latency` does (median of the timed runs after three warm-ups).
//
//	go run ./cmd/qpipe run examples/quickstart.qpipe
//	go run ./examples/go-predict out/quickstart/quickstart.safetensors
//
// Flags: -data (mnist, fashion-mnist or digits; default mnist), -n (test
// images, default all), -batch (default 64), -runs (batch-1 timings,
// default 50).
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	"gorgonia.org/tensor"

	"github.com/qpipe/qpipe/infer"
	"github.com/qpipe/qpipe/ops/data"
)

func main() {
	dataName := flag.String("data", "mnist", "built-in dataset whose test images are classified")
	n := flag.Int("n", 0, "test images to classify (0: all)")
	batch := flag.Int("batch", 64, "images per Predict call")
	runs := flag.Int("runs", 50, "timed batch-1 runs")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go-predict [-data NAME] [-n N] [-batch B] [-runs R] CHECKPOINT.safetensors")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 || *batch < 1 || *runs < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := serve(flag.Arg(0), *dataName, *n, *batch, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "go-predict:", err)
		os.Exit(1)
	}
}

func serve(path, dataName string, n, batch, runs int) error {
	m, err := infer.Load(path)
	if err != nil {
		return err
	}
	fmt.Printf("loaded %s: %s, input %v, %d classes\n", path, m.Format(), m.Input(), m.Classes())
	splits, err := data.Open(dataName, data.Options{})
	if err != nil {
		return err
	}
	test := splits.Test
	if test == nil {
		return fmt.Errorf("dataset %s has no test split", dataName)
	}
	if n <= 0 || n > test.Len() {
		n = test.Len()
	}
	correct, elapsed, err := classify(m, test, n, batch)
	if err != nil {
		return err
	}
	fmt.Printf("accuracy %.2f%% on %d %s test images (%.0f images/s at batch %d)\n",
		100*float64(correct)/float64(n), n, dataName, float64(n)/elapsed.Seconds(), batch)
	med, err := latency(m, image(test, 0, 1), runs)
	if err != nil {
		return err
	}
	fmt.Printf("latency b1: median %.3f ms over %d runs\n", float64(med.Microseconds())/1000, runs)
	return nil
}

// image returns test images [i, i+k) as a (k, C, H, W) tensor.
func image(ds *data.Dataset, i, k int) *tensor.Dense {
	per := ds.C * ds.H * ds.W
	return tensor.New(tensor.WithShape(k, ds.C, ds.H, ds.W), tensor.WithBacking(ds.X[i*per:(i+k)*per]))
}

// classify counts the correct top-1 predictions over the first n images.
func classify(m *infer.Model, ds *data.Dataset, n, batch int) (int, time.Duration, error) {
	correct := 0
	start := time.Now()
	for i := 0; i < n; i += batch {
		k := min(batch, n-i)
		pred, err := m.Classify(image(ds, i, k))
		if err != nil {
			return 0, 0, err
		}
		for j, p := range pred {
			if p == ds.Y[i+j] {
				correct++
			}
		}
	}
	return correct, time.Since(start), nil
}

// latency is the median time of one Predict call after three warm-ups.
func latency(m *infer.Model, x *tensor.Dense, runs int) (time.Duration, error) {
	times := make([]time.Duration, 0, runs)
	for i := -3; i < runs; i++ {
		start := time.Now()
		if _, err := m.Predict(x); err != nil {
			return 0, err
		}
		if i >= 0 {
			times = append(times, time.Since(start))
		}
	}
	sort.Slice(times, func(a, b int) bool { return times[a] < times[b] })
	return times[len(times)/2], nil
}
