package ops

// Reverse-mode autodiff on an eager, define-by-run tape.
//
// Every primitive computes its value at once. When recording is on (Grad)
// and some input requires a gradient, the primitive appends a tapeEntry to
// the context: its output tensor and a closure that, given the output's
// gradient dy, adds the input gradients (the vector-Jacobian product) into
// the inputs' grad buffers. Because ops run in program order, the tape is
// already a topological order of the computation, so Backward seeds the
// loss gradient with 1 and walks the tape backwards, calling each closure
// whose output received a gradient. An input's gradient is complete before
// its own entry runs: every consumer of a tensor was recorded after it.
//
// Gradient buffers of intermediate tensors come from the arena (and die at
// Reset); leaves (parameters, inputs marked with SetRequiresGrad) keep
// persistent buffers that accumulate across Backward calls until zeroed.
// Two shortcuts avoid memory traffic: a kernel with a beta argument writes
// a fresh gradient buffer instead of zeroing and accumulating (gradDst),
// and a scratch gradient computed for a single input is handed over without
// a copy (addGrad with owned).

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
	"unsafe"

	"github.com/qpipe/qpipe/internal/bounded"
)

// Options configures a Context.
type Options struct {
	// Train selects training behaviour: dropout is active and batch norm
	// normalises with batch statistics and updates its running statistics.
	Train bool
	// Grad records a tape so Backward can compute gradients. Off, nothing is
	// recorded and Model.Forward recycles intermediate buffers as it goes.
	Grad bool
	// Seed seeds the dropout random stream.
	Seed uint64
	// NodeTime, if set, is called after each step of Model.Forward with
	// the step's first node and its wall time. A fused step (conv + batch
	// norm + activation, a conv with its residual add, an inverted
	// residual block) is reported once, at its first node, so the times
	// are those of the forward as it runs (ForwardObserved's hook, by
	// contrast, turns fusion off). For per-layer profiles; see
	// docs/performance.md.
	NodeTime func(n *Node, d time.Duration)
}

// Context runs primitives eagerly on a backend. It owns the define-by-run
// tape (when Grad is on) and an arena of buffers that Reset recycles, so a
// training loop that calls Reset after each step allocates no new tensor
// storage in steady state.
//
// Primitive methods (Linear, Conv2d, ReLU, ...) panic with an *OpError on
// bad shapes; Model.Forward, Backward and Guard convert that panic into an
// error carrying the op, the shapes and the node's Span.
//
// A Context is not safe for concurrent use; backends parallelise inside
// each primitive.
type Context struct {
	b     Backend
	opts  Options
	tape  []tapeEntry
	arena arena
	rng   *rand.Rand
	// spare is the state the last forward on this context left (see
	// forwardState); nil while a forward runs, or before the first.
	spare *forwardState
	// boxes are headers Release handed back, for empty to hand out again.
	boxes []*tensorBox
}

type tapeEntry struct {
	out  *Tensor
	back func(dy *Tensor)
}

// NewContext returns a context running on b.
func NewContext(b Backend, o Options) *Context {
	return &Context{b: b, opts: o, arena: newArena(), rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))}
}

// Backend returns the backend primitives run on.
func (c *Context) Backend() Backend { return c.b }

// Training reports whether training behaviour is on.
func (c *Context) Training() bool { return c.opts.Train }

// GradEnabled reports whether ops are being recorded.
func (c *Context) GradEnabled() bool { return c.opts.Grad }

// SetTrain switches training behaviour (like torch's model.train()/eval()).
func (c *Context) SetTrain(on bool) { c.opts.Train = on }

// SetGrad switches recording on or off.
func (c *Context) SetGrad(on bool) { c.opts.Grad = on }

// NoGrad runs fn with recording off (a teacher's forward pass, metrics).
func (c *Context) NoGrad(fn func()) { c.WithMode(c.opts.Train, false, fn) }

// WithMode runs fn with the given train and grad settings, then restores
// the previous ones.
func (c *Context) WithMode(train, grad bool, fn func()) {
	old := c.opts
	c.opts.Train, c.opts.Grad = train, grad
	defer func() { c.opts.Train, c.opts.Grad = old.Train, old.Grad }()
	fn()
}

// Reset drops the tape and recycles every buffer the context handed out
// since the last Reset. Tensors returned by primitives become invalid:
// Clone what must be kept. Gradients of leaves (parameters, inputs marked
// with SetRequiresGrad) are not touched.
func (c *Context) Reset() {
	clear(c.tape)
	c.tape = c.tape[:0]
	c.arena.reset()
}

// Backward computes the gradient of the scalar loss with respect to every
// leaf that requires it, accumulating into their Grad buffers, then drops
// the tape. It is an error when the loss has more than one element or no
// gradient path.
func (c *Context) Backward(loss *Tensor) error {
	if loss.Numel() != 1 {
		return &OpError{Op: "backward", Shapes: [][]int{loss.Shape}, Msg: "loss must have exactly one element"}
	}
	one := c.empty(loss.Shape)
	one.Data[0] = 1
	return c.BackwardFrom(loss, one)
}

// BackwardFrom back-propagates the gradient dy of output y (same shape).
func (c *Context) BackwardFrom(y, dy *Tensor) error {
	if !SameShape(y.Shape, dy.Shape) {
		return &OpError{Op: "backward", Shapes: [][]int{y.Shape, dy.Shape}, Msg: "gradient shape differs from output"}
	}
	if !y.requiresGrad {
		return errors.New("ops: backward: the output does not depend on anything that requires a gradient (is Grad off, or are all parameters frozen?)")
	}
	return Guard(func() error {
		c.addGrad(y, dy, false)
		for i := len(c.tape) - 1; i >= 0; i-- {
			if e := c.tape[i]; e.out.grad != nil {
				e.back(e.out.grad)
			}
		}
		clear(c.tape)
		c.tape = c.tape[:0]
		return nil
	})
}

// needsGrad reports whether an op on these inputs must be recorded.
func (c *Context) needsGrad(ins ...*Tensor) bool {
	if !c.opts.Grad {
		return false
	}
	for _, t := range ins {
		if t != nil && t.requiresGrad {
			return true
		}
	}
	return false
}

// record appends out's backward function to the tape.
func (c *Context) record(out *Tensor, back func(dy *Tensor)) {
	out.requiresGrad = true
	out.leaf = false
	c.tape = append(c.tape, tapeEntry{out: out, back: back})
}

// gradFor returns t's gradient buffer (created zeroed on first use), or nil
// when t takes no gradient.
func (c *Context) gradFor(t *Tensor) *Tensor {
	if t == nil || !t.requiresGrad {
		return nil
	}
	if t.grad == nil {
		if t.leaf {
			t.grad = New(t.Shape...)
		} else {
			t.grad = c.zeros(t.Shape)
		}
	}
	return t.grad
}

// gradDst returns t's gradient buffer for a kernel that takes a beta
// (dst = beta·dst + ...): the existing buffer with beta 1, or a fresh
// buffer that the kernel overwrites (beta 0), saving its zeroing.
func (c *Context) gradDst(t *Tensor) (*Tensor, float32) {
	if t == nil || !t.requiresGrad {
		return nil, 0
	}
	if t.grad == nil && !t.leaf {
		t.grad = c.empty(t.Shape)
		return t.grad, 0
	}
	return c.gradFor(t), 1
}

// addGrad adds g (t's shape) into t's gradient. When owned is true g is a
// scratch buffer of this step that t may take over without a copy.
func (c *Context) addGrad(t, g *Tensor, owned bool) {
	if !t.requiresGrad {
		return
	}
	if t.grad == nil && !t.leaf && owned {
		t.grad = &Tensor{Shape: t.Shape, Data: g.Data}
		return
	}
	dst, beta := c.gradDst(t)
	view := &Tensor{Shape: dst.Shape, Data: g.Data}
	check("backward", c.b.SumTo(view, dst, 1, beta), t)
}

// empty returns an uninitialised tensor from the arena. A shape of up to
// four dimensions is copied into the same allocation as the header (one
// object instead of two; its capacity is its length, as a copy of its
// own would have); that header is one Release handed back when there is
// one (see boxOf), else a new one.
func (c *Context) empty(shape []int) *Tensor {
	data := c.arena.get(Numel(shape))
	if len(shape) == 0 || len(shape) > len(tensorBox{}.dims) { // nil for a scalar, as before
		return &Tensor{Shape: append([]int(nil), shape...), Data: data, leaf: true}
	}
	var box *tensorBox
	if k := len(c.boxes); k > 0 {
		box, c.boxes[k-1] = c.boxes[k-1], nil
		c.boxes = c.boxes[:k-1]
	} else {
		box = &tensorBox{}
	}
	n := copy(box.dims[:], shape)
	box.t = Tensor{Shape: box.dims[:n:n], Data: data, leaf: true}
	return &box.t
}

// tensorBox is a tensor header with room for its shape.
type tensorBox struct {
	t    Tensor
	dims [4]int
}

// boxOf returns the box whose header t is (made by empty, its shape still
// the box's own: the shape's array right after the header, as only a
// box's is), or nil.
func boxOf(t *Tensor) *tensorBox {
	dims := uintptr(unsafe.Pointer(t)) + unsafe.Offsetof(tensorBox{}.dims)
	if len(t.Shape) == 0 || uintptr(unsafe.Pointer(unsafe.SliceData(t.Shape))) != dims {
		return nil // a copy of a box's header points at the box's dims, not its own
	}
	return (*tensorBox)(unsafe.Pointer(t))
}

// zeros returns a zeroed tensor from the arena.
func (c *Context) zeros(shape []int) *Tensor {
	t := c.empty(shape)
	clear(t.Data)
	return t
}

// Empty returns an uninitialised tensor from the context's arena; it is
// recycled by Reset.
func (c *Context) Empty(shape ...int) *Tensor { return c.empty(shape) }

// Zeros returns a zeroed tensor from the context's arena.
func (c *Context) Zeros(shape ...int) *Tensor { return c.zeros(shape) }

// Release hands t's storage back to the arena before Reset. Only for
// tensors no one reads again (the executor uses it in no-grad mode): the
// header t itself may be the next primitive's output.
func (c *Context) Release(t *Tensor) {
	if t == nil || c.opts.Grad || !c.arena.put(t.Data) {
		return
	}
	if box := boxOf(t); box != nil {
		box.t = Tensor{} // drops t's storage and links until it is handed out
		c.boxes = append(c.boxes, box)
	}
}

// ints returns an int32 scratch buffer from the arena.
func (c *Context) ints(n int) []int32 { return c.arena.getInts(n) }

// int8s returns an uninitialised int8 buffer from the arena (the codes of
// an int8 activation): like float buffers it is recycled by Reset, so a
// forward after the first allocates (and zeroes) none.
func (c *Context) int8s(n int) []int8 { return c.arena.getInt8s(n) }

// arena recycles float32 and int32 buffers by exact length: a training step
// asks for the same sizes each time, so after the first step every request
// is served from the free lists. A length's float buffers are behind a
// pointer, so that a get or put looks the length up once.
type arena struct {
	free     map[int]*[][]float32
	used     map[*float32][]float32
	freeInts map[int][][]int32
	usedInts [][]int32
	freeI8   map[int][][]int8
	usedI8   [][]int8
}

func newArena() arena {
	return arena{free: map[int]*[][]float32{}, used: map[*float32][]float32{}, freeInts: map[int][][]int32{}, freeI8: map[int][][]int8{}}
}

func (a *arena) get(n int) []float32 {
	if n == 0 {
		return []float32{}
	}
	var buf []float32
	if l := a.free[n]; l != nil && len(*l) > 0 {
		buf = (*l)[len(*l)-1]
		*l = (*l)[:len(*l)-1]
	} else {
		if err := bounded.Check("tensor buffer", bounded.Bytes(n, 4)); err != nil {
			panic(err)
		}
		buf = make([]float32, n)
	}
	a.used[&buf[0]] = buf
	return buf
}

// put returns buf to the free lists and reports whether it took it (not:
// an empty buffer, one not from this arena, or one already returned).
func (a *arena) put(buf []float32) bool {
	if len(buf) == 0 {
		return false
	}
	if _, ok := a.used[&buf[0]]; !ok {
		return false
	}
	delete(a.used, &buf[0])
	a.keep(buf)
	return true
}

// keep adds buf to the free list of its length.
func (a *arena) keep(buf []float32) {
	l := a.free[len(buf)]
	if l == nil {
		l = new([][]float32)
		a.free[len(buf)] = l
	}
	*l = append(*l, buf)
}

func (a *arena) getInts(n int) []int32 {
	var buf []int32
	if l := a.freeInts[n]; len(l) > 0 {
		buf = l[len(l)-1]
		a.freeInts[n] = l[:len(l)-1]
	} else {
		buf = make([]int32, n)
	}
	a.usedInts = append(a.usedInts, buf)
	return buf
}

func (a *arena) getInt8s(n int) []int8 {
	var buf []int8
	if l := a.freeI8[n]; len(l) > 0 {
		buf = l[len(l)-1]
		a.freeI8[n] = l[:len(l)-1]
	} else {
		if err := bounded.Check("tensor buffer", bounded.Bytes(n, 1)); err != nil {
			panic(err)
		}
		buf = make([]int8, n)
	}
	a.usedI8 = append(a.usedI8, buf)
	return buf
}

func (a *arena) reset() {
	for k, buf := range a.used {
		a.keep(buf)
		delete(a.used, k)
	}
	for _, buf := range a.usedInts {
		a.freeInts[len(buf)] = append(a.freeInts[len(buf)], buf)
	}
	clear(a.usedInts)
	a.usedInts = a.usedInts[:0]
	for _, buf := range a.usedI8 {
		a.freeI8[len(buf)] = append(a.freeI8[len(buf)], buf)
	}
	clear(a.usedI8)
	a.usedI8 = a.usedI8[:0]
}

// String describes the context for debugging.
func (c *Context) String() string {
	return fmt.Sprintf("Context{backend=%s train=%v grad=%v tape=%d}", c.b.Name(), c.opts.Train, c.opts.Grad, len(c.tape))
}
