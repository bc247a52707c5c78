package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
)

func randS8(r *rand.Rand, n int) []int8 {
	out := make([]int8, n)
	for i := range out {
		out[i] = int8(r.IntN(256) - 128)
	}
	return out
}

// TestInt8AttentionKernelsMatchGo pins the assembly kernels to their Go
// references bit for bit: quantize rows (any length), Q·Kᵀ scores and
// P·V requantized rows over window sizes 1-70 and head sizes 16 and 32.
func TestInt8AttentionKernelsMatchGo(t *testing.T) {
	requireVNNI16(t)
	r := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 70; n++ {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64() * 100)
		}
		a, b := make([]int8, n), make([]int8, n)
		quantS8Row(&x[0], n, 0.37, &a[0])
		quantS8Go(x, 0.37, b)
		u, w := make([]uint8, n), make([]uint8, n)
		quantU8Row(&x[0], n, 0.9, &u[0])
		quantU8Go(x, 0.9, w)
		for i := range a {
			if a[i] != b[i] || u[i] != w[i] {
				t.Fatalf("n=%d i=%d x=%g: s8 %d vs %d, u8 %d vs %d", n, i, x[i], a[i], b[i], u[i], w[i])
			}
		}
	}
	for _, d := range []int{16, 32} {
		for _, n := range []int{1, 4, 5, 16, 17, 49, 64, 70} {
			p := ops.Int8AttentionParams{Tokens: n, Channels: d, Heads: 1}
			g := newAttnGeometry(p)
			ld := 3 * d
			qkv := randS8(r, n*ld)
			s := g.scratch()
			packK(s.kp, qkv[d:], ld, n, d, g.blocksN)
			packV(s.vp, qkv[2*d:], ld, n, d, g.blocksD)
			for i := range s.corr {
				s.corr[i] = int32(r.IntN(1000) - 500)
			}
			table := make([]float32, n*16*g.blocksN)
			for i := range table {
				table[i] = float32(r.NormFloat64())
			}
			e := make([]float32, len(s.scores))
			for i := range e {
				if r.IntN(5) > 0 {
					e[i] = float32(r.ExpFloat64())
				}
			}
			if n > 2 {
				clear(e[16*g.blocksN : 2*16*g.blocksN]) // row 1 sums to 0: skipped
			}
			lp := 4 * g.groupsN
			pa, pb := make([]uint8, n*lp+64), make([]uint8, n*lp+64)
			ba := rowsQuantU8(&e[0], n, g.blocksN, softmaxTiny, &pa[0], lp)
			bb := rowsQuantU8Go(e, n, g.blocksN, softmaxTiny, pb, lp)
			if ba != bb || string(pa[:n*lp]) != string(pb[:n*lp]) {
				t.Fatalf("d=%d n=%d rowsQuantU8: %d bad rows, codes %v; Go: %d bad rows, codes %v", d, n, ba, pa[:lp], bb, pb[:lp])
			}
			got, want := make([]float32, len(s.scores)), make([]float32, len(s.scores))
			qkScoresVNNI(&qkv[0], ld, n, &s.kp[0], g.groupsK, g.blocksN, &s.corr[0], 0.013, &table[0], 16*g.blocksN, &got[0])
			qkScoresGo(qkv, ld, n, s.kp, g.groupsK, g.blocksN, s.corr, 0.013, table, 16*g.blocksN, want)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("d=%d n=%d scores[%d] %g vs %g", d, n, i, got[i], want[i])
				}
			}
			probs := s.probs
			for i := range probs {
				if i%(4*g.groupsN) < n {
					probs[i] = uint8(r.IntN(256))
				}
			}
			o1, o2 := make([]int8, n*2*d), make([]int8, n*2*d)
			avRequantVNNI(&probs[0], 4*g.groupsN, n, &s.vp[0], g.groupsN, g.blocksD, 0.0021, &o1[0], 2*d)
			avRequantGo(probs, 4*g.groupsN, n, s.vp, g.groupsN, g.blocksD, d, 0.0021, o2, 2*d)
			for i := range o1 {
				if o1[i] != o2[i] {
					t.Fatalf("d=%d n=%d out[%d] %d vs %d", d, n, i, o1[i], o2[i])
				}
			}
		}
	}
}

// TestInt8AttentionNearFloat checks the whole kernel against float64
// attention on the dequantized codes, with bias and a two-window mask:
// the output may differ from the float result by the rounding of the
// probabilities (1/255 each) and of the output codes.
func TestInt8AttentionNearFloat(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const B, N, C, H, nt = 4, 49, 64, 4, 2
	d := C / H
	p := ops.Int8AttentionParams{Batch: B, Tokens: N, Channels: C, Heads: H, InScale: 0.02, OutScale: 0.01, Scale: 0.25, NT: nt, LDT: 64}
	p.Table = make([]float32, nt*H*N*p.LDT)
	for i := range p.Table {
		p.Table[i] = float32(r.NormFloat64())
		if r.IntN(8) == 0 {
			p.Table[i] = -100
		}
		if i%p.LDT >= N {
			p.Table[i] = float32(math.Inf(-1))
		}
	}
	// Row 3 of every table sits far below the others: under the head's
	// shift its exponentials underflow and it takes the per-row path.
	for t := range nt * H {
		for j := range N {
			p.Table[(t*N+3)*p.LDT+j] -= 200
		}
	}
	qkv := randS8(r, B*N*3*C)
	be := New(Options{Threads: 2})
	out := make([]int8, B*N*C)
	if err := be.Int8Attention(p, qkv, out); err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for b := range B {
		for h := range H {
			at := func(i, part, c int) float64 { return float64(qkv[(b*N+i)*3*C+part*C+h*d+c]) * float64(p.InScale) }
			for i := range N {
				s := make([]float64, N)
				m := math.Inf(-1)
				for j := range N {
					for c := range d {
						s[j] += at(i, 0, c) * at(j, 1, c)
					}
					s[j] = s[j]*float64(p.Scale) + float64(p.Table[(((b%nt)*H+h)*N+i)*p.LDT+j])
					m = math.Max(m, s[j])
				}
				var sum float64
				for j := range s {
					s[j] = math.Exp(s[j] - m)
					sum += s[j]
				}
				for c := range d {
					var o float64
					for j := range N {
						o += s[j] / sum * at(j, 2, c)
					}
					got := float64(out[(b*N+i)*C+h*d+c]) * float64(p.OutScale)
					want := math.Max(-1.28, math.Min(1.27, o))
					worst = math.Max(worst, math.Abs(got-want))
				}
			}
		}
	}
	// Probability codes err by ≤ 1/510 each: N/510 · max|v| ≈ 0.24 at the
	// very worst, typically far less; the output code adds OutScale/2.
	if worst > 0.05 {
		t.Fatalf("int8 attention differs from float by up to %.4f", worst)
	}
	t.Logf("max |int8 - float| = %.4f (out scale %.3f)", worst, p.OutScale)
}
