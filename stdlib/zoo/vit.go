package zoo

import (
	"fmt"

	"github.com/qpipe/qpipe/ops"
)

// ViT-tiny's size: a small Vision Transformer for 28×28 and 32×32 images.
const (
	vitPatch    = 4
	vitDim      = 64
	vitDepth    = 4
	vitHeads    = 4
	vitMLPRatio = 2
)

// buildViTTiny is a pre-norm Vision Transformer (Dosovitskiy et al.):
// non-overlapping 4×4 patches embedded by a strided convolution, a class
// token and learned position embeddings, four blocks of
// x + attn(norm1(x)), x + mlp(norm2(x)), a final layer norm, and the
// classifier on the class token.
func buildViTTiny(b *ops.Builder, x *ops.Node, in Shape, classes int) (*ops.Node, error) {
	if in.H%vitPatch != 0 || in.W%vitPatch != 0 {
		return nil, fmt.Errorf("vit-tiny needs height and width divisible by the patch size %d", vitPatch)
	}
	tokens := (in.H / vitPatch) * (in.W / vitPatch)
	h := patchEmbed(b.Sub("patch_embed"), x, in.C, vitDim, vitPatch)                              // (B, h, w, D)
	h = b.Op(ops.OpReshape, "patch_embed.tokens", ops.Attrs{Shape: []int{-1, tokens, vitDim}}, h) // (B, N, D)
	cls := b.ParamNode("cls_token", b.TruncNormal(0.02, 1, 1, vitDim))
	cls = b.Op(ops.OpExpandBatch, "cls_token.expand", ops.Attrs{}, cls, h)
	h = b.Op(ops.OpConcat, "concat", ops.Attrs{Axis: 1}, cls, h)
	pos := b.ParamNode("pos_embed", b.TruncNormal(0.02, 1, tokens+1, vitDim))
	h = add(b, "pos_add", h, pos)
	for i := range vitDepth {
		h = vitBlock(b.Sub(fmt.Sprintf("blocks.%d", i)), h, vitDim, vitHeads, vitDim*vitMLPRatio)
	}
	h = b.LayerNorm("norm", h, vitDim)
	h = b.Op(ops.OpSlice, "cls_select", ops.Attrs{Axis: 1, Start: 0, End: 1}, h)
	h = b.Op(ops.OpReshape, "cls_flatten", ops.Attrs{Shape: []int{-1, vitDim}}, h)
	return tfLinear(b, "head", h, vitDim, classes, true), nil
}

func vitBlock(b *ops.Builder, x *ops.Node, dim, heads, hidden int) *ops.Node {
	h := attention(b, b.LayerNorm("norm1", x, dim), dim, ops.Attrs{Heads: heads})
	x = add(b, "add1", x, h)
	h = mlpBlock(b.Sub("mlp"), b.LayerNorm("norm2", x, dim), dim, hidden)
	return add(b, "add2", x, h)
}

// patchEmbed embeds non-overlapping p×p patches with a stride-p
// convolution and returns the token map channels last: (B, H/p, W/p, dim).
func patchEmbed(b *ops.Builder, x *ops.Node, in, dim, p int) *ops.Node {
	o := ops.Conv2dOptions{Stride: [2]int{p, p}, Dilation: [2]int{1, 1}}
	h := b.Conv2d("proj", x, in, dim, p, o, true)
	return b.Op(ops.OpPermute, "channels_last", ops.Attrs{Perm: []int{0, 2, 3, 1}}, h)
}
