package ops

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// A frozen model is an inference snapshot. Freeze deep-copies a model's
// graph and parameters into storage nothing outside the snapshot can
// reach: the copies are never handed out (a forward's outputs that would
// share a parameter's storage are copied first), so their values cannot
// change while the snapshot lives. That makes two kinds of work a
// one-time cost instead of a per-forward one:
//
//   - what depends only on the graph and the weights: the steps (which
//     nodes each kernel computes: inverted residual blocks, convolution
//     chains, fused activations and pools) and each chain's batch norm
//     and bias folded into one scale and shift per channel;
//   - what a backend derives from a weight tensor (Winograd transforms):
//     its parameters are marked (Tensor.Frozen), and a backend may keep
//     a derived layout of a marked tensor without checking on each
//     forward that the weights are unchanged. Only Freeze marks a tensor,
//     and only its private copies, so an ordinary model's forward never
//     takes that path: its weights may change between any two forwards.
//
// The outputs are those of the model's own Forward at the time of Freeze,
// bit for bit: the same kernels run in the same order.

// Frozen is a model frozen for inference (see Freeze). Its Forward and
// Forward1 behave like the model's at the time it was frozen; changing the
// model afterwards does not change the snapshot. Concurrent forwards are
// safe, each with its own Context.
type Frozen struct {
	m      *Model
	plan   *stepPlan
	shown  []*Node      // copies of the nodes for Options.NodeTime
	params [][2]uintptr // the private parameters' storage, [start, end)

	steps atomic.Pointer[frozenSteps] // for the last backend traits seen
}

// frozenSteps are a frozen model's steps as findStep finds them on a
// backend with the given traits, indexed by each step's first node.
type frozenSteps struct {
	traits backendTraits
	steps  []step
}

// backendTraits are what of a backend the fusion checks read.
type backendTraits struct {
	int8Pool, int8Clamp bool
}

func traitsOf(b Backend) backendTraits {
	return backendTraits{int8Pool: poolsInt8(b), int8Clamp: clampsInt8(b)}
}

// Freeze returns an inference snapshot of m: a deep copy of its graph and
// parameters that nothing outside can change (see Frozen). m is checked
// first (Validate). Freezing copies every parameter once; call it once
// per model and run many forwards on the result.
func Freeze(m *Model) (*Frozen, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	own := m.Clone()
	f := &Frozen{m: own, shown: make([]*Node, len(own.Nodes))}
	for _, p := range own.params {
		p.Trainable = false
		p.Value.requiresGrad = false
		p.Value.frozen = true
		if len(p.Value.Data) > 0 {
			start := uintptr(unsafe.Pointer(unsafe.SliceData(p.Value.Data)))
			f.params = append(f.params, [2]uintptr{start, start + 4*uintptr(len(p.Value.Data))})
		}
	}
	for i, n := range own.Nodes {
		f.shown[i] = n.clone()
	}
	f.plan = newStepPlan(own)
	return f, nil
}

// Name is the frozen model's name.
func (f *Frozen) Name() string { return f.m.Name }

// Forward runs the frozen model on inputs (one per input node, in order),
// as Model.Forward does, on a Context without gradients or training mode
// (a frozen model runs inference only; anything else is an error).
// Options.NodeTime sees copies of the nodes.
func (f *Frozen) Forward(c *Context, inputs ...*Tensor) ([]*Tensor, error) {
	if len(inputs) != len(f.m.Inputs) {
		return nil, fmt.Errorf("ops: model %s takes %d inputs, got %d", f.m.Name, len(f.m.Inputs), len(inputs))
	}
	if c.opts.Grad || c.opts.Train {
		return nil, fmt.Errorf("ops: model %s is frozen for inference: run it on a Context without Grad and Train, or train the model it was frozen from", f.m.Name)
	}
	outs, err := forward(exec{c: c, m: f.m, shown: f.shown}, f.plan, f.stepsFor(c), inputs)
	if err != nil {
		return nil, err
	}
	for i, y := range outs {
		if f.shares(y) {
			outs[i] = y.Clone() // a parameter (or a view of one) is an output: hand out a copy
		}
	}
	return outs, nil
}

// Forward1 runs a one-output frozen model.
func (f *Frozen) Forward1(c *Context, inputs ...*Tensor) (*Tensor, error) {
	outs, err := f.Forward(c, inputs...)
	return oneOutput(f.m, outs, err)
}

// stepsFor returns the steps for c's backend, finding them on the first
// forward on a backend with other traits.
func (f *Frozen) stepsFor(c *Context) []step {
	t := traitsOf(c.b)
	if s := f.steps.Load(); s != nil && s.traits == t {
		return s.steps
	}
	s := &frozenSteps{traits: t, steps: f.findSteps(c)}
	f.steps.Store(s)
	return s.steps
}

// findSteps runs findStep over the whole graph once, as a forward would
// (every value computed before a node is there when it runs), and folds
// each convolution chain's batch norm and bias.
func (f *Frozen) findSteps(c *Context) []step {
	m := f.m
	steps := make([]step, len(m.Nodes))
	seen := make(values, f.plan.maxID+1)
	placeholder := &Tensor{}
	for _, id := range m.Inputs {
		seen[id] = placeholder
	}
	e := &exec{c: c, m: m}
	for i := 0; i < len(m.Nodes); i++ {
		n := m.Nodes[i]
		if n.Kind == OpInput {
			continue
		}
		st := findStep(c, m, i, f.plan.readers, seen)
		if st.isChain {
			st.conv = e.frozenChain(n, &st.chain)
		}
		steps[i] = st
		for k := i; k <= i+st.absorbed(); k++ {
			seen[m.Nodes[k].ID] = placeholder
		}
		i += st.absorbed()
	}
	return steps
}

// frozenChain is conv2d node n's chain ch without its input and
// residual, its parameters looked up and its output pass folded once
// (nil where a parameter is missing: the forward then reports it; no
// fold where the parameters' shapes do not fit: the forward reports or
// falls back as an ordinary one does).
func (e *exec) frozenChain(n *Node, ch *convChain) (fc *fusedConv) {
	defer func() {
		if recover() != nil {
			fc = nil
		}
	}()
	f := e.chainConv(n, ch)
	if f.w.Dims() == 4 {
		oc := f.w.Shape[0]
		if (f.b == nil || f.b.Numel() == oc) && (!f.bn.on || f.bn.fits(oc)) {
			scale, shift := f.affine(oc)
			f.folded = &affine{scale: scale, shift: shift}
		}
	}
	return &f
}

// shares reports whether y's storage overlaps one of the frozen
// parameters'.
func (f *Frozen) shares(y *Tensor) bool {
	if y == nil || len(y.Data) == 0 {
		return false
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(y.Data)))
	hi := lo + 4*uintptr(len(y.Data))
	for _, r := range f.params {
		if lo < r[1] && hi > r[0] {
			return true
		}
	}
	return false
}
