package project

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The HCL parser recurses once per bracket and per unary or binary
// operator, so a project file of a few hundred thousand '(' overflows the
// stack. checkDepth scans the token stream first (HCL's own lexer, which
// does not recurse) and refuses nesting deeper than the recipe language
// allows, at the token that crosses the limit.
const (
	maxDepth     = 200  // brackets, braces and template interpolations open at once
	maxOperators = 1000 // operators in one line or list element
)

func checkDepth(name string, text []byte) hcl.Diagnostics {
	toks, _ := hclsyntax.LexConfig(text, name, hcl.InitialPos)
	depth, ops := 0, 0
	for _, t := range toks {
		switch t.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen,
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			if depth++; depth > maxDepth {
				return tooDeep(t, fmt.Sprintf("nesting too deep: this opens level %d, more than the %d a project file may use", depth, maxDepth))
			}
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenTemplateSeqEnd:
			depth = max(depth-1, 0)
		case hclsyntax.TokenNewline, hclsyntax.TokenComma:
			ops = 0
		case hclsyntax.TokenPlus, hclsyntax.TokenMinus, hclsyntax.TokenStar, hclsyntax.TokenSlash,
			hclsyntax.TokenPercent, hclsyntax.TokenBang, hclsyntax.TokenAnd, hclsyntax.TokenOr,
			hclsyntax.TokenEqualOp, hclsyntax.TokenNotEqual, hclsyntax.TokenLessThan, hclsyntax.TokenLessThanEq,
			hclsyntax.TokenGreaterThan, hclsyntax.TokenGreaterThanEq, hclsyntax.TokenQuestion, hclsyntax.TokenDot:
			if ops++; ops > maxOperators {
				return tooDeep(t, fmt.Sprintf("expression too deep: more than %d operators in one expression", maxOperators))
			}
		}
	}
	return nil
}

func tooDeep(t hclsyntax.Token, summary string) hcl.Diagnostics {
	r := t.Range
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary,
		Detail: "split the value into simpler ones; project files hold plain settings", Subject: &r}}
}
