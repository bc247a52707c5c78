package compress

import (
	"context"
	"fmt"
	"testing"

	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
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
