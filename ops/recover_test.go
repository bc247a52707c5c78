package ops_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
)

// panicky is the CPU backend with one kind of kernel panicking, as a
// kernel bug would.
type panicky struct {
	*cpu.Backend
	where string // "block", "fused" or "unary"
}

func (p *panicky) ConvBlock(b ops.ConvBlock) (bool, error) {
	if p.where == "block" {
		panic("kernel bug in the block")
	}
	return p.Backend.ConvBlock(b)
}

func (p *panicky) Conv2dFused(cp ops.ConvParams, x, w, y *ops.Tensor, f ops.ConvFusion) error {
	if p.where == "fused" {
		panic("kernel bug in the fused convolution")
	}
	return p.Backend.Conv2dFused(cp, x, w, y, f)
}

func (p *panicky) Unary(op ops.UnaryOp, x, y *ops.Tensor) error {
	if p.where == "unary" {
		panic("kernel bug in the unary op")
	}
	return p.Backend.Unary(op, x, y)
}

// A panic while a node runs, on each of the executor's three paths (an
// inverted residual block, a convolution with its batch norm, a plain
// node), comes back from Forward as an error located at the node that was
// running, and the process goes on.
func TestNodePanicIsALocatedError(t *testing.T) {
	chain := func(t *testing.T) *ops.Model {
		b := ops.NewBuilder("chain", 1)
		y := b.BatchNorm("bn", b.Conv2d("c", b.Input("x"), 16, 4, 3, ops.Conv2dOptions{}, true), 4)
		m, err := b.Build(y)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	unary := func(t *testing.T) *ops.Model {
		b := ops.NewBuilder("unary", 1)
		m, err := b.Build(b.Op(ops.OpReLU, "r", ops.Attrs{}, b.Input("x")))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, c := range []struct {
		where, node, msg string
		model            func(*testing.T) *ops.Model
	}{
		{"block", "b0.dw", "kernel bug in the block", mobileBlocks},
		{"fused", "c", "kernel bug in the fused convolution", chain},
		{"unary", "r", "kernel bug in the unary op", unary},
	} {
		be := &panicky{Backend: cpu.New(cpu.Options{Threads: 2}), where: c.where}
		_, err := c.model(t).Forward1(ops.NewContext(be, ops.Options{}), ops.New(1, 16, 40, 40))
		var oe *ops.OpError
		if !errors.As(err, &oe) {
			t.Fatalf("%s: error %v (%T), want an *ops.OpError", c.where, err, err)
		}
		if oe.Node != c.node || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error at node %q: %v; want node %q and %q", c.where, oe.Node, err, c.node, c.msg)
		}
	}
}
