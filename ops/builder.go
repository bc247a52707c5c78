package ops

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/qpipe/qpipe/lang/source"
)

// Builder assembles a Model layer by layer with PyTorch's default
// initialisations, naming nodes and parameters by module path. Sub returns
// a builder for a submodule sharing the same model. Errors (duplicate
// names) are kept and returned by Build.
type Builder struct {
	m      *Model
	prefix string
	rng    *rand.Rand
	span   *source.Span
	err    *error
}

// NewBuilder starts a model; seed fixes the initial parameter values.
func NewBuilder(name string, seed uint64) *Builder {
	var err error
	var span source.Span
	return &Builder{m: NewModel(name), rng: rand.New(rand.NewPCG(seed, seed+1)), span: &span, err: &err}
}

// Sub returns a builder whose names are prefixed with prefix + ".".
func (b *Builder) Sub(prefix string) *Builder {
	s := *b
	s.prefix = b.name(prefix)
	return &s
}

// SetSpan sets the span given to nodes created from now on.
func (b *Builder) SetSpan(s source.Span) { *b.span = s }

// RNG is the builder's seeded random stream, for custom initialisation.
func (b *Builder) RNG() *rand.Rand { return b.rng }

// Model returns the model under construction.
func (b *Builder) Model() *Model { return b.m }

func (b *Builder) name(n string) string {
	if b.prefix == "" {
		return n
	}
	if n == "" {
		return b.prefix
	}
	return b.prefix + "." + n
}

func (b *Builder) fail(err error) {
	if *b.err == nil {
		*b.err = err
	}
}

// Build sets the model outputs, validates the graph and returns the model.
func (b *Builder) Build(outputs ...*Node) (*Model, error) {
	if *b.err != nil {
		return nil, *b.err
	}
	for _, o := range outputs {
		b.m.Outputs = append(b.m.Outputs, o.ID)
	}
	if err := b.m.Validate(); err != nil {
		return nil, err
	}
	return b.m, nil
}

// Input adds a model input.
func (b *Builder) Input(name string) *Node {
	n := b.m.AddNode(&Node{Kind: OpInput, Name: b.name(name), Span: *b.span})
	b.m.Inputs = append(b.m.Inputs, n.ID)
	return n
}

// Param adds a parameter named name (under the builder's prefix) and
// returns its full name.
func (b *Builder) Param(name string, t *Tensor, trainable bool) string {
	full := b.name(name)
	if _, err := b.m.AddParam(full, t, trainable); err != nil {
		b.fail(err)
	}
	return full
}

// Node adds a node of any kind; params maps roles to full parameter names.
func (b *Builder) Node(kind OpKind, name string, attrs Attrs, params map[string]string, inputs ...*Node) *Node {
	n := &Node{Kind: kind, Name: b.name(name), Attrs: attrs, Params: params, Span: *b.span}
	for _, in := range inputs {
		if in == nil {
			b.fail(fmt.Errorf("ops: node %s has a nil input", n.Name))
			continue
		}
		n.Inputs = append(n.Inputs, in.ID)
	}
	return b.m.AddNode(n)
}

// ParamNode adds a parameter and a node that outputs it (a class token, a
// position embedding).
func (b *Builder) ParamNode(name string, t *Tensor) *Node {
	p := b.Param(name, t, true)
	return b.Node(OpParam, name, Attrs{}, map[string]string{"value": p})
}

// Linear adds x·Wᵀ+b with torch's default init U(±1/sqrt(in)).
func (b *Builder) Linear(name string, x *Node, in, out int, bias bool) *Node {
	bound := 1 / math.Sqrt(float64(in))
	params := map[string]string{"weight": b.Param(name+".weight", b.Uniform(bound, out, in), true)}
	if bias {
		params["bias"] = b.Param(name+".bias", b.Uniform(bound, out), true)
	}
	return b.Node(OpLinear, name, Attrs{}, params, x)
}

// Conv2d adds a k×k convolution with torch's default init.
func (b *Builder) Conv2d(name string, x *Node, in, out, k int, o Conv2dOptions, bias bool) *Node {
	g := orOne(o.Groups)
	bound := 1 / math.Sqrt(float64(in/g*k*k))
	params := map[string]string{"weight": b.Param(name+".weight", b.Uniform(bound, out, in/g, k, k), true)}
	if bias {
		params["bias"] = b.Param(name+".bias", b.Uniform(bound, out), true)
	}
	a := Attrs{Stride: o.Stride[:], Padding: o.Padding[:], Dilation: o.Dilation[:], Groups: g}
	return b.Node(OpConv2d, name, a, params, x)
}

// BatchNorm adds batch norm over channel axis 1 (gamma 1, beta 0, running
// mean 0, running var 1).
func (b *Builder) BatchNorm(name string, x *Node, ch int) *Node {
	params := map[string]string{
		"weight":       b.Param(name+".weight", b.Full(1, ch), true),
		"bias":         b.Param(name+".bias", New(ch), true),
		"running_mean": b.Param(name+".running_mean", New(ch), false),
		"running_var":  b.Param(name+".running_var", b.Full(1, ch), false),
	}
	return b.Node(OpBatchNorm, name, Attrs{}, params, x)
}

// LayerNorm adds layer norm over the last axis of size dim.
func (b *Builder) LayerNorm(name string, x *Node, dim int) *Node {
	params := map[string]string{
		"weight": b.Param(name+".weight", b.Full(1, dim), true),
		"bias":   b.Param(name+".bias", New(dim), true),
	}
	return b.Node(OpLayerNorm, name, Attrs{}, params, x)
}

// Act adds an activation node of the given kind.
func (b *Builder) Act(kind OpKind, name string, x *Node) *Node {
	if !IsActivation(kind) {
		b.fail(fmt.Errorf("ops: %s is not an activation", kind))
	}
	return b.Node(kind, name, Attrs{}, nil, x)
}

// Op adds a parameter-free node (add, reshape, softmax, ...).
func (b *Builder) Op(kind OpKind, name string, attrs Attrs, inputs ...*Node) *Node {
	return b.Node(kind, name, attrs, nil, inputs...)
}

// Attention adds multi-head self-attention on a fused qkv input (see
// OpAttention). With a.Window > 0 it creates Swin's relative-position bias
// table ((2·Window-1)², Heads), initialised N(0, 0.02) truncated at ±2σ.
func (b *Builder) Attention(name string, qkv *Node, a Attrs) *Node {
	var params map[string]string
	if a.Window > 0 {
		table := b.TruncNormal(0.02, (2*a.Window-1)*(2*a.Window-1), a.Heads)
		params = map[string]string{"relative_position_bias_table": b.Param(name+".relative_position_bias_table", table, true)}
	}
	return b.Node(OpAttention, name, a, params, qkv)
}

// Uniform returns a tensor drawn from U(-bound, bound).
func (b *Builder) Uniform(bound float64, shape ...int) *Tensor {
	t := New(shape...)
	InitUniform(t, b.rng, -bound, bound)
	return t
}

// TruncNormal returns a tensor drawn from N(0, std²) truncated to ±2std.
func (b *Builder) TruncNormal(std float64, shape ...int) *Tensor {
	t := New(shape...)
	InitTruncNormal(t, b.rng, std)
	return t
}

// Full returns a tensor filled with v.
func (b *Builder) Full(v float32, shape ...int) *Tensor {
	t := New(shape...)
	fill(t.Data, v)
	return t
}

// InitUniform fills t from U(lo, hi).
func InitUniform(t *Tensor, rng *rand.Rand, lo, hi float64) {
	for i := range t.Data {
		t.Data[i] = float32(lo + (hi-lo)*rng.Float64())
	}
}

// InitNormal fills t from N(mean, std²).
func InitNormal(t *Tensor, rng *rand.Rand, mean, std float64) {
	for i := range t.Data {
		t.Data[i] = float32(mean + std*rng.NormFloat64())
	}
}

// InitTruncNormal fills t from N(0, std²) redrawn outside ±2std.
func InitTruncNormal(t *Tensor, rng *rand.Rand, std float64) {
	for i := range t.Data {
		v := rng.NormFloat64()
		for math.Abs(v) > 2 {
			v = rng.NormFloat64()
		}
		t.Data[i] = float32(std * v)
	}
}
