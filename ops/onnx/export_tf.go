package onnx

import (
	"fmt"
	"math"

	"github.com/qpipe/qpipe/ops"
)

// Transformer kinds, decomposed into plain ONNX ops the way PyTorch
// exports the reference modules (so Import reads them back as
// reshape/permute/matmul/softmax/add nodes). The batch dimension is
// written as -1 so the export keeps a symbolic batch.

// windowPartition: (B, H, W, C) → Reshape (B, H/ws, ws, W/ws, ws, C) →
// Transpose (0,1,3,2,4,5) → Reshape (B·nW, ws², C).
func (e *exporter) windowPartition(n *ops.Node, x string) (string, error) {
	s, ws, hint := e.shapes[n.Inputs[0]], n.Attrs.Window, sanitize(n.Name)
	if len(s) != 4 || ws <= 0 || s[1]%ws != 0 || s[2]%ws != 0 {
		return "", fmt.Errorf("want (B, H, W, C) with H and W divisible by window %d, got %v", ws, s)
	}
	t := e.op("Reshape", hint+"_split", []string{x, e.initInts(hint+"_split_shape", []int{-1, s[1] / ws, ws, s[2] / ws, ws, s[3]})})
	t = e.op("Transpose", hint+"_perm", []string{t}, attrIs("perm", []int{0, 1, 3, 2, 4, 5}))
	return e.op("Reshape", hint, []string{t, e.initInts(hint+"_shape", []int{-1, ws * ws, s[3]})}), nil
}

// windowReverse: (B·nW, ws², C) → Reshape (B, H/ws, W/ws, ws, ws, C) →
// Transpose (0,1,3,2,4,5) → Reshape (B, H, W, C).
func (e *exporter) windowReverse(n *ops.Node, x string) (string, error) {
	s, ws, hint := e.shapes[n.Inputs[0]], n.Attrs.Window, sanitize(n.Name)
	r := pair(n.Attrs.Resolution, 0)
	if len(s) != 3 || ws <= 0 || r[0]%ws != 0 || r[1]%ws != 0 || s[1] != ws*ws {
		return "", fmt.Errorf("want (B·nW, %d, C) windows of a %dx%d map, got %v", ws*ws, r[0], r[1], s)
	}
	t := e.op("Reshape", hint+"_split", []string{x, e.initInts(hint+"_split_shape", []int{-1, r[0] / ws, r[1] / ws, ws, ws, s[2]})})
	t = e.op("Transpose", hint+"_perm", []string{t}, attrIs("perm", []int{0, 1, 3, 2, 4, 5}))
	return e.op("Reshape", hint, []string{t, e.initInts(hint+"_shape", []int{-1, r[0], r[1], s[2]})}), nil
}

// expandBatch: in[0] (1, ...) expanded to in[1]'s batch:
// Expand(x, Concat(Shape(ref)[0:1], rest)).
func (e *exporter) expandBatch(n *ops.Node, in []string) (string, error) {
	if len(in) < 2 {
		return "", fmt.Errorf("expand_batch needs the value and a batch reference, got %d inputs", len(in))
	}
	s, hint := e.shapes[n.Inputs[0]], sanitize(n.Name)
	if len(s) == 0 {
		return "", fmt.Errorf("expand_batch of a scalar")
	}
	b := e.op("Shape", hint+"_batch", in[1:2], attrI("start", 0), attrI("end", 1))
	shape := e.op("Concat", hint+"_shape", []string{b, e.initInts(hint+"_rest", s[1:])}, attrI("axis", 0))
	return e.op("Expand", hint, []string{in[0], shape}), nil
}

// attention writes qpipe's fused multi-head attention on a qkv projection
// (B, N, 3C) as timm's Swin/ViT modules export:
//
//	qkv → Reshape (B, N, 3, H, d) → Transpose (2, 0, 3, 1, 4) → Gather 0/1/2
//	s = MatMul(q, Transpose(k)) · scale [+ bias (H, N, N)] [+ mask]
//	out = MatMul(Softmax(s), v) → Transpose (0, 2, 1, 3) → Reshape (B, N, C)
//
// The relative-position bias is Gather(table, index) → Reshape (N, N, H) →
// Transpose (2, 0, 1) on the table initializer; the shifted-window mask
// (nW, N, N) is a constant added through a (B/nW, nW, H, N, N) view.
func (e *exporter) attention(n *ops.Node, in []string) (string, error) {
	a, s, hint := n.Attrs, e.shapes[n.Inputs[0]], sanitize(n.Name)
	if len(s) != 3 || a.Heads <= 0 || s[2]%(3*a.Heads) != 0 {
		return "", fmt.Errorf("want qkv (B, N, 3·C) with C divisible by %d heads, got %v", a.Heads, s)
	}
	tokens, ch := s[1], s[2]/3
	d := ch / a.Heads
	qkv := e.op("Reshape", hint+"_qkv", []string{in[0], e.initInts(hint+"_qkv_shape", []int{-1, tokens, 3, a.Heads, d})})
	qkv = e.op("Transpose", hint+"_qkv_perm", []string{qkv}, attrIs("perm", []int{2, 0, 3, 1, 4}))
	part := func(i int, tag string) string {
		idx := e.initScalarInt(hint+"_"+tag+"_index", i)
		return e.op("Gather", hint+"_"+tag, []string{qkv, idx}, attrI("axis", 0))
	}
	q, k, v := part(0, "q"), part(1, "k"), part(2, "v")
	kt := e.op("Transpose", hint+"_kt", []string{k}, attrIs("perm", []int{0, 1, 3, 2}))
	scale := a.Scale
	if scale == 0 {
		scale = float32(1 / math.Sqrt(float64(d)))
	}
	sc := e.op("Mul", hint+"_scores", []string{e.op("MatMul", hint+"_qk", []string{q, kt}), e.scalar(hint+"_scale", scale)})
	table, err := e.weight(n, in, "relative_position_bias_table", 1, false)
	if err != nil {
		return "", err
	}
	if table != "" {
		ws := a.Window
		if ws*ws != tokens {
			return "", fmt.Errorf("relative-position bias of window %d over %d tokens", ws, tokens)
		}
		idx32 := ops.RelativePositionIndex(ws)
		idx := make([]int, len(idx32))
		for i, v := range idx32 {
			idx[i] = int(v)
		}
		g := e.op("Gather", hint+"_bias_gather", []string{table, e.initInts(hint+"_relative_position_index", idx)}, attrI("axis", 0))
		g = e.op("Reshape", hint+"_bias_view", []string{g, e.initInts(hint+"_bias_shape", []int{tokens, tokens, a.Heads})})
		bias := e.op("Transpose", hint+"_bias", []string{g}, attrIs("perm", []int{2, 0, 1}))
		sc = e.op("Add", hint+"_scores_bias", []string{sc, bias})
	}
	if a.ShiftSize > 0 {
		r := pair(a.Resolution, 0)
		mask := ops.ShiftedWindowMask(r[0], r[1], a.Window, a.ShiftSize)
		nw := mask.Shape[0]
		if mask.Shape[1] != tokens {
			return "", fmt.Errorf("shift mask of window %d does not match %d tokens", a.Window, tokens)
		}
		m := e.initializer(hint+"_mask", []int{nw, 1, tokens, tokens}, mask.Data)
		t := e.op("Reshape", hint+"_scores_win", []string{sc, e.initInts(hint+"_win_shape", []int{-1, nw, a.Heads, tokens, tokens})})
		t = e.op("Add", hint+"_scores_masked", []string{t, m})
		sc = e.op("Reshape", hint+"_scores_mask", []string{t, e.initInts(hint+"_scores_shape", []int{-1, a.Heads, tokens, tokens})})
	}
	p := e.op("Softmax", hint+"_softmax", []string{sc}, attrI("axis", -1))
	o := e.op("MatMul", hint+"_av", []string{p, v})
	o = e.op("Transpose", hint+"_heads", []string{o}, attrIs("perm", []int{0, 2, 1, 3}))
	return e.op("Reshape", hint, []string{o, e.initInts(hint+"_shape", []int{-1, tokens, ch})}), nil
}
