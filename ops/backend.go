package ops

// Backend is the contract a device implements: a small closed set of
// primitive kernels on tensors. Shapes are validated by the ops package
// before a kernel is called, so kernels may assume consistent arguments;
// they return ErrNotImplemented (wrapped) for what they lack.
//
// Conventions every implementation follows:
//   - tensors are dense row-major float32 (Tensor.Data);
//   - Backward kernels ACCUMULATE into gradient buffers (dx += ...); a nil
//     gradient buffer means that gradient is not wanted;
//   - an output may alias an input only where the method says so.
//
// The conformance suite in ops/opstest checks every method of a backend.
type Backend interface {
	// Name is the registry name ("cpu").
	Name() string
	// Capabilities describes what the backend provides.
	Capabilities() Capabilities

	// Gemm computes, for each batch index i in [0, Batch),
	// C_i = Alpha·op(A_i)·op(B_i) + Beta·C_i with row-major matrices,
	// op(A_i) M×K and op(B_i) K×N, A_i starting at a.Data[i*StrideA]
	// (StrideA 0 broadcasts one matrix), likewise B and C. Beta 0 ignores
	// C's old contents.
	Gemm(p GemmParams, a, b, c *Tensor) error

	// Unary computes y = f(x) elementwise; y may alias x.
	Unary(op UnaryOp, x, y *Tensor) error
	// UnaryBackward accumulates dx += f'(x)·dy; y is f(x) (some ops use it).
	UnaryBackward(op UnaryOp, x, y, dy, dx *Tensor) error
	// Binary computes y = a op b with numpy broadcasting of a and b to
	// y.Shape; y may alias a.
	Binary(op BinaryOp, a, b, y *Tensor) error
	// Affine computes y = x·mul + add; y may alias x.
	Affine(x, y *Tensor, mul, add float32) error
	// SumTo computes y = beta·y + alpha·(x summed over the axes where y,
	// aligned to x's trailing axes, has size 1 or no axis). It reduces for
	// Sum/Mean, un-broadcasts gradients and, with equal shapes, is an axpy.
	SumTo(x, y *Tensor, alpha, beta float32) error

	// Softmax computes y = softmax(x) (or log-softmax) along the middle axis
	// of the (Outer, Dim, Inner) view.
	Softmax(p SoftmaxParams, x, y *Tensor) error
	// SoftmaxBackward accumulates dx from y = Softmax(x) and dy.
	SoftmaxBackward(p SoftmaxParams, y, dy, dx *Tensor) error
	// CrossEntropy computes per-row loss[r] = -log softmax(logits[r])[labels[r]]
	// for (rows, classes) logits and stores the softmax in probs.
	CrossEntropy(logits *Tensor, labels []int, probs, loss *Tensor) error
	// CrossEntropyBackward accumulates dlogits[r] += (probs[r] - onehot(labels[r]))·dloss[r].
	CrossEntropyBackward(probs *Tensor, labels []int, dloss, dlogits *Tensor) error

	// Conv2d computes y = conv(x, w) + b for NCHW x, (OutC, C/Groups, KH, KW)
	// w and optional (OutC) b.
	Conv2d(p ConvParams, x, w, b, y *Tensor) error
	// Conv2dBackward accumulates dx, dw, db (each may be nil) from dy.
	Conv2dBackward(p ConvParams, x, w, dy, dx, dw, db *Tensor) error
	// MaxPool2d computes y and the flat input index of each maximum.
	MaxPool2d(p PoolParams, x, y *Tensor, argmax []int32) error
	// MaxPool2dBackward accumulates dx[argmax] += dy.
	MaxPool2dBackward(p PoolParams, dy *Tensor, argmax []int32, dx *Tensor) error
	// AvgPool2d computes the windowed mean.
	AvgPool2d(p PoolParams, x, y *Tensor) error
	// AvgPool2dBackward accumulates dx.
	AvgPool2dBackward(p PoolParams, dy, dx *Tensor) error

	// BatchNormStats computes per-channel mean and biased variance of the
	// (Outer, C, Inner) view over Outer and Inner.
	BatchNormStats(p NormParams, x, mean, variance *Tensor) error
	// BatchNorm computes y = (x-mean)·invstd·gamma + beta per channel.
	BatchNorm(p NormParams, x, mean, invstd, gamma, beta, y *Tensor) error
	// BatchNormBackward accumulates dx, dgamma, dbeta. With batchStats the
	// mean and invstd were computed from x itself (training) and dx includes
	// their derivative; otherwise they are constants (evaluation).
	BatchNormBackward(p NormParams, x, mean, invstd, gamma, dy, dx, dgamma, dbeta *Tensor, batchStats bool) error
	// LayerNorm normalizes each row of the (Outer, C) view and stores the
	// row mean and reciprocal std. gamma and beta may be nil.
	LayerNorm(p NormParams, x, gamma, beta, y, mean, rstd *Tensor) error
	// LayerNormBackward accumulates dx, dgamma, dbeta (each may be nil).
	LayerNormBackward(p NormParams, x, mean, rstd, gamma, dy, dx, dgamma, dbeta *Tensor) error

	// Permute writes y = x with axes reordered: y axis i is x axis perm[i].
	Permute(x, y *Tensor, perm []int) error
	// Slice writes y = x[start : start+Len*Step : Step] along the middle
	// axis of the (Outer, Dim, Inner) view.
	Slice(p SliceParams, x, y *Tensor) error
	// SliceBackward accumulates the slice of dx selected by p with dy.
	SliceBackward(p SliceParams, dy, dx *Tensor) error
	// Roll writes y = x shifted cyclically by shift along the middle axis of
	// the (Outer, Dim, Inner) view (torch.roll semantics).
	Roll(p RollParams, x, y *Tensor) error
	// Gather writes y[i, :] = table[index[i], :] for a (rows, D) table.
	Gather(table *Tensor, index []int32, y *Tensor) error
	// ScatterAdd accumulates dtable[index[i], :] += dy[i, :].
	ScatterAdd(dy *Tensor, index []int32, dtable *Tensor) error

	// FakeQuant writes y = (clamp(round(x/s)+z, QMin, QMax) - z)·s with s,
	// z per tensor or per channel of the (Outer, Channels, Inner) view.
	// zeroPoint may be nil (zero).
	FakeQuant(p FakeQuantParams, x, scale, zeroPoint, y *Tensor) error
	// FakeQuantBackward accumulates the straight-through gradient into dx
	// (dy where x lies inside the clamp range, 0 outside) and, when dscale is
	// not nil, the LSQ gradient of the scale.
	FakeQuantBackward(p FakeQuantParams, x, scale, zeroPoint, dy, dx, dscale *Tensor) error
}

// Capabilities describes a backend.
type Capabilities struct {
	Device  string // "cpu", "cuda"
	Threads int    // worker parallelism
	Float32 bool   // float32 training and inference
	Int8    bool   // implements Int8Backend
}

// UnaryOp names an elementwise function.
type UnaryOp int

// Elementwise functions. GELU is the erf form, GELUTanh the tanh
// approximation; Hardswish is x·relu6(x+3)/6.
const (
	UnaryIdentity UnaryOp = iota
	UnaryReLU
	UnaryGELU
	UnaryGELUTanh
	UnarySiLU
	UnaryHardswish
	UnaryTanh
	UnarySigmoid
	UnaryExp
	UnaryLog
	UnarySqrt
	UnarySquare
	UnaryAbs
	UnaryNeg
	UnaryRecip
	numUnary
)

var unaryNames = [...]string{"identity", "relu", "gelu", "gelu_tanh", "silu", "hardswish", "tanh",
	"sigmoid", "exp", "log", "sqrt", "square", "abs", "neg", "recip"}

func (op UnaryOp) String() string {
	if op >= 0 && op < numUnary {
		return unaryNames[op]
	}
	return "unary?"
}

// BinaryOp names a broadcasting arithmetic operation.
type BinaryOp int

// Broadcasting arithmetic.
const (
	BinaryAdd BinaryOp = iota
	BinarySub
	BinaryMul
	BinaryDiv
)

func (op BinaryOp) String() string {
	return [...]string{"add", "sub", "mul", "div"}[op]
}

// GemmParams describes a batched GEMM (see Backend.Gemm).
type GemmParams struct {
	TransA, TransB            bool
	M, N, K                   int
	Batch                     int
	StrideA, StrideB, StrideC int
	Alpha, Beta               float32
}

// ConvParams describes a 2-D convolution over NCHW tensors.
type ConvParams struct {
	N, C, H, W       int
	OutC, KH, KW     int
	StrideH, StrideW int
	PadH, PadW       int
	DilH, DilW       int
	Groups           int
	OutH, OutW       int
}

// PoolParams describes 2-D pooling over NCHW tensors.
type PoolParams struct {
	N, C, H, W       int
	KH, KW           int
	StrideH, StrideW int
	PadH, PadW       int
	OutH, OutW       int
	// CountIncludePad makes average pooling divide by the full window
	// (torch's default) instead of the in-bounds part.
	CountIncludePad bool
}

// NormParams is the (Outer, C, Inner) view of a normalisation: batch norm
// normalises channel C over Outer and Inner; layer norm normalises each of
// Outer rows of C values (Inner is 1).
type NormParams struct {
	Outer, C, Inner int
	Eps             float32
}

// SoftmaxParams is the (Outer, Dim, Inner) view of a softmax along Dim.
type SoftmaxParams struct {
	Outer, Dim, Inner int
	Log               bool
}

// SliceParams selects Len entries start, start+Step, ... of the middle
// axis of the (Outer, Dim, Inner) view.
type SliceParams struct {
	Outer, Dim, Inner int
	Start, Step, Len  int
}

// RollParams rolls the middle axis of the (Outer, Dim, Inner) view.
type RollParams struct {
	Outer, Dim, Inner int
	Shift             int
}

// FakeQuantParams describes fake quantization with the integer range
// [QMin, QMax]; the scale has Channels entries over the (Outer, Channels,
// Inner) view (Channels 1 is per-tensor).
type FakeQuantParams struct {
	Outer, Channels, Inner int
	QMin, QMax             float32
	// GradScale multiplies the LSQ scale gradient (1/sqrt(N·QMax) in the
	// LSQ paper); 0 means 1.
	GradScale float32
}
