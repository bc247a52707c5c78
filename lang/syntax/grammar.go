package syntax

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The grammar structs below are syntax only: participle fills them, and
// lower.go turns them into the AST in ast.go. Nothing outside this package
// sees them.

// parser reads simple statements with the fast path (fast.go) and the
// rest with the grammar; exactParser reads everything with the grammar
// and gives the syntax errors.
var (
	parser      = buildParser(parseFast)
	exactParser = buildParser(noFast)
)

func buildParser(fast func(*lexer.PeekingLexer) (fastNode, error)) *participle.Parser[gFile] {
	return participle.MustBuild[gFile](
		participle.Lexer(recipeLexer),
		participle.Elide("Comment", "Space"),
		participle.UseLookahead(3),
		participle.ParseTypeWith(fast),
	)
}

type gFile struct {
	Items []*gItem `parser:"@@*"`
}

// gItem is a statement or a separator; separators carry no data. Two
// statements with no separator between them are reported by the lowerer.
// Fast is a run of statements read by the fast path (fast.go).
type gItem struct {
	Sep  string   `parser:"  @(';' | Newline)"`
	Fast fastNode `parser:"| @@"`
	Stmt *gStmt   `parser:"| @@"`
}

type gStmt struct {
	Tokens []lexer.Token

	Cmd    *gCommand `parser:"  @@"`
	Let    *gLet     `parser:"| @@"`
	Expect *gExpect  `parser:"| @@"`
	Repeat *gRepeat  `parser:"| @@"`
	For    *gFor     `parser:"| @@"`
}

type gLet struct {
	Tokens []lexer.Token
	Name   *gIdent `parser:"'let' @@ '='"`
	Value  *gExpr  `parser:"@@"`
}

type gExpect struct {
	Tokens []lexer.Token
	Cond   *gExpr `parser:"'expect' @@"`
}

type gRepeat struct {
	Tokens []lexer.Token
	Count  *gExpr  `parser:"'repeat' @@"`
	Body   *gBlock `parser:"@@"`
}

type gFor struct {
	Tokens []lexer.Token
	Var    *gIdent `parser:"'for' @@ 'in'"`
	Over   *gExpr  `parser:"@@"`
	Body   *gBlock `parser:"@@"`
}

type gBlock struct {
	Tokens []lexer.Token
	Items  []*gItem `parser:"'{' @@* '}'"`
}

type gCommand struct {
	Tokens []lexer.Token
	Verb   *gIdent  `parser:"(?! 'let' | 'expect' | 'repeat' | 'for') @@"`
	Parts  []*gPart `parser:"@@*"`
}

// gPart is `name=value` or a bare word.
type gPart struct {
	Arg  *gArg  `parser:"  @@"`
	Word *gExpr `parser:"| @@"`
}

type gArg struct {
	Tokens []lexer.Token
	Name   *gIdent `parser:"@@ '='"`
	Value  *gExpr  `parser:"@@"`
}

type gIdent struct {
	Tokens []lexer.Token
	Name   string `parser:"@Ident"`
}

// gExpr is a range or an operator expression.
type gExpr struct {
	Tokens []lexer.Token
	From   *gBinary `parser:"@@"`
	To     *gBinary `parser:"( '..' @@ )?"`
}

// gBinary is operands joined by binary operators, all at one level: the
// lowerer builds the tree by precedence (binary.go), which keeps the
// grammar shallow and the parser fast.
type gBinary struct {
	Left *gUnary   `parser:"@@"`
	Rest []*gBinOp `parser:"@@*"`
}

type gBinOp struct {
	Pos   lexer.Position
	Op    string  `parser:"@('and' | 'or' | '==' | '!=' | '<=' | '>=' | '<' | '>' | '+' | '-' | '*' | '/')"`
	Right *gUnary `parser:"@@"`
}

type gUnary struct {
	Tokens  []lexer.Token
	Primary *gPrimary `parser:"(  @@"`
	Neg     bool      `parser:" | @'-'"`
	Operand *gUnary   `parser:"   @@ )"`
}

// gPrimary lists the most frequent alternatives first: each one tried
// costs the parser a branch.
type gPrimary struct {
	Tokens   []lexer.Token
	Ref      *gRef   `parser:"  @@"`
	Int      *string `parser:"| @Int"`
	Float    *string `parser:"| @Float"`
	String   *string `parser:"| @String"`
	Percent  *string `parser:"| @Percent"`
	Quantity *string `parser:"| @Quantity"`
	List     *gList  `parser:"| @@"`
	Paren    *gExpr  `parser:"| '(' Newline* @@ Newline* ')'"`
}

type gList struct {
	Tokens []lexer.Token
	Elems  []*gExpr `parser:"'[' Newline* ( @@ ( Newline* ',' Newline* @@ )* Newline* ','? )? Newline* ']'"`
}

// gRef is a dotted name, optionally called: teacher.accuracy, percentile(99.9).
type gRef struct {
	Tokens []lexer.Token
	Parts  []*gIdent `parser:"@@ ( '.' @@ )*"`
	Call   *gCall    `parser:"@@?"`
}

type gCall struct {
	Tokens []lexer.Token
	Args   []*gPart `parser:"'(' Newline* ( @@ ( Newline* ',' Newline* @@ )* )? Newline* ')'"`
}
