package ops

import (
	"fmt"
	"math"
	"strconv"
)

// OpQAttention is an attention node of the integer engine: in[0] is the
// fused qkv projection as int8 codes (B, N, 3C) with scale InScale (a
// float input is quantized with it), the output (B, N, C) is int8 codes
// with scale OutScale, the next qlinear's input scale. Params and the
// remaining attrs are OpAttention's (Heads, Scale, Window, ShiftSize,
// Resolution, relative_position_bias_table). See Int8AttentionBackend for
// the arithmetic.
const OpQAttention OpKind = "qattention"

func init() {
	kindSpecs[OpQAttention] = kindSpec{run: runQAttention}
}

// takesInt8 reports whether a node kind reads its first input as int8
// codes (every other node sees dequantized values).
func takesInt8(k OpKind) bool {
	return k == OpQLinear || k == OpQConv2d || k == OpQAttention
}

// Int8AttentionParams describe one qattention call. Per batch entry b and
// head h, with q, k, v the head's int8 codes:
//
//	s[i,j] = float32(Σ q[i]·k[j])·(InScale²·Scale) + Table[b%NT, h, i, j]
//	u[i,j] = sat_u8(roundEven(softmax_j(s[i,:])·255))
//	out[i] = sat8(roundEven(float32(Σ_j u[i,j]·v[j])·InScale/(255·OutScale)))
//
// Table holds the relative-position bias plus the shifted-window mask,
// (NT, Heads, Tokens, LDT) with LDT = 16·⌈Tokens/16⌉, padded with -Inf.
type Int8AttentionParams struct {
	Batch, Tokens, Channels, Heads int
	InScale, OutScale, Scale       float32
	Table                          []float32
	NT, LDT                        int
}

// Int8AttentionBackend is implemented by backends with an integer
// attention kernel.
type Int8AttentionBackend interface {
	Int8Attention(p Int8AttentionParams, qkv, out []int8) error
}

// runQAttention: in[0] (B, N, 3C) int8 → (B, N, C) int8 with OutScale.
func runQAttention(e *exec, n *Node, in []*Tensor) *Tensor {
	a, x := n.Attrs, in[0]
	if x.Dims() != 3 || a.Heads <= 0 || x.Shape[2]%(3*a.Heads) != 0 {
		shapeErr("qattention", fmt.Sprintf("want qkv (B, N, 3·C) with C divisible by %d heads", a.Heads), x)
	}
	if a.InScale <= 0 || a.OutScale <= 0 {
		shapeErr("qattention", "in_scale and out_scale must be positive")
	}
	ib, ok := e.c.b.(Int8AttentionBackend)
	if !ok || !e.c.b.Capabilities().Int8 {
		panic(&OpError{Op: "qattention", Err: fmt.Errorf("int8 attention on backend %s: %w", e.c.b.Name(), ErrNotImplemented)})
	}
	b, tokens, ch := x.Shape[0], x.Shape[1], x.Shape[2]/3
	p := Int8AttentionParams{Batch: b, Tokens: tokens, Channels: ch, Heads: a.Heads, InScale: a.InScale, OutScale: a.OutScale, Scale: a.Scale}
	if p.Scale == 0 {
		p.Scale = float32(1 / math.Sqrt(float64(ch/a.Heads)))
	}
	p.Table, p.NT, p.LDT = e.attentionTable(n, in, tokens)
	if b%p.NT != 0 {
		shapeErr("qattention", fmt.Sprintf("batch %d is not a multiple of the %d windows of the mask", b, p.NT), x)
	}
	q, _, _ := e.c.QuantizeInt8(x, a.InScale).Int8()
	out := make([]int8, b*tokens*ch)
	check("qattention", ib.Int8Attention(p, q, out), x)
	return NewInt8(out, a.OutScale, b, tokens, ch)
}

// attentionTable returns (cached per model version) the node's score
// offsets, relative-position bias plus shifted-window mask, laid out as
// Int8AttentionParams.Table: (NT, Heads, N, LDT).
func (e *exec) attentionTable(n *Node, in []*Tensor, tokens int) ([]float32, int, int) {
	a := n.Attrs
	type table struct {
		v       []float32
		nt, ldt int
	}
	var mask []float32 // (nW, N, N)
	nt := 1
	if a.ShiftSize > 0 { // read before cached: the model cache does not nest
		m := e.shiftMask(a)
		mask, nt = m.Data, m.Shape[0]
	}
	t := e.m.cached("qattn/"+strconv.Itoa(n.ID)+"/"+strconv.Itoa(tokens), func() any {
		ldt := 16 * ((tokens + 15) / 16)
		var bias []float32 // (heads, N, N)
		if tb := e.param(n, in, "relative_position_bias_table"); tb != nil {
			ws := a.Window
			if ws*ws != tokens || tb.Dims() != 2 || tb.Shape[0] != (2*ws-1)*(2*ws-1) || tb.Shape[1] != a.Heads {
				shapeErr("qattention", fmt.Sprintf("relative bias table must be (%d, %d) for window %d over %d tokens", (2*ws-1)*(2*ws-1), a.Heads, ws, tokens), tb)
			}
			idx := RelativePositionIndex(ws)
			bias = make([]float32, a.Heads*tokens*tokens)
			for h := range a.Heads {
				for i, r := range idx {
					bias[h*tokens*tokens+i] = tb.Data[int(r)*a.Heads+h]
				}
			}
		}
		v := make([]float32, nt*a.Heads*tokens*ldt)
		for w := range nt {
			for h := range a.Heads {
				for i := range tokens {
					row := v[((w*a.Heads+h)*tokens+i)*ldt:][:ldt]
					for j := tokens; j < ldt; j++ {
						row[j] = float32(math.Inf(-1))
					}
					row = row[:tokens]
					if bias != nil {
						copy(row, bias[(h*tokens+i)*tokens:][:tokens])
					}
					if mask != nil {
						for j, mv := range mask[(w*tokens+i)*tokens:][:tokens] {
							row[j] += mv
						}
					}
				}
			}
		}
		return &table{v, nt, ldt}
	}).(*table)
	return t.v, t.nt, t.ldt
}
