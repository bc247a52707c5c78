package zoo

import (
	"github.com/qpipe/qpipe/ops"
)

// tfLinear is a transformer linear layer with timm's initialisation:
// weights from N(0, 0.02²) truncated at ±2σ, biases zero.
func tfLinear(b *ops.Builder, name string, x *ops.Node, in, out int, bias bool) *ops.Node {
	n := b.Linear(name, x, in, out, bias)
	m := b.Model()
	ops.InitTruncNormal(m.Param(n.Params["weight"]).Value, b.RNG(), 0.02)
	if bias {
		clear(m.Param(n.Params["bias"]).Value.Data)
	}
	return n
}

// mlpBlock is fc1 → GELU (named act, so "replace gelu with relu" finds it)
// → fc2.
func mlpBlock(b *ops.Builder, x *ops.Node, dim, hidden int) *ops.Node {
	h := b.Act(ops.OpGELU, "act", tfLinear(b, "fc1", x, dim, hidden, true))
	return tfLinear(b, "fc2", h, hidden, dim, true)
}

// attention is qkv projection → multi-head attention → output projection,
// on tokens (..., N, dim) flattened to (B', N, dim) by the caller. a carries
// Heads and, for Swin, Window, ShiftSize and Resolution.
func attention(b *ops.Builder, x *ops.Node, dim int, a ops.Attrs) *ops.Node {
	qkv := tfLinear(b, "qkv", x, dim, 3*dim, true)
	att := b.Attention("", qkv, a)
	return tfLinear(b, "proj", att, dim, dim, true)
}

func add(b *ops.Builder, name string, x, y *ops.Node) *ops.Node {
	return b.Op(ops.OpAdd, name, ops.Attrs{}, x, y)
}
