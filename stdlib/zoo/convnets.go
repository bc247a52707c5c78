package zoo

import (
	"fmt"

	"github.com/qpipe/qpipe/ops"
)

// buildMLP is flatten → fc1 (256) → relu → fc2 (128) → relu → fc3.
func buildMLP(b *ops.Builder, x *ops.Node, in Shape, classes int) (*ops.Node, error) {
	h := b.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, x)
	h = b.Act(ops.OpReLU, "act1", b.Linear("fc1", h, in.C*in.H*in.W, 256, true))
	h = b.Act(ops.OpReLU, "act2", b.Linear("fc2", h, 256, 128, true))
	return b.Linear("fc3", h, 128, classes, true), nil
}

// buildCNN is the LeNet-like benchmark network: two 3×3 same-padded
// convolutions (32 and 64 channels) each followed by ReLU and 2×2 max
// pooling, then fc 128 with ReLU and the classifier.
func buildCNN(b *ops.Builder, x *ops.Node, in Shape, classes int) (*ops.Node, error) {
	if in.H < 4 || in.W < 4 {
		return nil, fmt.Errorf("cnn needs inputs of at least 4x4 pixels")
	}
	same := ops.Conv2dOptions{Stride: [2]int{1, 1}, Padding: [2]int{1, 1}, Dilation: [2]int{1, 1}}
	pool := ops.Attrs{Kernel: []int{2, 2}, Stride: []int{2, 2}}
	h := b.Act(ops.OpReLU, "act1", b.Conv2d("conv1", x, in.C, 32, 3, same, true))
	h = b.Op(ops.OpMaxPool2d, "pool1", pool, h)
	h = b.Act(ops.OpReLU, "act2", b.Conv2d("conv2", h, 32, 64, 3, same, true))
	h = b.Op(ops.OpMaxPool2d, "pool2", pool, h)
	h = b.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, h)
	h = b.Act(ops.OpReLU, "act3", b.Linear("fc1", h, 64*(in.H/4)*(in.W/4), 128, true))
	return b.Linear("fc2", h, 128, classes, true), nil
}

// buildResNet20 is He et al.'s CIFAR ResNet-20: a 3×3 stem (16), three
// stages of three basic blocks (16, 32, 64 channels; stride 2 at the first
// block of stages 1 and 2), global average pooling and the classifier.
// Shortcuts that change shape are 1×1 convolutions with batch norm
// (option B).
func buildResNet20(b *ops.Builder, x *ops.Node, in Shape, classes int) (*ops.Node, error) {
	h := convBN(b, "conv1", "bn1", x, in.C, 16, 1)
	h = b.Act(ops.OpReLU, "act1", h)
	ch := 16
	for s, width := range []int{16, 32, 64} {
		for i := range 3 {
			stride := 1
			if s > 0 && i == 0 {
				stride = 2
			}
			h = basicBlock(b.Sub(fmt.Sprintf("layer%d.%d", s+1, i)), h, ch, width, stride)
			ch = width
		}
	}
	h = b.Op(ops.OpGlobalAvgPool, "pool", ops.Attrs{}, h)
	return b.Linear("fc", h, 64, classes, true), nil
}

func basicBlock(b *ops.Builder, x *ops.Node, in, out, stride int) *ops.Node {
	h := b.Act(ops.OpReLU, "act1", convBN(b, "conv1", "bn1", x, in, out, stride))
	h = convBN(b, "conv2", "bn2", h, out, out, 1)
	short := x
	if stride != 1 || in != out {
		sb := b.Sub("downsample")
		o := ops.Conv2dOptions{Stride: [2]int{stride, stride}, Dilation: [2]int{1, 1}}
		short = sb.BatchNorm("1", sb.Conv2d("0", x, in, out, 1, o, false), out)
	}
	return b.Act(ops.OpReLU, "act2", b.Op(ops.OpAdd, "add", ops.Attrs{}, h, short))
}

// convBN is a bias-free 3×3 convolution (padding 1) and batch norm.
func convBN(b *ops.Builder, conv, bn string, x *ops.Node, in, out, stride int) *ops.Node {
	o := ops.Conv2dOptions{Stride: [2]int{stride, stride}, Padding: [2]int{1, 1}, Dilation: [2]int{1, 1}}
	return b.BatchNorm(bn, b.Conv2d(conv, x, in, out, 3, o, false), out)
}
