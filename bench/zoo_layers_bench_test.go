package bench

import (
	"testing"

	"github.com/qpipe/qpipe/stdlib/zoo"
)

// BenchmarkZooLayers times each step of the zoo resnet20's batch-1 and batch-64 FP32
// forward (3x32x32, random weights, frozen as infer-ort runs it) with
// ops.Options.NodeTime and logs one line per step (its first node, kind
// and median wall time, the first tenth left out as warm-up), then the
// sum of the medians against the median forward: the figures to set
// against ONNX Runtime's per-node profile of infer-ort's export
// (scripts/ort/profile.js) at the same thread count.
//
//	cd bench && go test -run XXX -bench ZooLayers -benchtime 2000x -cpu 1,2 -v
func BenchmarkZooLayers(b *testing.B) {
	s := zoo.Shape{C: 3, H: 32, W: 32}
	m, err := zoo.Build("resnet20", s, 10, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("resnet20/b1", func(b *testing.B) { b.Log(layerTable(b, m, s, 1)) })
	b.Run("resnet20/b64", func(b *testing.B) { b.Log(layerTable(b, m, s, 64)) })
}
