package cpu_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

// zooLayerShapes lists the distinct (out, in·kh·kw) GEMM shapes of the zoo's
// linear and ungrouped conv layers.
func zooLayerShapes(t *testing.T) [][2]int {
	var out [][2]int
	for _, name := range []string{"cnn", "resnet20", "vit-tiny", "swin-micro"} {
		m, err := zoo.Build(name, zoo.Shape{C: 1, H: 28, W: 28}, 10, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range m.FindKind(ops.OpLinear, ops.OpConv2d) {
			if n.Attrs.Groups > 1 {
				continue
			}
			w := m.Param(n.Params["weight"]).Value
			s := [2]int{w.Shape[0], w.Numel() / w.Shape[0]}
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// log2Weights draws zero (about 40%) or ±2^s with s in [0, maxShift].
func log2Weights(r *rand.Rand, n, maxShift int) []int8 {
	w := make([]int8, n)
	for i := range w {
		if r.Float32() < 0.4 {
			continue
		}
		v := int8(1) << r.IntN(maxShift+1)
		if r.IntN(2) == 0 {
			v = -v
		}
		w[i] = v
	}
	return w
}

// The shift-add reference and the int8 kernels agree bit for bit on every
// zoo layer shape: the int32 accumulators, and both epilogues (requantized
// int8 with ReLU, dequantized float32).
func TestShiftAddMatchesInt8KernelOnZooShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	fast := cpu.New(cpu.Options{})
	ref := cpu.NewShiftAdd(fast)
	shapes := zooLayerShapes(t)
	if len(shapes) < 10 {
		t.Fatalf("only %d zoo layer shapes", len(shapes))
	}
	for _, s := range shapes {
		for _, m := range []int{1, 37} {
			n, k := s[0], s[1]
			t.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(t *testing.T) {
				w := log2Weights(r, n*k, 6)
				a := make([]int8, m*k)
				for i := range a {
					a[i] = int8(r.IntN(8)) // unsigned 3-bit codes
					if i%5 == 0 {
						a[i] = int8(r.IntN(256) - 128) // and full int8 ones
					}
				}
				codes, ok := cpu.DecodeShift(w, n, k)
				if !ok {
					t.Fatal("power-of-two weights not decoded")
				}
				want := make([]int32, m*n)
				gemm.GemmS8Packed(m, a, k, gemm.PackS8(n, k, w, k), want, n)
				got := make([]int32, m*n)
				cpu.ShiftAddGemm(m, a, codes, got)
				if !slices.Equal(got, want) {
					t.Fatal("shift-add accumulators differ from the int8 kernel's")
				}
				ep := ops.Int8Epilogue{Bias: make([]int32, n), Scale: make([]float32, n), ReLU: true}
				for j := range n {
					ep.Bias[j], ep.Scale[j] = int32(r.IntN(2001)-1000), float32(r.Float64()*0.01+1e-4)
				}
				pf, _ := fast.PackInt8(w, n, k)
				pr, _ := ref.PackInt8(w, n, k)
				if _, isCodes := pr.(cpu.ShiftCodes); !isCodes {
					t.Fatal("the reference packed power-of-two weights for the int8 kernel")
				}
				qf, qr := make([]int8, m*n), make([]int8, m*n)
				ff, fr := make([]float32, m*n), make([]float32, m*n)
				if fast.Int8Gemm(m, a, pf, ep, qf, nil) != nil || ref.Int8Gemm(m, a, pr, ep, qr, nil) != nil ||
					fast.Int8Gemm(m, a, pf, ep, nil, ff) != nil || ref.Int8Gemm(m, a, pr, ep, nil, fr) != nil {
					t.Fatal("gemm failed")
				}
				if !slices.Equal(qf, qr) || !slices.Equal(ff, fr) {
					t.Fatal("epilogue outputs differ")
				}
			})
		}
	}
}

func TestDecodeShiftRejectsOtherWeights(t *testing.T) {
	if _, ok := cpu.DecodeShift([]int8{0, 1, -2, 64, -128}, 1, 5); !ok {
		t.Fatal("powers of two rejected")
	}
	if _, ok := cpu.DecodeShift([]int8{4, 3}, 1, 2); ok {
		t.Fatal("3 accepted as a power of two")
	}
}
