//go:build cuda

package cuda_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cuda"
	"github.com/qpipe/qpipe/ops/opstest"
)

// gpu returns the registered "cuda" backend on the real device, or skips
// with the driver's reason; with QPIPE_REQUIRE_CUDA=1 (the GPU machine's
// runner, scripts/device/check.sh) a missing GPU fails instead.
func gpu(t *testing.T) *cuda.Backend {
	t.Helper()
	b, err := ops.NewBackend("cuda")
	if err != nil {
		if os.Getenv("QPIPE_REQUIRE_CUDA") == "1" {
			t.Fatalf("QPIPE_REQUIRE_CUDA=1: %v", err)
		}
		t.Skipf("not run, no GPU here: %v", err)
	}
	t.Logf("device: %s", b.(*cuda.Backend).Device().Name())
	return b.(*cuda.Backend)
}

// TestGPUConformance is ops/opstest on the GPU, the float64 references of
// the suite standing in for the CPU (the CPU backend passes the same
// suite): values, finite-difference gradients, same bits on every repeat.
func TestGPUConformance(t *testing.T) { opstest.Run(t, gpu(t)) }

func TestGPUTorchRefCNN(t *testing.T) {
	opstest.TorchRefCNN(t, gpu(t), filepath.Join("..", "testdata", "torchref", "cnn"))
}

func TestGPUTorchRefSwin(t *testing.T) {
	opstest.TorchRefSwin(t, gpu(t), filepath.Join("..", "testdata", "torchref", "swin"))
}

// TestGPUInt8GemmMatchesCPU: the dp4a GEMM and its epilogues on the device
// give the CPU's exact results.
func TestGPUInt8GemmMatchesCPU(t *testing.T) { testInt8Gemm(t, gpu(t)) }

// TestNoGPUIsAClearError: where the driver finds no device, creating the
// backend fails with the driver's reason and what to run instead (the
// process is still alive to say so: cu's init did not exit).
func TestNoGPUIsAClearError(t *testing.T) {
	if cuda.Probe() == nil {
		t.Skip("a GPU is present")
	}
	_, err := ops.NewBackend("cuda")
	if err == nil {
		t.Fatal("no GPU, yet the cuda backend was created")
	}
	for _, want := range []string{"no usable GPU", "cuInit", "--device cpu"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
