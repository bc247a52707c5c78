package syntax

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The grammar structs below are syntax only: participle fills them, and
// lower.go turns them into the AST in ast.go. Nothing outside this package
// sees them.

var recipeLexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Comment", Pattern: `#[^\n]*`},
	{Name: "String", Pattern: `"(\\.|[^"\\\n])*"`},
	{Name: "Percent", Pattern: `[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?%`},
	{Name: "Quantity", Pattern: `[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?[A-DF-Za-df-z][A-Za-z]*`},
	{Name: "Float", Pattern: `[0-9]+(\.[0-9]+([eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)`},
	{Name: "Int", Pattern: `[0-9]+`},
	{Name: "Ident", Pattern: `[A-Za-z_][A-Za-z0-9_]*(-[A-Za-z][A-Za-z0-9_]*)*`},
	{Name: "Range", Pattern: `\.\.`},
	{Name: "Op", Pattern: `==|!=|<=|>=|[-+*/<>]`},
	{Name: "Punct", Pattern: `[=(),\[\]{}.;]`},
	{Name: "Newline", Pattern: `\r?\n`},
	{Name: "Space", Pattern: `[ \t\r]+`},
})

var parser = participle.MustBuild[gFile](
	participle.Lexer(recipeLexer),
	participle.Elide("Comment", "Space"),
	participle.UseLookahead(3),
)

type gFile struct {
	Items []*gItem `parser:"@@*"`
}

// gItem is a statement or a separator; separators carry no data. Two
// statements with no separator between them are reported by the lowerer.
type gItem struct {
	Stmt *gStmt `parser:"  @@"`
	Sep  string `parser:"| @(';' | Newline)"`
}

type gStmt struct {
	Tokens []lexer.Token

	Let    *gLet     `parser:"  @@"`
	Expect *gExpect  `parser:"| @@"`
	Repeat *gRepeat  `parser:"| @@"`
	For    *gFor     `parser:"| @@"`
	Cmd    *gCommand `parser:"| @@"`
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

// gExpr is a range or a logical expression.
type gExpr struct {
	Tokens []lexer.Token
	From   *gOr `parser:"@@"`
	To     *gOr `parser:"( '..' @@ )?"`
}

// gOr and gAnd give 'and' a higher precedence than 'or', as in most
// languages: a or b and c is a or (b and c).
type gOr struct {
	Left *gAnd    `parser:"@@"`
	Rest []*gOrOp `parser:"@@*"`
}

type gOrOp struct {
	Pos   lexer.Position
	Op    string `parser:"@'or'"`
	Right *gAnd  `parser:"@@"`
}

type gAnd struct {
	Left *gCompare `parser:"@@"`
	Rest []*gAndOp `parser:"@@*"`
}

type gAndOp struct {
	Pos   lexer.Position
	Op    string    `parser:"@'and'"`
	Right *gCompare `parser:"@@"`
}

type gCompare struct {
	Tokens []lexer.Token
	Left   *gSum  `parser:"@@"`
	Op     string `parser:"( @('==' | '!=' | '<=' | '>=' | '<' | '>')"`
	Right  *gSum  `parser:"  @@ )?"`
}

type gSum struct {
	Tokens []lexer.Token
	Left   *gProduct `parser:"@@"`
	Rest   []*gSumOp `parser:"@@*"`
}

type gSumOp struct {
	Pos   lexer.Position
	Op    string    `parser:"@('+' | '-')"`
	Right *gProduct `parser:"@@"`
}

type gProduct struct {
	Tokens []lexer.Token
	Left   *gUnary    `parser:"@@"`
	Rest   []*gProdOp `parser:"@@*"`
}

type gProdOp struct {
	Pos   lexer.Position
	Op    string  `parser:"@('*' | '/')"`
	Right *gUnary `parser:"@@"`
}

type gUnary struct {
	Tokens  []lexer.Token
	Neg     bool      `parser:"(  @'-'"`
	Operand *gUnary   `parser:"   @@"`
	Primary *gPrimary `parser:"| @@ )"`
}

type gPrimary struct {
	Tokens   []lexer.Token
	Percent  *string `parser:"  @Percent"`
	Quantity *string `parser:"| @Quantity"`
	Float    *string `parser:"| @Float"`
	Int      *string `parser:"| @Int"`
	String   *string `parser:"| @String"`
	List     *gList  `parser:"| @@"`
	Paren    *gExpr  `parser:"| '(' Newline* @@ Newline* ')'"`
	Ref      *gRef   `parser:"| @@"`
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
