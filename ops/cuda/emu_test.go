//go:build linux && amd64 && cgo

package cuda_test

import (
	"path/filepath"
	"testing"

	"github.com/qpipe/qpipe/ops/cuda"
	"github.com/qpipe/qpipe/ops/cuda/emu"
	"github.com/qpipe/qpipe/ops/opstest"
)

// TestEmulatedConformance runs the backend-independent conformance suite
// on the cuda backend with its kernels executed by the host emulator:
// values against float64 references, gradients against finite
// differences, same bits on every repeat.
func TestEmulatedConformance(t *testing.T) {
	opstest.Run(t, cuda.New(emu.New()))
}

// TestEmulatorKnowsEveryKernel: every entry of the committed PTX runs in
// the emulator.
func TestEmulatorKnowsEveryKernel(t *testing.T) {
	if m := emu.Missing(); len(m) > 0 {
		t.Fatalf("kernels in qpipe.ptx that emu.cc does not register: %v", m)
	}
}

// The PyTorch reference training steps of the small CNN and Swin, on the
// cuda backend's kernels under emulation.
func TestEmulatedTorchRefCNN(t *testing.T) {
	opstest.TorchRefCNN(t, cuda.New(emu.New()), filepath.Join("..", "testdata", "torchref", "cnn"))
}

func TestEmulatedTorchRefSwin(t *testing.T) {
	opstest.TorchRefSwin(t, cuda.New(emu.New()), filepath.Join("..", "testdata", "torchref", "swin"))
}

// TestTimeGemm: the GEMM timing helper of the gemm-cuda benchmark runs its
// warm-up and timed products on device buffers and reports each run.
func TestTimeGemm(t *testing.T) {
	times, err := cuda.New(emu.New()).TimeGemm(70, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != 2 {
		t.Fatalf("%d timings, want 2", len(times))
	}
}
