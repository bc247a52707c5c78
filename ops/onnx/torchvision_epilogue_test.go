package onnx

import (
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// TestTorchvisionMobileNetEpilogues: imported MobileNets run their
// ReLU6 (Clip 0..6), HardSwish and HardSigmoid in the epilogue of the
// convolution before them, as the zoo's ReLUs are; the fused logits match
// the unfused ones (a hook turns fusion off) within float32 rounding, and
// PyTorch's within zooTol. Below opset 14 nn.Hardswish exports as
// Mul(x, HardSigmoid(x)), which import fuses back to one hardswish, so
// both opsets give the same graph.
func TestTorchvisionMobileNetEpilogues(t *testing.T) {
	ref := zooKey("mobilenet_v3_small", 64, 17, "dyn")
	cases := []struct {
		key    string
		expect func(meta zooMeta, refMeta zooMeta) map[ops.OpKind]int // fused epilogues, at least
	}{
		{ref, func(m, _ zooMeta) map[ops.OpKind]int {
			return map[ops.OpKind]int{ops.OpHardswish: m.Ops["HardSwish"] - 1, ops.OpHardSigmoid: m.Ops["HardSigmoid"]}
		}},
		{zooKey("mobilenet_v3_small", 64, 13, "static"), func(_, r zooMeta) map[ops.OpKind]int {
			return map[ops.OpKind]int{ops.OpHardswish: r.Ops["HardSwish"] - 1, ops.OpHardSigmoid: r.Ops["HardSigmoid"]}
		}},
		{zooKey("mobilenet_v2", 64, 17, "dyn"), func(m, _ zooMeta) map[ops.OpKind]int {
			return map[ops.OpKind]int{ops.OpClip: m.Ops["Clip"]}
		}},
	}
	dir := zooExports(t, ref, cases[1].key, cases[2].key)
	refMeta := checkZoo(t, dir, ref).meta
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			r := checkZoo(t, dir, c.key)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.relErr > zooTol {
				t.Errorf("fused: relative logit error %.3g against PyTorch > %g", r.relErr, zooTol)
			}
			m := r.model
			kinds, fused := m.KindCounts(), ops.FusedEpilogues(m)
			want := c.expect(r.meta, refMeta)
			for k, n := range want {
				if fused[k] < n || n == 0 {
					t.Errorf("%d %s epilogues fused, want at least %d (%d %s nodes; fused %v)", fused[k], k, n, kinds[k], k, fused)
				}
			}
			if r.meta.Arch == refMeta.Arch && kinds[ops.OpHardswish] != refMeta.Ops["HardSwish"] {
				t.Errorf("opset %d: %d hardswish nodes, the opset-17 export has %d HardSwish", r.meta.Opset, kinds[ops.OpHardswish], refMeta.Ops["HardSwish"])
			}
			x := readNpy(t, dir+"/"+c.key+"/x.npy")
			ctx := evalCtx(t)
			got, err := m.Forward1(ctx, x)
			if err != nil {
				t.Fatal(err)
			}
			outs, err := m.ForwardObserved(ctx, func(*ops.Node, []*ops.Tensor, *ops.Tensor) {}, x)
			if err != nil {
				t.Fatal(err)
			}
			d := relErr(got.Data, outs[0].Data)
			t.Logf("%s: fused %v of kinds %v; fused vs unfused logits %.2g relative, vs PyTorch %.2g", c.key, fused, kinds, d, r.relErr)
			if d > 1e-6 {
				t.Errorf("fused and unfused logits differ by %.3g relative > 1e-6", d)
			}
		})
	}
}
