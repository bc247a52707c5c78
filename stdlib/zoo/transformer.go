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

// attention is the module "attn" of a block b: qkv projection →
// multi-head attention (the node named attn itself, holding Swin's
// relative_position_bias_table) → output projection, on tokens (B', N,
// dim). a carries Heads and, for Swin, Window, ShiftSize and Resolution.
func attention(b *ops.Builder, x *ops.Node, dim int, a ops.Attrs) *ops.Node {
	sb := b.Sub("attn")
	qkv := tfLinear(sb, "qkv", x, dim, 3*dim, true)
	att := b.Attention("attn", qkv, a)
	return tfLinear(sb, "proj", att, dim, dim, true)
}

func add(b *ops.Builder, name string, x, y *ops.Node) *ops.Node {
	return b.Op(ops.OpAdd, name, ops.Attrs{}, x, y)
}
