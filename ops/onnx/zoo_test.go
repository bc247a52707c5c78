package onnx

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

// TestExportZooSwinMicroORT: the zoo's swin-micro (fused attention with
// relative-position bias and shifted-window mask, window partition and
// reverse, roll, patch merging) exports as FP32 ONNX that onnx.checker
// accepts and ONNX Runtime runs with logits within 1e-4 of qpipe's, for
// 28 px MNIST-shaped inputs (two stages, window 7) and 32 px RGB inputs
// (three stages, window 4); the export reads back with Import to the same
// logits.
func TestExportZooSwinMicroORT(t *testing.T) {
	for _, c := range []struct {
		in    zoo.Shape
		batch int
	}{{zoo.Shape{C: 1, H: 28, W: 28}, 16}, {zoo.Shape{C: 3, H: 32, W: 32}, 4}} {
		t.Run(c.in.String(), func(t *testing.T) {
			m, err := zoo.Build("swin-micro", c.in, 10, 7)
			if err != nil {
				t.Fatal(err)
			}
			counts := m.KindCounts()
			if counts[ops.OpAttention] == 0 || counts[ops.OpWindowPartition] == 0 || counts[ops.OpRoll] == 0 {
				t.Fatalf("swin-micro lacks the kinds under test: %v", counts)
			}
			var x *ops.Tensor
			if c.in.C == 1 {
				x = readNpy(t, filepath.Join("testdata", "swin_x.npy"))
			} else {
				x = ops.New(c.batch, c.in.C, c.in.H, c.in.W)
				for i := range x.Data {
					x.Data[i] = float32((i*7919)%255)/255 - 0.5
				}
			}
			want := forward(t, m, x)
			path := export(t, m, x.Shape)
			checkModel(t, path)
			got, _ := runORT(t, path, x, 0)
			d := maxAbsDiff(got.Data, want.Data)
			t.Logf("swin-micro %s (%v): max |onnxruntime - qpipe| = %.3g", c.in, counts, d)
			if d > exportTol {
				t.Errorf("onnxruntime logits differ by %.3g > %g", d, exportTol)
			}
			back, err := Import(path, ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(forward(t, back, x).Data, want.Data); d > exportTol {
				t.Errorf("re-imported logits differ by %.3g", d)
			}
			t.Logf("re-imported kinds: %s", fmt.Sprint(back.KindCounts()))
		})
	}
}

// TestExportZooViTTinyORT: the zoo's vit-tiny (class token via
// expand_batch, attention without window bias) exports as FP32 ONNX that
// onnx.checker accepts and ONNX Runtime runs within 1e-4 of qpipe, at a
// batch other than the traced one (the batch stays symbolic).
func TestExportZooViTTinyORT(t *testing.T) {
	m, err := zoo.Build("vit-tiny", zoo.Shape{C: 1, H: 28, W: 28}, 10, 3)
	if err != nil {
		t.Fatal(err)
	}
	if m.KindCounts()[ops.OpExpandBatch] == 0 {
		t.Fatalf("vit-tiny has no expand_batch: %v", m.KindCounts())
	}
	x := readNpy(t, filepath.Join("testdata", "swin_x.npy"))
	want := forward(t, m, x)
	path := export(t, m, []int{2, 1, 28, 28})
	checkModel(t, path)
	got, _ := runORT(t, path, x, 0)
	d := maxAbsDiff(got.Data, want.Data)
	t.Logf("vit-tiny: max |onnxruntime - qpipe| = %.3g", d)
	if d > exportTol {
		t.Errorf("onnxruntime logits differ by %.3g > %g", d, exportTol)
	}
}
