// Package ops is qpipe's execution engine: the model graph IR that verbs
// rewrite, an eager define-by-run autodiff tape, the Backend contract and
// registry, and the primitives (GEMM, conv, pooling, norms, softmax and
// losses, activations, attention pieces, fake quantization) with their
// gradients.
//
// # Tensors
//
// *Tensor is a dense row-major float32 array (Shape, Data). The public Go
// API for serving models (package infer) takes and returns gorgonia's
// *tensor.Dense and converts at its edge.
//
// # Models
//
// A Model is a list of Nodes in topological order. Each node has an OpKind
// from a small closed set (linear, conv2d, gelu, attention, fake_quant...),
// inputs (node IDs), Attrs, named parameters bound by role
// (params["weight"] = "stages.0.blocks.1.mlp.fc1.weight"), a module name
// and the source.Span of the recipe statement that made or last rewrote
// it. Verbs find nodes (FindKind, Match with globs such as
// "stages.*.blocks.*.mlp.act" or "**.act"), rewrite them (ReplaceKind,
// InsertAfter, InsertBefore, ExposeParam, Bypass), snapshot them (Clone)
// and serialise the structure (encoding/json; parameter values go to
// safetensors in Params order).
//
// Build one with a Builder, which names parameters by module path and
// initialises them as PyTorch does:
//
//	b := ops.NewBuilder("mlp", 1)
//	x := b.Input("x")
//	h := b.Linear("fc1", b.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, x), 784, 256, true)
//	h = b.Act(ops.OpReLU, "act", h)
//	y := b.Linear("fc2", h, 256, 10, true)
//	model, err := b.Build(y)
//
// # Training a step
//
// A Context runs primitives on a backend. With Grad on it records a tape;
// Backward accumulates gradients into parameters; Reset recycles every
// buffer of the step, so steady-state steps allocate no tensor storage.
//
//	import _ "github.com/qpipe/qpipe/ops/cpu" // registers "cpu"
//
//	be, err := ops.NewBackend("cpu")
//	c := ops.NewContext(be, ops.Options{Train: true, Grad: true, Seed: 1})
//	opt, err := optim.NewSGD(model.Trainable(), optim.SGDOptions{LR: 0.1, Momentum: 0.9})
//	for each batch (images *ops.Tensor, labels []int) {
//		logits, err := model.Forward1(c, images)
//		loss := c.CrossEntropy(logits, labels)
//		err = c.Backward(loss)
//		opt.Step()
//		opt.ZeroGrad()
//		c.Reset() // logits and loss are invalid from here: copy what you keep
//	}
//
// Evaluation uses Options{} (no training behaviour, no tape): Forward then
// frees intermediates as soon as their last reader has run. An adversarial
// attack marks its images with SetRequiresGrad(true) and reads Grad()
// after Backward.
//
// Primitives called directly on a Context panic with an *OpError on bad
// shapes; wrap such code in Guard to get an error. Model.Forward and
// Backward already do, and their errors name the op, the shapes, the node
// and its Span.
//
// # Backends
//
// A Backend implements the primitive kernels on tensors; backends register
// with RegisterBackend and are created with NewBackend(name). A binary
// built without CUDA answers NewBackend("cuda") with an error saying to
// build with -tags cuda. Kernels return ErrNotImplemented for what they
// lack; ops/opstest is the conformance suite every backend runs.
//
// Optional extensions let a backend fuse what the executor would otherwise
// run as separate passes: ConvActBackend (conv2d with a ReLU fused into its
// output and gradient, used by Context.Conv2dReLU), ConvReLUPoolBackend
// (conv2d, ReLU and a 2×2 max pool in one pass, inference only) and
// QKVAttentionBackend (attention nodes without relative-position bias or
// mask read q, k, v straight from the qkv projection).
// Model.Forward without an observing hook fuses a conv2d whose only reader
// is a ReLU (and, without gradients, a following 2×2 stride-2 max pool);
// a ForwardObserved hook sees every node, so nothing is fused there.
package ops
