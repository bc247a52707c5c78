//go:build linux && amd64 && cgo

package cuda_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/ops/cuda"
	"github.com/qpipe/qpipe/ops/cuda/emu"
)

func randS8(r *rand.Rand, n int) []int8 {
	out := make([]int8, n)
	for i := range out {
		out[i] = int8(r.IntN(256) - 128)
	}
	return out
}

// TestInt8GemmMatchesCPU: the dp4a GEMM with each epilogue (requantize or
// dequantize, with and without ReLU) gives the CPU backend's exact results,
// at sizes that are not multiples of the 64×64 tile or of 4 bytes.
func TestInt8GemmMatchesCPU(t *testing.T) {
	testInt8Gemm(t, cuda.New(emu.New()))
}

func testInt8Gemm(t *testing.T, g ops.Int8Backend) {
	ref := cpu.New(cpu.Options{Threads: 1})
	r := rand.New(rand.NewPCG(3, 4))
	for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 7}, {65, 70, 131}, {128, 64, 96}, {17, 200, 33}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, w := randS8(r, m*k), randS8(r, n*k)
		ep := ops.Int8Epilogue{Bias: make([]int32, n), Scale: make([]float32, n)}
		for j := range n {
			ep.Bias[j] = int32(r.IntN(20000) - 10000)
			ep.Scale[j] = float32(r.Float64()*2e-4 + 1e-5)
		}
		pr, err := ref.PackInt8(w, n, k)
		if err != nil {
			t.Fatal(err)
		}
		pg, err := g.PackInt8(w, n, k)
		if err != nil {
			t.Fatal(err)
		}
		for _, relu := range []bool{false, true} {
			ep.ReLU = relu
			wq, gq := make([]int8, m*n), make([]int8, m*n)
			if err := ref.Int8Gemm(m, a, pr, ep, wq, nil); err != nil {
				t.Fatal(err)
			}
			if err := g.Int8Gemm(m, a, pg, ep, gq, nil); err != nil {
				t.Fatal(err)
			}
			for i := range wq {
				if wq[i] != gq[i] {
					t.Fatalf("%v relu=%v requant: element %d = %d, the CPU gives %d", sz, relu, i, gq[i], wq[i])
				}
			}
			wf, gf := make([]float32, m*n), make([]float32, m*n)
			if err := ref.Int8Gemm(m, a, pr, ep, nil, wf); err != nil {
				t.Fatal(err)
			}
			if err := g.Int8Gemm(m, a, pg, ep, nil, gf); err != nil {
				t.Fatal(err)
			}
			for i := range wf {
				if wf[i] != gf[i] {
					t.Fatalf("%v relu=%v dequant: element %d = %v, the CPU gives %v", sz, relu, i, gf[i], wf[i])
				}
			}
		}
	}
}

// TestInt8ConvertMatchesCPU: quantize, dequantize and int8 im2col (with
// padding, stride, dilation) agree with the CPU bit for bit.
func TestInt8ConvertMatchesCPU(t *testing.T) {
	g := cuda.New(emu.New())
	ref := cpu.New(cpu.Options{Threads: 1})
	r := rand.New(rand.NewPCG(5, 6))
	x := make([]float32, 1000)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 3)
	}
	x[0], x[1] = 0.5*0.02, 1.5*0.02 // ties round to even
	wq, gq := make([]int8, len(x)), make([]int8, len(x))
	if err := ref.QuantizeInt8(x, 0.02, wq); err != nil {
		t.Fatal(err)
	}
	if err := g.QuantizeInt8(x, 0.02, gq); err != nil {
		t.Fatal(err)
	}
	for i := range wq {
		if wq[i] != gq[i] {
			t.Fatalf("quantize %v: %d, the CPU gives %d", x[i], gq[i], wq[i])
		}
	}
	wf, gf := make([]float32, len(x)), make([]float32, len(x))
	ref.DequantizeInt8(wq, 0.02, wf)
	g.DequantizeInt8(wq, 0.02, gf)
	for i := range wf {
		if wf[i] != gf[i] {
			t.Fatalf("dequantize %d: %v, the CPU gives %v", wq[i], gf[i], wf[i])
		}
	}
	p := ops.ConvParams{N: 2, C: 3, H: 7, W: 6, OutC: 4, KH: 3, KW: 2, StrideH: 2, StrideW: 1, PadH: 1, PadW: 1, DilH: 1, DilW: 2, Groups: 1}
	p.OutH = (p.H+2*p.PadH-p.DilH*(p.KH-1)-1)/p.StrideH + 1
	p.OutW = (p.W+2*p.PadW-p.DilW*(p.KW-1)-1)/p.StrideW + 1
	xs := randS8(r, p.N*p.C*p.H*p.W)
	n := p.N * p.OutH * p.OutW * p.C * p.KH * p.KW
	wr, gr := make([]int8, n), make([]int8, n)
	if err := ref.Im2ColInt8(p, xs, wr); err != nil {
		t.Fatal(err)
	}
	if err := g.Im2ColInt8(p, xs, gr); err != nil {
		t.Fatal(err)
	}
	for i := range wr {
		if wr[i] != gr[i] {
			t.Fatalf("im2col int8: element %d = %d, the CPU gives %d", i, gr[i], wr[i])
		}
	}
}

// TestInt8AttentionMatchesCPU: the integer attention agrees with the CPU
// kernel to one code (the softmax shift differs: per row here, per head
// with redone rows there) on windows with a relative bias and a mask, and
// most codes agree exactly.
func TestInt8AttentionMatchesCPU(t *testing.T) {
	g := cuda.New(emu.New())
	ref := cpu.New(cpu.Options{Threads: 1})
	r := rand.New(rand.NewPCG(7, 8))
	for _, sh := range [][4]int{{2, 49, 32, 2}, {4, 16, 64, 4}, {1, 5, 16, 1}} {
		b, n, c, h := sh[0], sh[1], sh[2], sh[3]
		ldt := 16 * ((n + 15) / 16)
		nt := 2
		if b%nt != 0 {
			nt = 1
		}
		p := ops.Int8AttentionParams{Batch: b, Tokens: n, Channels: c, Heads: h, InScale: 0.05, OutScale: 0.02,
			Scale: float32(1 / math.Sqrt(float64(c/h))), NT: nt, LDT: ldt, Table: make([]float32, nt*h*n*ldt)}
		for i := range p.Table {
			if i%ldt >= n {
				p.Table[i] = float32(math.Inf(-1))
			} else if r.IntN(7) == 0 {
				p.Table[i] = -100
			} else {
				p.Table[i] = float32(r.NormFloat64())
			}
		}
		qkv := randS8(r, b*n*3*c)
		wo, gout := make([]int8, b*n*c), make([]int8, b*n*c)
		if err := ref.Int8Attention(p, qkv, wo); err != nil {
			t.Fatal(err)
		}
		if err := g.Int8Attention(p, qkv, gout); err != nil {
			t.Fatal(err)
		}
		same := 0
		for i := range wo {
			d := int(gout[i]) - int(wo[i])
			if d < -1 || d > 1 {
				t.Fatalf("%v: code %d = %d, the CPU gives %d", sh, i, gout[i], wo[i])
			}
			if d == 0 {
				same++
			}
		}
		if frac := float64(same) / float64(len(wo)); frac < 0.95 {
			t.Errorf("%v: only %.1f%% of the codes equal the CPU's", sh, 100*frac)
		}
	}
}
