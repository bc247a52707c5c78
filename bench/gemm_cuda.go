package bench

import (
	"fmt"
	"slices"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cuda"
)

func init() {
	Register("gemm-cuda", "fp32 GEMM TFLOP/s of the cuda backend's tiled kernel, operands on the device (n×n×n, default n = 1024 and 4096; needs a -tags cuda build and a GPU)", benchGemmCUDA)
}

func benchGemmCUDA(opts Options, emit func(Result)) error {
	dev := opts.Device
	if dev == "" {
		dev = "cuda"
	}
	be, err := ops.NewBackend(dev)
	if err != nil {
		return err
	}
	cb, ok := be.(*cuda.Backend)
	if !ok {
		return fmt.Errorf("gemm-cuda: device %s is not the cuda backend", dev)
	}
	sizes := opts.Sizes
	if len(sizes) == 0 {
		sizes = []int{1024, 4096}
	}
	for _, n := range sizes {
		reps := max(3, min(50, int(2e11/(2*float64(n)*float64(n)*float64(n)))))
		times, err := cb.TimeGemm(n, reps)
		if err != nil {
			return err
		}
		slices.Sort(times)
		flops := 2 * float64(n) * float64(n) * float64(n)
		med, best := times[len(times)/2], times[0]
		emit(Result{Case: fmt.Sprintf("sgemm/%d", n), Value: round1(flops / med.Seconds() / 1e12), Unit: "TFLOP/s",
			Extra: map[string]any{"device": cb.Device().Name(), "reps": reps, "best_tflops": flops / best.Seconds() / 1e12,
				"median_ms": float64(med.Microseconds()) / 1000}})
	}
	return nil
}
