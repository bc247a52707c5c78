package cpu

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"unsafe"

	"github.com/qpipe/qpipe/ops"
)

// Integer windowed attention.
//
// Int8Attention runs one attention node of the integer engine on int8 qkv
// codes (B, N, 3C) with one scale, per (batch entry, head):
//
//	S = Q·Kᵀ                 int8 × int8 → int32 (VNNI: K is packed as
//	                         u8 = k+128 and each row starts at -128·Σq)
//	s = float(S)·α + T       α = InScale²·Scale, T = bias + mask (float)
//	P = softmax(s)           float, then codes u = round(p·255) in [0, 255]
//	O = P·V                  u8 × int8 → int32 (V packed in 4-row groups)
//	o = sat8(round(O·f))     f = InScale/(255·OutScale), straight into the
//	                         output projection's int8 input
//
// Everything between the two integer products stays in registers or in a
// per-head scratch of N×16⌈N/16⌉ floats; nothing is permuted or sliced in
// memory. The Go functions below (qkScoresGo, avRequantGo, quantS8Go,
// quantU8Go) are the reference each assembly kernel matches exactly; the
// head dimension must be a multiple of 16 for the kernels, and any other
// shape, or a CPU without AVX-512 VNNI, runs the references.

var _ ops.Int8AttentionBackend = (*Backend)(nil)

// Int8Attention implements ops.Int8AttentionBackend.
func (b *Backend) Int8Attention(p ops.Int8AttentionParams, qkv, out []int8) error {
	n, c, h := p.Tokens, p.Channels, p.Heads
	if h <= 0 || c%h != 0 || (c/h)%4 != 0 {
		return fmt.Errorf("int8 attention: %d channels over %d heads must give a head size that is a multiple of 4", c, h)
	}
	if len(qkv) < p.Batch*n*3*c || len(out) < p.Batch*n*c {
		return fmt.Errorf("int8 attention: buffers hold %d and %d codes, need %d and %d", len(qkv), len(out), p.Batch*n*3*c, p.Batch*n*c)
	}
	blocksN := (n + 15) / 16
	if p.LDT != 16*blocksN || p.NT <= 0 || len(p.Table) < p.NT*h*n*p.LDT {
		return fmt.Errorf("int8 attention: table (%d tables, row stride %d, %d values) does not fit %d heads × %d tokens", p.NT, p.LDT, len(p.Table), h, n)
	}
	if p.LDT > n && !math.IsInf(float64(p.Table[n]), -1) {
		return fmt.Errorf("int8 attention: the table's padding must be -Inf")
	}
	g := newAttnGeometry(p)
	// A worker costs microseconds to wake: hand out (batch entry, head)
	// units in grains of at least int8AttnMinWork multiply-adds, so a
	// batch-1 call with a few small heads runs on the caller alone.
	perUnit := max(2*n*n*(c/h), 1)
	b.w.For(p.Batch*h, max(1, int8AttnMinWork/perUnit), func(lo, hi int) {
		s := g.scratch()
		for u := lo; u < hi; u++ {
			g.head(s, qkv, out, u/h, u%h)
		}
		attnScratchPool.Put(s)
	})
	return nil
}

// int8AttnMinWork is the least multiply-add count worth another worker.
const int8AttnMinWork = 1 << 20

// attnGeometry is one call's shapes and constants.
type attnGeometry struct {
	p                ops.Int8AttentionParams
	d, ld            int // head size, qkv row length 3C
	groupsK, blocksN int // Q·Kᵀ: 4-byte groups over d, 16-column blocks over N
	groupsN, blocksD int // P·V: 4-byte groups over N, 16-column blocks over d
	alpha, f         float32
	fast             bool
}

func newAttnGeometry(p ops.Int8AttentionParams) *attnGeometry {
	d := p.Channels / p.Heads
	return &attnGeometry{p: p, d: d, ld: 3 * p.Channels, groupsK: d / 4, blocksN: (p.Tokens + 15) / 16,
		groupsN: (p.Tokens + 3) / 4, blocksD: (d + 15) / 16,
		alpha: p.InScale * p.InScale * p.Scale, f: p.InScale / (255 * p.OutScale), fast: vnni16 && d%16 == 0}
}

// attnScratch is one worker's buffers.
type attnScratch struct {
	kp     []uint8   // K packed: [groupsK][blocksN][16][4], u8 = k+128
	vp     []int8    // V packed: [groupsN][blocksD][16][4]
	corr   []int32   // -128·Σ_k q[i,k]
	scores []float32 // N × 16·blocksN
	exps   []float32 // the same, exponentials
	probs  []uint8   // N × 4·groupsN (zero padded), plus 64 bytes of slack
}

// attnScratchPool recycles worker scratch between calls: at batch 1 the
// allocations cost as much as the heads themselves.
var attnScratchPool sync.Pool

// scratch returns a worker's buffers, reused from the pool when they are
// large enough. kp, corr and the scores are fully written before they are
// read; vp and probs, whose padding the kernels may leave unwritten, are
// zeroed as a fresh allocation would be.
func (g *attnGeometry) scratch() *attnScratch {
	n := g.p.Tokens
	if s, ok := attnScratchPool.Get().(*attnScratch); ok && cap(s.kp) >= g.groupsK*g.blocksN*64 && cap(s.vp) >= g.groupsN*g.blocksD*64 &&
		cap(s.corr) >= n && cap(s.scores) >= n*16*g.blocksN && cap(s.exps) >= n*16*g.blocksN && cap(s.probs) >= n*4*g.groupsN+64 {
		s.kp, s.vp, s.corr = s.kp[:g.groupsK*g.blocksN*64], s.vp[:g.groupsN*g.blocksD*64], s.corr[:n]
		s.scores, s.exps = s.scores[:n*16*g.blocksN], s.exps[:n*16*g.blocksN]
		s.probs = s.probs[:n*4*g.groupsN+64]
		clear(s.vp)
		clear(s.probs)
		return s
	}
	return &attnScratch{kp: make([]uint8, g.groupsK*g.blocksN*64), vp: make([]int8, g.groupsN*g.blocksD*64),
		corr: make([]int32, n), scores: make([]float32, n*16*g.blocksN), exps: make([]float32, n*16*g.blocksN), probs: make([]uint8, n*4*g.groupsN+64)}
}

// head computes one (batch entry, head).
func (g *attnGeometry) head(s *attnScratch, qkv, out []int8, bi, h int) {
	p, n, d := g.p, g.p.Tokens, g.d
	base := bi*n*g.ld + h*d
	q, k, v := qkv[base:], qkv[base+p.Channels:], qkv[base+2*p.Channels:]
	packK(s.kp, k, g.ld, n, d, g.blocksN)
	packV(s.vp, v, g.ld, n, d, g.blocksD)
	for i := range n {
		var sum int32
		for _, x := range q[i*g.ld : i*g.ld+d] {
			sum += int32(x)
		}
		s.corr[i] = -128 * sum
	}
	table := p.Table[((bi%p.NT)*p.Heads+h)*n*p.LDT:]
	lp := 4 * g.groupsN
	if g.fast {
		qkScoresVNNI(&q[0], g.ld, n, &s.kp[0], g.groupsK, g.blocksN, &s.corr[0], g.alpha, &table[0], p.LDT, &s.scores[0])
	} else {
		qkScoresGo(q, g.ld, n, s.kp, g.groupsK, g.blocksN, s.corr, g.alpha, table, p.LDT, s.scores)
	}
	g.softmax(s)
	o := out[bi*n*p.Channels+h*d:]
	if g.fast {
		avRequantVNNI(&s.probs[0], lp, n, &s.vp[0], g.groupsN, g.blocksD, g.f, &o[0], p.Channels)
		return
	}
	avRequantGo(s.probs, lp, n, s.vp, g.groupsN, g.blocksD, d, g.f, o, p.Channels)
}

// softmaxTiny is the smallest row sum of exponentials the one-shift
// softmax accepts; a row below it is redone with its own maximum.
const softmaxTiny = 1e-30

// softmax turns the scores into probability codes. The kernel path shifts
// the whole head by its largest score (the table's padding is -Inf, so
// padded columns give e = 0) and quantizes each row with 255/Σe; a row
// whose sum underflows under that shift is redone with its own maximum.
func (g *attnGeometry) softmax(s *attnScratch) {
	n, ls, lp := g.p.Tokens, 16*g.blocksN, 4*g.groupsN
	if !g.fast {
		for i := range n {
			g.softmaxRow(s, i)
		}
		return
	}
	all := s.scores[:n*ls]
	expShiftSum(all, s.exps, maxRow(all))
	if rowsQuantU8(&s.exps[0], n, g.blocksN, softmaxTiny, &s.probs[0], lp) == 0 {
		return
	}
	for i := range n {
		if rowSum16(s.exps[i*ls:(i+1)*ls]) < softmaxTiny {
			g.softmaxRow(s, i)
		}
	}
}

func (g *attnGeometry) softmaxRow(s *attnScratch, i int) {
	n, ls, lp := g.p.Tokens, 16*g.blocksN, 4*g.groupsN
	row, e := s.scores[i*ls:i*ls+n], s.exps[i*ls:i*ls+n]
	sum := expShiftSum(row, e, maxRow(row))
	quantU8(e, 255/sum, s.probs[i*lp:i*lp+n])
}

// rowSum16 sums x (a multiple of 16 long) in rowsQuantU8's order: 16
// lane sums, then halves folded 8, 4, 2, 1.
func rowSum16(x []float32) float32 {
	var acc [16]float32
	for b := 0; b < len(x); b += 16 {
		for l := range acc {
			acc[l] += x[b+l]
		}
	}
	for w := 8; w >= 4; w /= 2 {
		for l := range w {
			acc[l] += acc[l+w]
		}
	}
	return (acc[0] + acc[2]) + (acc[1] + acc[3])
}

// rowsQuantU8Go is rowsQuantU8's reference.
func rowsQuantU8Go(e []float32, rows, blocks int, tiny float32, p []uint8, ldp int) (bad int) {
	w := 16 * blocks
	for i := range rows {
		row := e[i*w : (i+1)*w]
		sum := rowSum16(row)
		if !(sum >= tiny) {
			bad++
			continue
		}
		quantU8Go(row, 255/sum, p[i*ldp:i*ldp+w])
	}
	return bad
}

// packK writes kp[g][b][c] = the dword K[16b+c, 4g:4g+4] with each byte
// plus 128 (the sign bit flipped), 0x80808080 past row n.
func packK(kp []uint8, k []int8, ld, n, d, blocks int) {
	w := 16 * blocks
	dst := unsafe.Slice((*uint32)(unsafe.Pointer(&kp[0])), d/4*w)
	for j := range n {
		src := unsafe.Slice((*byte)(unsafe.Pointer(&k[j*ld])), d)
		for g := range d / 4 {
			dst[g*w+j] = binary.LittleEndian.Uint32(src[4*g:]) ^ 0x80808080
		}
	}
	for g := range d / 4 {
		for j := n; j < w; j++ {
			dst[g*w+j] = 0x80808080
		}
	}
}

// packV writes vp[g][b][c][t] = V[4g+t, 16b+c] (0 past row n or column d).
// Whole groups of four rows interleave without branches; a last partial
// group goes through packVGo.
func packV(vp []int8, v []int8, ld, n, d, blocks int) {
	dst := unsafe.Slice((*uint32)(unsafe.Pointer(&vp[0])), len(vp)/4)
	for g := range n / 4 {
		out := dst[g*16*blocks:][:d]
		r0 := v[4*g*ld:][:len(out)]
		r1 := v[(4*g+1)*ld:][:len(out)]
		r2 := v[(4*g+2)*ld:][:len(out)]
		r3 := v[(4*g+3)*ld:][:len(out)]
		for c := range out {
			out[c] = uint32(uint8(r0[c])) | uint32(uint8(r1[c]))<<8 | uint32(uint8(r2[c]))<<16 | uint32(uint8(r3[c]))<<24
		}
	}
	if g := n / 4; n%4 != 0 {
		packVGroup(dst, v, ld, n, d, blocks, g)
	}
}

// packVGo is packV's reference: every group through packVGroup.
func packVGo(vp []int8, v []int8, ld, n, d, blocks int) {
	dst := unsafe.Slice((*uint32)(unsafe.Pointer(&vp[0])), len(vp)/4)
	for g := range (n + 3) / 4 {
		packVGroup(dst, v, ld, n, d, blocks, g)
	}
}

// packVGroup packs the group of rows 4g..4g+3, zero past row n.
func packVGroup(dst []uint32, v []int8, ld, n, d, blocks, g int) {
	var rows [4][]int8
	for t := range rows {
		if j := 4*g + t; j < n {
			rows[t] = v[j*ld : j*ld+d]
		}
	}
	out := dst[g*16*blocks:][:16*blocks]
	for c := range d {
		var x uint32
		for t := 3; t >= 0; t-- {
			x <<= 8
			if rows[t] != nil {
				x |= uint32(uint8(rows[t][c]))
			}
		}
		out[c] = x
	}
}

// qkScoresGo is qkScoresVNNI's reference.
func qkScoresGo(q []int8, ldq, rows int, kp []uint8, groups, blocks int, corr []int32, alpha float32, table []float32, ldt int, out []float32) {
	w := 16 * blocks
	for i := range rows {
		for j := range w {
			acc := corr[i]
			for g := range groups {
				for t := range 4 {
					acc += int32(q[i*ldq+4*g+t]) * int32(kp[(g*w+j)*4+t])
				}
			}
			out[i*w+j] = float32(acc)*alpha + table[i*ldt+j]
		}
	}
}

// avRequantGo is avRequantVNNI's reference, writing the first d columns.
func avRequantGo(p []uint8, ldp, rows int, vp []int8, groups, blocks, d int, f float32, out []int8, ldo int) {
	for i := range rows {
		for c := range d {
			var acc int32
			for g := range groups {
				for t := range 4 {
					acc += int32(p[i*ldp+4*g+t]) * int32(vp[((g*blocks+c/16)*16+c%16)*4+t])
				}
			}
			out[i*ldo+c] = int8(roundClamp(float32(acc)*f, -128, 127))
		}
	}
}

func roundClamp(v, lo, hi float32) float32 {
	return float32(math.RoundToEven(float64(min(max(v, lo), hi))))
}

// quantS8 writes q = sat8(roundEven(x·inv)).
func quantS8(x []float32, inv float32, q []int8) {
	if vec16 && len(x) > 0 {
		quantS8Row(&x[0], len(x), inv, &q[:len(x)][0])
		return
	}
	quantS8Go(x, inv, q)
}

func quantS8Go(x []float32, inv float32, q []int8) {
	for i, v := range x {
		q[i] = int8(roundClamp(v*inv, -128, 127))
	}
}

// quantU8 writes q = satu8(roundEven(x·f)).
func quantU8(x []float32, f float32, q []uint8) {
	if vec16 && len(x) > 0 {
		quantU8Row(&x[0], len(x), f, &q[:len(x)][0])
		return
	}
	quantU8Go(x, f, q)
}

func quantU8Go(x []float32, f float32, q []uint8) {
	for i, v := range x {
		q[i] = uint8(roundClamp(v*f, 0, 255))
	}
}
