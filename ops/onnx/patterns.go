package onnx

// Pattern recognition on the ONNX graph, before conversion.
//
// PyTorch exports GELU (opsets < 20) and LayerNorm (opsets < 17) as chains
// of elementwise ops, and nn.Linear on 3-D inputs as MatMul + Add. Left
// alone they would import as many small nodes, and a recipe's
// `replace gelu with relu` would find nothing. fusePatterns finds each
// chain and replaces it with one synthetic node in the "qpipe" domain
// (qpipe.Gelu, qpipe.GeluTanh, qpipe.LayerNorm, qpipe.Linear,
// qpipe.HardSwish) placed
// where the chain's last node stood, named after its first node (so its
// module path is the PyTorch module's: "blocks.0.mlp.act"). A chain is
// fused only when its inner values have no other readers and its
// constants have the expected values:
//
//	GELU (erf):  Mul(Mul(x, Add(Erf(Div(x, √2)), 1)), 0.5), any operand
//	             order, or with x·0.5 formed first
//	GELU (tanh): 0.5·x·(1 + Tanh(√(2/π)·(x + 0.044715·x³))), x³ as
//	             Mul(x, Mul(x, x)) or Pow(x, 3)
//	LayerNorm:   d = Sub(x, ReduceMean(x)); Div(d, Sqrt(Add(ReduceMean(Pow(d, 2)), eps)))
//	             then optional Mul(·, weight) and Add(·, bias), last axis
//	Linear:      Add(MatMul(x, W), b) with W a 2-D and b a 1-D constant
//	HardSwish:   Mul(x, HardSigmoid(x; alpha 1/6, beta 0.5)), any operand
//	             order (nn.Hardswish below opset 14)

import (
	"math"

	"github.com/qpipe/qpipe/ops/onnx/onnxpb"
)

const fusedDomain = "qpipe"

// graphIndex answers producer/reader questions during matching.
type graphIndex struct {
	producer map[string]*onnxpb.NodeProto
	readers  map[string][]*onnxpb.NodeProto
	constOf  func(string) *konst
	outputs  map[string]bool
}

func newGraphIndex(nodes []*onnxpb.NodeProto, outputs []string, constOf func(string) *konst) *graphIndex {
	g := &graphIndex{producer: map[string]*onnxpb.NodeProto{}, readers: map[string][]*onnxpb.NodeProto{}, constOf: constOf, outputs: map[string]bool{}}
	for _, n := range nodes {
		for _, o := range n.GetOutput() {
			g.producer[o] = n
		}
		for _, in := range n.GetInput() {
			g.readers[in] = append(g.readers[in], n)
		}
	}
	for _, o := range outputs {
		g.outputs[o] = true
	}
	return g
}

// only returns the single reader of n's first output, if it has exactly one
// and the value is not a graph output.
func (g *graphIndex) only(n *onnxpb.NodeProto) *onnxpb.NodeProto {
	out := n.GetOutput()[0]
	if r := g.readers[out]; len(r) == 1 && !g.outputs[out] {
		return r[0]
	}
	return nil
}

// isConst reports whether name is a constant with a single value near v.
func (g *graphIndex) isConst(name string, v float64) bool {
	k := g.constOf(name)
	return k != nil && k.numel() == 1 && math.Abs(k.data[0]-v) <= 1e-4*math.Max(1, math.Abs(v))
}

// other returns the operand of a two-input node n that is not name, or "".
func other(n *onnxpb.NodeProto, name string) string {
	in := n.GetInput()
	switch {
	case len(in) != 2:
		return ""
	case in[0] == name:
		return in[1]
	case in[1] == name:
		return in[0]
	}
	return ""
}

func is(n *onnxpb.NodeProto, op string) bool {
	return n != nil && n.GetOpType() == op && n.GetDomain() == ""
}

// match is one recognised chain.
type match struct {
	nodes []*onnxpb.NodeProto // the chain, first to last
	fused *onnxpb.NodeProto
}

// fusePatterns returns the node list with every recognised chain
// replaced by its synthetic node.
func fusePatterns(nodes []*onnxpb.NodeProto, outputs []string, constOf func(string) *konst) ([]*onnxpb.NodeProto, error) {
	g := newGraphIndex(nodes, outputs, constOf)
	var matches []match
	used := map[*onnxpb.NodeProto]bool{}
	for _, n := range nodes {
		if used[n] {
			continue
		}
		var m *match
		switch {
		case is(n, "Erf"):
			m = g.geluErf(n)
		case is(n, "Tanh"):
			m = g.geluTanh(n)
		case is(n, "ReduceMean"):
			m = g.layerNorm(n)
		case is(n, "MatMul"):
			m = g.linear(n)
		case is(n, "HardSigmoid"):
			m = g.hardSwish(n)
		}
		if m == nil || anyUsed(used, m.nodes) {
			continue
		}
		for _, c := range m.nodes {
			used[c] = true
		}
		matches = append(matches, *m)
	}
	last := map[*onnxpb.NodeProto]*onnxpb.NodeProto{}
	for _, m := range matches {
		last[m.nodes[len(m.nodes)-1]] = m.fused
	}
	var out []*onnxpb.NodeProto
	for _, n := range nodes {
		if f := last[n]; f != nil {
			out = append(out, f)
		} else if !used[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

func anyUsed(used map[*onnxpb.NodeProto]bool, ns []*onnxpb.NodeProto) bool {
	for _, n := range ns {
		if used[n] {
			return true
		}
	}
	return false
}

func fused(op string, first, last *onnxpb.NodeProto, inputs ...string) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{Name: first.Name, OpType: ptr(op), Domain: ptr(fusedDomain), Input: inputs, Output: []string{last.GetOutput()[0]}}
}

func ptr[T any](v T) *T { return &v }

// geluTail matches the shared tail 0.5·x·p from p = Add(core, 1): either
// Mul(Mul(x, p), 0.5) in any order, or Mul(p, Mul(x, 0.5)). It returns
// the tail nodes (after the Add), or nil.
func (g *graphIndex) geluTail(add *onnxpb.NodeProto, x string) []*onnxpb.NodeProto {
	p := add.GetOutput()[0]
	m1 := g.only(add)
	if !is(m1, "Mul") {
		return nil
	}
	o := other(m1, p)
	if o == x { // Mul(x, p) then Mul(·, 0.5)
		m2 := g.only(m1)
		if is(m2, "Mul") && g.isConst(other(m2, m1.GetOutput()[0]), 0.5) {
			return []*onnxpb.NodeProto{m1, m2}
		}
		return nil
	}
	if g.isConst(o, 0.5) { // Mul(p, 0.5) then Mul(x, ·)
		m2 := g.only(m1)
		if is(m2, "Mul") && other(m2, m1.GetOutput()[0]) == x {
			return []*onnxpb.NodeProto{m1, m2}
		}
		return nil
	}
	if h := g.producer[o]; is(h, "Mul") && other(h, x) != "" && g.isConst(other(h, x), 0.5) && g.only(h) == m1 {
		return []*onnxpb.NodeProto{h, m1}
	}
	return nil
}

// geluErf matches x·0.5·(1 + erf(x/√2)) around an Erf node.
func (g *graphIndex) geluErf(erf *onnxpb.NodeProto) *match {
	div := g.producer[erf.GetInput()[0]]
	var x string
	switch {
	case is(div, "Div") && g.isConst(div.GetInput()[1], math.Sqrt2):
		x = div.GetInput()[0]
	case is(div, "Mul") && g.isConst(div.GetInput()[1], 1/math.Sqrt2):
		x = div.GetInput()[0]
	case is(div, "Mul") && g.isConst(div.GetInput()[0], 1/math.Sqrt2):
		x = div.GetInput()[1]
	default:
		return nil
	}
	if g.only(div) != erf {
		return nil
	}
	add := g.only(erf)
	if !is(add, "Add") || !g.isConst(other(add, erf.GetOutput()[0]), 1) {
		return nil
	}
	tail := g.geluTail(add, x)
	if tail == nil {
		return nil
	}
	chain := append([]*onnxpb.NodeProto{div, erf, add}, tail...)
	return &match{nodes: chain, fused: fused("Gelu", div, tail[len(tail)-1], x)}
}

// geluTanh matches 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) around a Tanh node.
func (g *graphIndex) geluTanh(th *onnxpb.NodeProto) *match {
	inner := g.producer[th.GetInput()[0]] // Mul(beta, s)
	if !is(inner, "Mul") || g.only(inner) != th {
		return nil
	}
	beta := math.Sqrt(2 / math.Pi)
	var sum *onnxpb.NodeProto
	for i, in := range inner.GetInput() {
		if g.isConst(in, beta) {
			sum = g.producer[inner.GetInput()[1-i]]
		}
	}
	if !is(sum, "Add") || g.only(sum) != inner {
		return nil
	}
	for i, in := range sum.GetInput() {
		x := sum.GetInput()[1-i]
		kap := g.producer[in]
		if !is(kap, "Mul") || g.only(kap) != sum {
			continue
		}
		cube := g.cubeOf(kap, x)
		if cube == nil {
			continue
		}
		add := g.only(th)
		if !is(add, "Add") || !g.isConst(other(add, th.GetOutput()[0]), 1) {
			return nil
		}
		tail := g.geluTail(add, x)
		if tail == nil {
			return nil
		}
		chain := append(append(cube, kap, sum, inner, th, add), tail...)
		return &match{nodes: chain, fused: fused("GeluTanh", cube[0], tail[len(tail)-1], x)}
	}
	return nil
}

// cubeOf matches kap = Mul(0.044715, x³) and returns the nodes forming x³.
func (g *graphIndex) cubeOf(kap *onnxpb.NodeProto, x string) []*onnxpb.NodeProto {
	for i, in := range kap.GetInput() {
		if !g.isConst(in, 0.044715) {
			continue
		}
		c := g.producer[kap.GetInput()[1-i]]
		if c == nil || g.only(c) != kap {
			return nil
		}
		if is(c, "Pow") && c.GetInput()[0] == x && g.isConst(c.GetInput()[1], 3) {
			return []*onnxpb.NodeProto{c}
		}
		if is(c, "Mul") {
			sq := g.producer[other(c, x)]
			if is(sq, "Mul") && sq.GetInput()[0] == x && sq.GetInput()[1] == x && g.only(sq) == c {
				return []*onnxpb.NodeProto{sq, c}
			}
		}
	}
	return nil
}

// lastAxisMean reports whether n is a ReduceMean over the last axis only
// with keepdims (axes as attribute, opsets 13-17).
func lastAxisMean(n *onnxpb.NodeProto) bool {
	axes, ok := attrInts(n, "axes")
	return is(n, "ReduceMean") && ok && len(axes) == 1 && axes[0] == -1 && attrInt(n, "keepdims", 1) == 1
}

// layerNorm matches the decomposed LayerNorm starting at its first ReduceMean.
func (g *graphIndex) layerNorm(mean *onnxpb.NodeProto) *match {
	if !lastAxisMean(mean) {
		return nil
	}
	x := mean.GetInput()[0]
	sub := g.only(mean)
	if !is(sub, "Sub") || sub.GetInput()[0] != x || sub.GetInput()[1] != mean.GetOutput()[0] {
		return nil
	}
	d := sub.GetOutput()[0]
	rs := g.readers[d]
	if len(rs) != 2 || g.outputs[d] {
		return nil
	}
	pow, div := rs[0], rs[1]
	if is(div, "Pow") {
		pow, div = div, pow
	}
	if !is(pow, "Pow") || !g.isConst(pow.GetInput()[1], 2) || !is(div, "Div") || div.GetInput()[0] != d {
		return nil
	}
	vmean := g.only(pow)
	if !lastAxisMean(vmean) {
		return nil
	}
	addEps := g.only(vmean)
	if !is(addEps, "Add") {
		return nil
	}
	epsK := g.constOf(other(addEps, vmean.GetOutput()[0]))
	sqrt := g.only(addEps)
	if epsK == nil || epsK.numel() != 1 || !is(sqrt, "Sqrt") || g.only(sqrt) != div || div.GetInput()[1] != sqrt.GetOutput()[0] {
		return nil
	}
	chain := []*onnxpb.NodeProto{mean, sub, pow, vmean, addEps, sqrt, div}
	inputs := []string{x}
	last := div
	if mul := g.only(div); is(mul, "Mul") && g.constOf(other(mul, div.GetOutput()[0])) != nil {
		chain, last = append(chain, mul), mul
		inputs = append(inputs, other(mul, div.GetOutput()[0]))
		if add := g.only(mul); is(add, "Add") && g.constOf(other(add, mul.GetOutput()[0])) != nil {
			chain, last = append(chain, add), add
			inputs = append(inputs, other(add, mul.GetOutput()[0]))
		}
	}
	f := fused("LayerNorm", mean, last, inputs...)
	f.Attribute = []*onnxpb.AttributeProto{{Name: ptr("epsilon"), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: ptr(float32(epsK.data[0]))}}
	return &match{nodes: chain, fused: f}
}

// linear matches Add(MatMul(x, W), b) with constant W (2-D) and b (1-D).
func (g *graphIndex) linear(mm *onnxpb.NodeProto) *match {
	w := g.constOf(mm.GetInput()[1])
	if w == nil || len(w.shape) != 2 || g.constOf(mm.GetInput()[0]) != nil {
		return nil
	}
	add := g.only(mm)
	if !is(add, "Add") {
		return nil
	}
	bname := other(add, mm.GetOutput()[0])
	b := g.constOf(bname)
	if b == nil || len(b.shape) != 1 || b.shape[0] != w.shape[1] {
		return nil
	}
	return &match{nodes: []*onnxpb.NodeProto{mm, add}, fused: fused("Linear", mm, add, mm.GetInput()[0], mm.GetInput()[1], bname)}
}

// hardSwish matches Mul(x, HardSigmoid(x)) with HardSigmoid's alpha 1/6
// and beta 0.5: x·clamp(x/6 + 0.5, 0, 1), which is x·clamp(x+3, 0, 6)/6.
func (g *graphIndex) hardSwish(hs *onnxpb.NodeProto) *match {
	x := hs.GetInput()[0]
	if math.Abs(float64(attrFloat(hs, "alpha", 0.2))-1.0/6) > 1e-6 || math.Abs(float64(attrFloat(hs, "beta", 0.5))-0.5) > 1e-6 {
		return nil
	}
	mul := g.only(hs)
	if !is(mul, "Mul") || other(mul, hs.GetOutput()[0]) != x {
		return nil
	}
	return &match{nodes: []*onnxpb.NodeProto{hs, mul}, fused: fused("HardSwish", hs, mul, x)}
}
