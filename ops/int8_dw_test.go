package ops_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
)

// goDepthwise is the CPU backend without its depthwise kernel: qconv2d
// falls back to ops.DepthwiseInt8Go. (A DepthwiseInt8 of another
// signature hides the embedded one from Int8DepthwiseBackend.)
type goDepthwise struct{ *cpu.Backend }

func (goDepthwise) DepthwiseInt8() {}

// invertedResidual is MobileNetV2's block without the add: a 1×1
// expansion to 20 channels (not a multiple of 16), ReLU6, a 3×3
// depthwise convolution of the given stride, ReLU6, a 1×1 projection,
// then a linear head.
func invertedResidual(t *testing.T, stride int) *ops.Model {
	b := ops.NewBuilder("block", 1)
	x := b.Input("x")
	h := b.Conv2d("expand", x, 3, 20, 1, ops.Conv2dOptions{}, true)
	h = b.Op(ops.OpClip, "relu6a", ops.Attrs{Lo: 0, Hi: 6}, h)
	h = b.Conv2d("dw", h, 20, 20, 3, ops.Conv2dOptions{Stride: [2]int{stride, stride}, Padding: [2]int{1, 1}, Groups: 20}, true)
	h = b.Op(ops.OpClip, "relu6b", ops.Attrs{Lo: 0, Hi: 6}, h)
	h = b.Conv2d("project", h, 20, 8, 1, ops.Conv2dOptions{}, true)
	h = b.Op(ops.OpGlobalAvgPool, "gap", ops.Attrs{}, h)
	h = b.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, h)
	m, err := b.Build(b.Linear("fc", h, 8, 5, true))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestInt8DepthwiseBlock: in an inverted-residual block converted to
// int8, the depthwise convolution becomes a qconv2d reading and writing
// int8 codes (the expansion requantizes into its scale, the ReLU6 clips
// pass codes), and the logits are bit-identical with the clips fused
// into the epilogues or run on the codes, with the CPU kernel on 1 and 3
// workers or the Go reference, and close to the float model's; strides 1
// and 2 on an odd-sized batch of 3.
func TestInt8DepthwiseBlock(t *testing.T) {
	for _, stride := range []int{1, 2} {
		t.Run(fmt.Sprintf("stride%d", stride), func(t *testing.T) {
			m := invertedResidual(t, stride)
			in := ops.New(3, 3, 9, 7)
			for i := range in.Data {
				in.Data[i] = float32((i*7)%17)/2 - 4
			}
			want := forward(t, m, in)
			r, err := m.ConvertInt8(ops.Int8Options{InputScales: calibrate(t, m, in)})
			if err != nil {
				t.Fatal(err)
			}
			dw := m.NodeByName("dw")
			if r.Converted != 4 || len(r.Skipped) != 0 || dw.Kind != ops.OpQConv2d || dw.Attrs.OutScale <= 0 || m.NodeByName("expand").Attrs.OutScale <= 0 {
				t.Fatalf("report %+v, dw %s out scale %v: want the depthwise conv int8 between int8 layers", r, dw.Kind, dw.Attrs.OutScale)
			}
			var ref []float32
			backends := map[string]ops.Backend{"go": goDepthwise{cpu.New(cpu.Options{Threads: 1})}}
			for _, th := range []int{1, 3} {
				backends[fmt.Sprintf("cpu%d", th)] = cpu.New(cpu.Options{Threads: th})
			}
			for _, name := range []string{"go", "cpu1", "cpu3"} {
				mm := m.Clone()
				ctx := ops.NewContext(backends[name], ops.Options{})
				fused, err := mm.Forward(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				got := append([]float32(nil), fused[0].Data...)
				int8Out := false
				apart, err := mm.ForwardObserved(ctx, func(n *ops.Node, _ []*ops.Tensor, out *ops.Tensor) {
					if n.Name == "dw" {
						_, _, int8Out = out.Int8()
					}
				}, in)
				if err != nil {
					t.Fatal(err)
				}
				if !int8Out {
					t.Fatalf("%s: the depthwise conv wrote float", name)
				}
				if ref == nil {
					ref = got
				}
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(apart[0].Data[i]) || math.Float32bits(got[i]) != math.Float32bits(ref[i]) {
						t.Fatalf("%s logit %d: %v with the clips fused, %v apart, %v on the Go reference", name, i, got[i], apart[0].Data[i], ref[i])
					}
				}
				assertClose(t, "int8 block vs float", apart[0], want, tol{atol: 0.1 * maxAbs(want)})
			}
		})
	}
}

// TestInt8DepthwiseFloatNeighbours: a depthwise qconv2d reading the float
// input (quantized, NCHW) and feeding a float node (dequantized output)
// matches its float convolution within int8 error, on the CPU kernel and
// the Go reference alike.
func TestInt8DepthwiseFloatNeighbours(t *testing.T) {
	b := ops.NewBuilder("dwonly", 1)
	x := b.Input("x")
	h := b.Conv2d("dw", x, 5, 5, 3, ops.Conv2dOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}, Groups: 5}, true)
	m, err := b.Build(b.Op(ops.OpGlobalAvgPool, "gap", ops.Attrs{}, h))
	if err != nil {
		t.Fatal(err)
	}
	in := ops.New(2, 5, 11, 6)
	for i := range in.Data {
		in.Data[i] = float32((i*11)%23)/4 - 2
	}
	want := forward(t, m, in)
	if _, err := m.ConvertInt8(ops.Int8Options{InputScales: calibrate(t, m, in)}); err != nil {
		t.Fatal(err)
	}
	if dw := m.NodeByName("dw"); dw.Kind != ops.OpQConv2d || dw.Attrs.OutScale != 0 {
		t.Fatalf("dw is %s with out scale %v, want a qconv2d with float output", dw.Kind, dw.Attrs.OutScale)
	}
	var ref []float32
	for _, be := range []ops.Backend{goDepthwise{cpu.New(cpu.Options{Threads: 1})}, cpu.New(cpu.Options{Threads: 2})} {
		got, err := m.Clone().Forward(ops.NewContext(be, ops.Options{}), in)
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = append([]float32(nil), got[0].Data...)
		}
		for i := range ref {
			if math.Float32bits(got[0].Data[i]) != math.Float32bits(ref[i]) {
				t.Fatalf("output %d: %v, %v on the Go reference", i, got[0].Data[i], ref[i])
			}
		}
		assertClose(t, "int8 depthwise vs float", got[0], want, tol{atol: 0.02 * maxAbs(want)})
	}
}
