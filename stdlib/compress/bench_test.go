package compress

import (
	"context"
	"fmt"
	"testing"

	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
	cpub "github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

// BenchmarkSwinForward times one inference forward of swin-micro (random
// weights, 28×28 inputs) in fp32 and on the integer engine, with GELU and
// with ReLU MLPs, at batch 1 and 64:
//
//	go test ./stdlib/compress -run '^$' -bench SwinForward -benchtime 20x
func BenchmarkSwinForward(b *testing.B) {
	t := &testing.T{}
	for _, act := range []ops.OpKind{ops.OpGELU, ops.OpReLU} {
		m := swin(t)
		if _, err := Replace(m, ops.OpGELU, act, "*", source.Span{}); err != nil {
			b.Fatal(err)
		}
		q := m.Clone()
		ds := fashionLike(128)
		if _, err := QuantizeInt8(context.Background(), q, Int8Options{Data: ds, Batches: 2}); err != nil {
			b.Fatal(err)
		}
		ir, err := ToInteger(q, source.Span{})
		if err != nil {
			b.Fatal(err)
		}
		for _, v := range []struct {
			name string
			m    *ops.Model
		}{{"fp32", m}, {"int8", ir.Model}} {
			for _, n := range []int{1, 64} {
				b.Run(fmt.Sprintf("%s-%s/b%d", v.name, act, n), func(b *testing.B) {
					x := ops.New(n, 1, 28, 28)
					copy(x.Data, ds.X)
					be, _ := ops.NewBackend("cpu")
					c := ops.NewContext(be, ops.Options{})
					for b.Loop() {
						if _, err := v.m.Forward(c, x); err != nil {
							b.Fatal(err)
						}
						c.Reset()
					}
				})
			}
		}
	}
}

// BenchmarkLowBitForward times one inference forward of the zoo cnn
// (random weights, 28×28 inputs) in fp32, on the int8 engine after
// quantize int8, and on the same engine after quantize log2 bits=3 (the
// fast path: power-of-two codes on the int8 kernels) and the shift-add
// reference backend, at batch 1 and 64, in one process:
//
//	go test ./stdlib/compress -run '^$' -bench LowBitForward -benchtime 50x
func BenchmarkLowBitForward(b *testing.B) {
	t := &testing.T{}
	m, err := zoo.Build("cnn", zoo.Shape{C: 1, H: 28, W: 28}, 10, 1)
	if err != nil {
		b.Fatal(err)
	}
	ds := fashionLike(256)
	i8, l2 := m.Clone(), m.Clone()
	if _, err := QuantizeInt8(context.Background(), i8, Int8Options{Data: ds, Batches: 2}); err != nil {
		b.Fatal(err)
	}
	if _, err := QuantizeLowBit(context.Background(), l2, LowBitOptions{Method: MethodLog2, Bits: 3, Ratio: 0.5, RatioSet: true, Data: ds, Batches: 2}); err != nil {
		b.Fatal(err)
	}
	ri8, err := ToInteger(i8, source.Span{})
	if err != nil {
		b.Fatal(err)
	}
	rl2, err := ToInteger(l2, source.Span{})
	if err != nil {
		b.Fatal(err)
	}
	cpuBe := cpu(t)
	shift := cpub.NewShiftAdd(cpub.New(cpub.Options{}))
	for _, v := range []struct {
		name string
		m    *ops.Model
		be   ops.Backend
	}{{"fp32", m, cpuBe}, {"int8", ri8.Model, cpuBe}, {"log2", rl2.Model, cpuBe}, {"log2-shiftadd", rl2.Model, shift}} {
		for _, n := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/b%d", v.name, n), func(b *testing.B) {
				x := ops.New(n, 1, 28, 28)
				copy(x.Data, ds.X)
				c := ops.NewContext(v.be, ops.Options{})
				for b.Loop() {
					if _, err := v.m.Forward(c, x); err != nil {
						b.Fatal(err)
					}
					c.Reset()
				}
			})
		}
	}
}

// BenchmarkDeployForward times one inference forward of the zoo cnn
// (1×28×28) and resnet20 (3×32×32), random weights, in fp32 and on the
// integer engine of Deploy after quantize int8, at batch 1 and 64 (the
// qpipe side of `qpipe bench infer-ort`, for profiling):
//
//	go test ./stdlib/compress -run '^$' -bench DeployForward -benchtime 20x -cpuprofile cpu.prof
func BenchmarkDeployForward(b *testing.B) {
	for _, v := range []struct {
		name  string
		shape zoo.Shape
	}{{"cnn", zoo.Shape{C: 1, H: 28, W: 28}}, {"resnet20", zoo.Shape{C: 3, H: 32, W: 32}}} {
		m, err := zoo.Build(v.name, v.shape, 10, 1)
		if err != nil {
			b.Fatal(err)
		}
		ds := randomImages(64, v.shape.C, v.shape.H, v.shape.W)
		q := m.Clone()
		if _, err := QuantizeInt8(context.Background(), q, Int8Options{Data: ds, Batch: 4, Batches: 2}); err != nil {
			b.Fatal(err)
		}
		ir, err := Deploy(q, source.Span{})
		if err != nil {
			b.Fatal(err)
		}
		for _, w := range []struct {
			prec string
			m    *ops.Model
		}{{"fp32", m}, {"int8", ir.Model}} {
			for _, n := range []int{1, 64} {
				b.Run(fmt.Sprintf("%s/%s/b%d", v.name, w.prec, n), func(b *testing.B) {
					x := ops.New(n, v.shape.C, v.shape.H, v.shape.W)
					copy(x.Data, ds.X)
					be, _ := ops.NewBackend("cpu")
					c := ops.NewContext(be, ops.Options{})
					for b.Loop() {
						if _, err := w.m.Forward(c, x); err != nil {
							b.Fatal(err)
						}
						c.Reset()
					}
				})
			}
		}
	}
}
