package ops_test

import (
	"path/filepath"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/ops/opstest"
)

// The PyTorch references (testdata/torchref, from scripts/torch_ref_ops.py)
// run through ops/opstest, so every backend checks against the same files.

func TestCNNMatchesPyTorch(t *testing.T) {
	opstest.TorchRefCNN(t, cpu.New(cpu.Options{}), filepath.Join("testdata", "torchref", "cnn"))
}

func TestSwinMatchesPyTorch(t *testing.T) {
	opstest.TorchRefSwin(t, cpu.New(cpu.Options{}), filepath.Join("testdata", "torchref", "swin"))
}

func TestShiftedWindowMaskMatchesPyTorch(t *testing.T) {
	mask := opstest.LoadNpy(t, filepath.Join("testdata", "torchref", "swin", "buffer.blocks.1.attn_mask.npy"))
	got := ops.ShiftedWindowMask(8, 8, 4, 2)
	if got.Numel() != mask.Numel() {
		t.Fatalf("mask: %v, want %v", got.Shape, mask.Shape)
	}
	for i, w := range mask.Data {
		if got.Data[i] != w {
			t.Fatalf("mask element %d = %v, want %v", i, got.Data[i], w)
		}
	}
}

type tol struct{ atol, rtol float64 }

func assertClose(t *testing.T, what string, got, want *ops.Tensor, tl tol) {
	t.Helper()
	opstest.AssertClose(t, what, got, want, opstest.Tolerance{Atol: tl.atol, Rtol: tl.rtol})
}

func buildTinySwin(t *testing.T) *ops.Model { return opstest.TinySwin(t) }

func buildCNN(t *testing.T) *ops.Model { return opstest.SmallCNN(t) }
