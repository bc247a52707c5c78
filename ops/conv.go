package ops

import "fmt"

// Conv2dOptions are torch.nn.Conv2d's geometry arguments. Zero Stride and
// Dilation mean 1; zero Groups means 1.
type Conv2dOptions struct {
	Stride   [2]int
	Padding  [2]int
	Dilation [2]int
	Groups   int
}

func orOne(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

// convOut is the output size of a convolution or pooling window.
func convOut(in, k, stride, pad, dil int) int {
	return (in+2*pad-dil*(k-1)-1)/stride + 1
}

// ConvGeometry validates shapes and returns the backend parameters of
// conv2d(x, w) with options o.
func ConvGeometry(x, w *Tensor, o Conv2dOptions) (ConvParams, error) {
	g := orOne(o.Groups)
	if x.Dims() != 4 || w.Dims() != 4 {
		return ConvParams{}, fmt.Errorf("want x (N,C,H,W) and weight (OutC,C/groups,KH,KW)")
	}
	p := ConvParams{N: x.Shape[0], C: x.Shape[1], H: x.Shape[2], W: x.Shape[3],
		OutC: w.Shape[0], KH: w.Shape[2], KW: w.Shape[3],
		StrideH: orOne(o.Stride[0]), StrideW: orOne(o.Stride[1]), PadH: o.Padding[0], PadW: o.Padding[1],
		DilH: orOne(o.Dilation[0]), DilW: orOne(o.Dilation[1]), Groups: g}
	if p.C != w.Shape[1]*g || p.OutC%g != 0 {
		return p, fmt.Errorf("input channels %d must equal weight in-channels %d × groups %d, and out-channels %d divide by groups", p.C, w.Shape[1], g, p.OutC)
	}
	if p.StrideH < 0 || p.StrideW < 0 || p.PadH < 0 || p.PadW < 0 {
		return p, fmt.Errorf("negative stride or padding")
	}
	p.OutH = convOut(p.H, p.KH, p.StrideH, p.PadH, p.DilH)
	p.OutW = convOut(p.W, p.KW, p.StrideW, p.PadW, p.DilW)
	if p.OutH <= 0 || p.OutW <= 0 {
		return p, fmt.Errorf("kernel %dx%d does not fit input %dx%d with padding %v", p.KH, p.KW, p.H, p.W, o.Padding)
	}
	return p, nil
}

// ConvActBackend is an optional Backend extension: convolution with the
// activation applied as the output is written, and a training forward that
// keeps what its backward pass would otherwise recompute.
type ConvActBackend interface {
	// Conv2dAct computes y = act(conv(x, w) + b), act ReLU when relu is set
	// and the identity otherwise. With keep it may return state (the
	// im2col columns) for Conv2dActBackward; nil means none.
	Conv2dAct(p ConvParams, x, w, b, y *Tensor, relu, keep bool) (saved any, err error)
	// Conv2dActBackward accumulates dx, dw, db (each may be nil) from dy;
	// with relu, y is the forward's output and dy counts only where y > 0.
	// saved is Conv2dAct's result for this y, or nil.
	Conv2dActBackward(p ConvParams, x, w, y, dy, dx, dw, db *Tensor, relu bool, saved any) error
}

// ConvReLUPoolBackend is an optional Backend extension for inference:
// convolution, bias, ReLU and 2×2 stride-2 max pooling in one pass, so the
// full-size activation is never written.
type ConvReLUPoolBackend interface {
	// Conv2dReLUMaxPool2 computes y = maxpool2x2(relu(conv(x, w) + b)) for
	// y (N, OutC, OutH/2, OutW/2).
	Conv2dReLUMaxPool2(p ConvParams, x, w, b, y *Tensor) error
}

// conv2dReLUMaxPool2 is MaxPool2d(Conv2dReLU(x, w, b, o)) with a 2×2,
// stride-2 window, in one pass where the backend allows and no gradient is
// recorded; otherwise the ops one after another.
func (c *Context) conv2dReLUMaxPool2(x, w, b *Tensor, o Conv2dOptions) *Tensor {
	fb, ok := c.b.(ConvReLUPoolBackend)
	if !ok || c.needsGrad(x, w, b) {
		return c.MaxPool2d(c.Conv2dReLU(x, w, b, o), PoolOptions{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}})
	}
	p, err := ConvGeometry(x, w, o)
	if err != nil {
		shapeErr("conv2d", err.Error(), x, w)
	}
	if b != nil && (b.Dims() != 1 || b.Numel() != p.OutC) {
		shapeErr("conv2d", fmt.Sprintf("bias must have shape [%d]", p.OutC), x, w, b)
	}
	if p.OutH < 2 || p.OutW < 2 {
		shapeErr("maxpool2d", "window [2 2] larger than input", x, w)
	}
	y := c.empty([]int{p.N, p.OutC, p.OutH / 2, p.OutW / 2})
	check("conv2d", fb.Conv2dReLUMaxPool2(p, x, w, b, y), x, w)
	return y
}

// Conv2d returns the 2-D convolution (cross-correlation, as torch) of NCHW
// x with weight w (OutC, C/groups, KH, KW) plus optional bias b (OutC).
func (c *Context) Conv2d(x, w, b *Tensor, o Conv2dOptions) *Tensor {
	return c.conv2d(x, w, b, o, false)
}

// Conv2dReLU returns ReLU(Conv2d(x, w, b, o)), the activation fused into
// the convolution's output pass (and its gradient into the backward's
// copy of dy) where the backend implements ConvActBackend.
func (c *Context) Conv2dReLU(x, w, b *Tensor, o Conv2dOptions) *Tensor {
	return c.conv2d(x, w, b, o, true)
}

func (c *Context) conv2d(x, w, b *Tensor, o Conv2dOptions, relu bool) *Tensor {
	p, err := ConvGeometry(x, w, o)
	if err != nil {
		shapeErr("conv2d", err.Error(), x, w)
	}
	if b != nil && (b.Dims() != 1 || b.Numel() != p.OutC) {
		shapeErr("conv2d", fmt.Sprintf("bias must have shape [%d]", p.OutC), x, w, b)
	}
	fb, fused := c.b.(ConvActBackend)
	if !fused {
		y := c.empty([]int{p.N, p.OutC, p.OutH, p.OutW})
		check("conv2d", c.b.Conv2d(p, x, w, b, y), x, w)
		if c.needsGrad(x, w, b) {
			c.record(y, func(dy *Tensor) {
				check("conv2d backward", c.b.Conv2dBackward(p, x, w, dy, c.gradFor(x), c.gradFor(w), c.gradFor(b)), x, w)
			})
		}
		if relu {
			return c.ReLU(y)
		}
		return y
	}
	y := c.empty([]int{p.N, p.OutC, p.OutH, p.OutW})
	grad := c.needsGrad(x, w, b)
	saved, err := fb.Conv2dAct(p, x, w, b, y, relu, grad && w.requiresGrad)
	check("conv2d", err, x, w)
	if grad {
		c.record(y, func(dy *Tensor) {
			check("conv2d backward", fb.Conv2dActBackward(p, x, w, y, dy, c.gradFor(x), c.gradFor(w), c.gradFor(b), relu, saved), x, w)
		})
	}
	return y
}

// PoolOptions are a pooling window's geometry. Zero Stride means the
// kernel size (torch's default).
type PoolOptions struct {
	Kernel  [2]int
	Stride  [2]int
	Padding [2]int
	// CountIncludePad divides average pools by the whole window, padding
	// included (torch's default is true; the zero value here is false).
	CountIncludePad bool
}

func poolGeometry(op string, x *Tensor, o PoolOptions) PoolParams {
	if x.Dims() != 4 {
		shapeErr(op, "want x (N,C,H,W)", x)
	}
	p := PoolParams{N: x.Shape[0], C: x.Shape[1], H: x.Shape[2], W: x.Shape[3],
		KH: o.Kernel[0], KW: o.Kernel[1], StrideH: o.Stride[0], StrideW: o.Stride[1],
		PadH: o.Padding[0], PadW: o.Padding[1], CountIncludePad: o.CountIncludePad}
	if p.StrideH == 0 {
		p.StrideH = p.KH
	}
	if p.StrideW == 0 {
		p.StrideW = p.KW
	}
	if p.KH <= 0 || p.KW <= 0 || p.StrideH <= 0 || p.StrideW <= 0 || p.PadH < 0 || p.PadW < 0 ||
		2*p.PadH > p.KH || 2*p.PadW > p.KW {
		shapeErr(op, fmt.Sprintf("bad window %v stride %v padding %v", o.Kernel, o.Stride, o.Padding), x)
	}
	p.OutH = convOut(p.H, p.KH, p.StrideH, p.PadH, 1)
	p.OutW = convOut(p.W, p.KW, p.StrideW, p.PadW, 1)
	if p.OutH <= 0 || p.OutW <= 0 {
		shapeErr(op, fmt.Sprintf("window %v larger than input", o.Kernel), x)
	}
	return p
}

// MaxPoolInferBackend is an optional Backend extension: the max pool
// without the argmax indices that only the backward needs.
type MaxPoolInferBackend interface {
	MaxPool2dInfer(p PoolParams, x, y *Tensor) error
}

// MaxPool2d returns the windowed maximum of NCHW x.
func (c *Context) MaxPool2d(x *Tensor, o PoolOptions) *Tensor {
	p := poolGeometry("maxpool2d", x, o)
	y := c.empty([]int{p.N, p.C, p.OutH, p.OutW})
	if fb, ok := c.b.(MaxPoolInferBackend); ok && !c.needsGrad(x) {
		check("maxpool2d", fb.MaxPool2dInfer(p, x, y), x)
		return y
	}
	arg := c.ints(y.Numel())
	check("maxpool2d", c.b.MaxPool2d(p, x, y, arg), x)
	if c.needsGrad(x) {
		c.record(y, func(dy *Tensor) {
			check("maxpool2d backward", c.b.MaxPool2dBackward(p, dy, arg, c.gradFor(x)), x)
		})
	}
	return y
}

// AvgPool2d returns the windowed mean of NCHW x.
func (c *Context) AvgPool2d(x *Tensor, o PoolOptions) *Tensor {
	p := poolGeometry("avgpool2d", x, o)
	y := c.empty([]int{p.N, p.C, p.OutH, p.OutW})
	check("avgpool2d", c.b.AvgPool2d(p, x, y), x)
	if c.needsGrad(x) {
		c.record(y, func(dy *Tensor) {
			check("avgpool2d backward", c.b.AvgPool2dBackward(p, dy, c.gradFor(x)), x)
		})
	}
	return y
}

// GlobalAvgPool averages NCHW x over H and W, returning (N, C).
func (c *Context) GlobalAvgPool(x *Tensor) *Tensor {
	if x.Dims() != 4 {
		shapeErr("global_avgpool", "want x (N,C,H,W)", x)
	}
	return c.Mean(x, []int{2, 3}, false)
}
