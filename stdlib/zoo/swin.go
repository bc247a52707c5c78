package zoo

import (
	"fmt"

	"github.com/qpipe/qpipe/ops"
)

// Swin-micro's size: patch 2, embed 32, up to three stages of two blocks
// with 2, 4 and 8 heads.
const (
	swinPatch    = 2
	swinEmbed    = 32
	swinMLPRatio = 4
)

var (
	swinDepths = []int{2, 2, 2}
	swinHeads  = []int{2, 4, 8}
)

// swinWindow picks the window for an image: 7 when the patch grid is a
// multiple of 7 (28 px → 14×14 tokens), otherwise 4 (32 px → 16×16).
func swinWindow(h, w int) int {
	if h%7 == 0 && w%7 == 0 {
		return 7
	}
	return 4
}

// buildSwinMicro is a small Swin Transformer (Liu et al. 2021): patch
// embedding with layer norm, stages of blocks that alternate regular and
// shifted-window attention (cyclic shift by half a window, the attention
// mask keeping shifted regions apart, a learned relative-position bias per
// head), each with a GELU MLP; between stages, patch merging (2×2
// neighbours concatenated, layer norm, linear 4C → 2C). A stage whose map
// is no larger than the window uses one unshifted window, as in the
// reference. Stages are added while the map halves evenly, at most three:
// 28 px gives 14×14 and 7×7 (window 7), 32 px gives 16×16, 8×8 and 4×4
// (window 4). Head: layer norm, mean over tokens, linear.
func buildSwinMicro(b *ops.Builder, x *ops.Node, in Shape, classes int) (*ops.Node, error) {
	if in.H%swinPatch != 0 || in.W%swinPatch != 0 {
		return nil, fmt.Errorf("swin-micro needs even height and width")
	}
	h, w := in.H/swinPatch, in.W/swinPatch
	ws := swinWindow(h, w)
	if h%ws != 0 || w%ws != 0 {
		return nil, fmt.Errorf("swin-micro: the %dx%d patch grid is not a multiple of the window %d", h, w, ws)
	}
	t := patchEmbed(b.Sub("patch_embed"), x, in.C, swinEmbed, swinPatch) // (B, h, w, C)
	t = b.LayerNorm("patch_embed.norm", t, swinEmbed)
	dim := swinEmbed
	for s := range swinDepths {
		if s > 0 {
			if h%2 != 0 || w%2 != 0 || (h/2)%min(ws, h/2) != 0 {
				break
			}
			t = patchMerging(b.Sub(fmt.Sprintf("stages.%d.downsample", s)), t, dim)
			h, w, dim = h/2, w/2, dim*2
		}
		t = swinStage(b.Sub(fmt.Sprintf("stages.%d", s)), t, dim, swinHeads[s], swinDepths[s], ws, h, w)
	}
	t = b.LayerNorm("norm", t, dim)
	t = b.Op(ops.OpMean, "pool", ops.Attrs{Axes: []int{1, 2}}, t)
	return tfLinear(b, "head", t, dim, classes, true), nil
}

func swinStage(b *ops.Builder, t *ops.Node, dim, heads, depth, ws, h, w int) *ops.Node {
	win := min(ws, h, w)
	for i := range depth {
		shift := 0
		if i%2 == 1 && h > win && w > win {
			shift = win / 2
		}
		t = swinBlock(b.Sub(fmt.Sprintf("blocks.%d", i)), t, dim, heads, win, shift, h, w)
	}
	return t
}

// swinBlock is x + reverse(attn(partition(roll(norm1(x))))) followed by
// x + mlp(norm2(x)), on a (B, H, W, C) map.
func swinBlock(b *ops.Builder, x *ops.Node, dim, heads, ws, shift, h, w int) *ops.Node {
	t := b.LayerNorm("norm1", x, dim)
	if shift > 0 {
		t = b.Op(ops.OpRoll, "shift", ops.Attrs{Shifts: []int{-shift, -shift}, Axes: []int{1, 2}}, t)
	}
	t = b.Op(ops.OpWindowPartition, "partition", ops.Attrs{Window: ws}, t)
	a := ops.Attrs{Heads: heads, Window: ws, ShiftSize: shift, Resolution: []int{h, w}}
	t = attention(b, t, dim, a)
	t = b.Op(ops.OpWindowReverse, "reverse", ops.Attrs{Window: ws, Resolution: []int{h, w}}, t)
	if shift > 0 {
		t = b.Op(ops.OpRoll, "unshift", ops.Attrs{Shifts: []int{shift, shift}, Axes: []int{1, 2}}, t)
	}
	x = add(b, "add1", x, t)
	t = mlpBlock(b.Sub("mlp"), b.LayerNorm("norm2", x, dim), dim, dim*swinMLPRatio)
	return add(b, "add2", x, t)
}

// patchMerging concatenates each 2×2 neighbourhood's channels in Swin's
// order (x0 = [0::2, 0::2], x1 = [1::2, 0::2], x2 = [0::2, 1::2],
// x3 = [1::2, 1::2]), normalises and reduces 4C → 2C.
func patchMerging(b *ops.Builder, x *ops.Node, dim int) *ops.Node {
	part := func(name string, dy, dx int) *ops.Node {
		r := b.Op(ops.OpSlice, name+".rows", ops.Attrs{Axis: 1, Start: dy, Step: 2}, x)
		return b.Op(ops.OpSlice, name+".cols", ops.Attrs{Axis: 2, Start: dx, Step: 2}, r)
	}
	t := b.Op(ops.OpConcat, "concat", ops.Attrs{Axis: 3}, part("x0", 0, 0), part("x1", 1, 0), part("x2", 0, 1), part("x3", 1, 1))
	t = b.LayerNorm("norm", t, 4*dim)
	return tfLinear(b, "reduction", t, 4*dim, 2*dim, false)
}
