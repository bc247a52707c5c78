package syntax

import (
	"fmt"

	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/source"
)

// The grammar reads `x op y op z ...` flat; binaryExpr builds the tree by
// precedence climbing. Precedence, loosest first: or; and; comparisons
// (== != < <= > >=, which do not chain: a < b < c is an error); + -;
// * /. Operators of one level associate to the left.

func precedence(op string) int {
	switch op {
	case "or":
		return 1
	case "and":
		return 2
	case "==", "!=", "<", "<=", ">", ">=":
		return 3
	case "+", "-":
		return 4
	}
	return 5 // * /
}

// climber walks one flat operator expression.
type climber struct {
	l        *lowerer
	operands []Expr
	ops      []*gBinOp
	k        int // index of the next operator, and of the operand before it
}

func (l *lowerer) binaryExpr(g *gBinary) Expr {
	c := &climber{l: l, operands: []Expr{l.unary(g.Left)}, ops: g.Rest}
	for _, op := range g.Rest {
		c.operands = append(c.operands, l.unary(op.Right))
	}
	return c.climb(1)
}

// climb reads operand k and every following operator binding at least as
// tightly as minPrec.
func (c *climber) climb(minPrec int) Expr {
	x := c.operands[c.k]
	compared := false
	for c.k < len(c.ops) && precedence(c.ops[c.k].Op) >= minPrec {
		op := c.ops[c.k]
		prec := precedence(op.Op)
		if prec == 3 && compared {
			c.l.diags = append(c.l.diags, chainedComparison(c.l.file, op))
		}
		compared = prec == 3
		c.k++
		y := c.climb(prec + 1)
		x = &Binary{Op: op.Op, OpSp: c.l.tokSpan(op.Pos, op.Op), X: x, Y: y, Sp: source.Join(x.Span(), y.Span())}
	}
	return x
}

func chainedComparison(src *source.File, op *gBinOp) *diag.Diagnostic {
	return diag.Errorf(src.Span(op.Pos.Offset, op.Pos.Offset+len(op.Op)), fmt.Sprintf("unexpected %q", op.Op)).
		WithDetail("comparisons do not chain: write a < b and b < c")
}
