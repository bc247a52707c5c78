// Package syntax owns the shape of .qpipe text: the lexer and participle
// grammar (grammar.go), the AST every other tool reads (this file), Parse
// with error recovery (parse.go) and Walk.
//
// The parser is lenient: it knows statements (`verb word* name=value*`),
// blocks and expressions, never what a verb accepts. That is lang/check's
// job, with signatures registered by the standard library.
package syntax

import "github.com/qpipe/qpipe/lang/source"

// Node is anything in the tree; every node knows its span (end exclusive).
type Node interface {
	Span() source.Span
}

// File is a parsed recipe.
type File struct {
	Name     string
	Source   *source.File
	Stmts    []Stmt
	Comments []*Comment
}

// Span covers the whole file.
func (f *File) Span() source.Span { return f.Source.Span(0, len(f.Source.Text)) }

// Comment is a `#` comment, kept for the formatter and the language server.
type Comment struct {
	Text string // including the leading '#'
	Sp   source.Span
}

// Span locates the comment.
func (c *Comment) Span() source.Span { return c.Sp }

// Stmt is one statement: *Command, *Let, *Expect, *Repeat or *For.
type Stmt interface {
	Node
	stmt()
}

// Command is `verb word* name=value*` (words and args may interleave).
type Command struct {
	Verb  *Ident
	Words []Expr
	Args  []*Arg
	Sp    source.Span
}

// Arg is `name=value`.
type Arg struct {
	Name  *Ident
	Value Expr
	Sp    source.Span
}

// Let is `let name = expr`.
type Let struct {
	Name  *Ident
	Value Expr
	Sp    source.Span
}

// Expect is `expect condition`.
type Expect struct {
	Cond Expr
	Sp   source.Span
}

// Repeat is `repeat count { body }`.
type Repeat struct {
	Count Expr
	Body  *Block
	Sp    source.Span
}

// For is `for var in list-or-range { body }`.
type For struct {
	Var  *Ident
	Over Expr
	Body *Block
	Sp   source.Span
}

// Block is `{ stmts }`.
type Block struct {
	Stmts []Stmt
	Sp    source.Span
}

func (s *Command) Span() source.Span { return s.Sp }
func (s *Arg) Span() source.Span     { return s.Sp }
func (s *Let) Span() source.Span     { return s.Sp }
func (s *Expect) Span() source.Span  { return s.Sp }
func (s *Repeat) Span() source.Span  { return s.Sp }
func (s *For) Span() source.Span     { return s.Sp }
func (s *Block) Span() source.Span   { return s.Sp }

func (*Command) stmt() {}
func (*Let) stmt()     {}
func (*Expect) stmt()  {}
func (*Repeat) stmt()  {}
func (*For) stmt()     {}

// Expr is a value or expression.
type Expr interface {
	Node
	expr()
}

// Ident is a bare name such as `gelu`, `per_channel` or `swin-micro`.
type Ident struct {
	Name string
	Sp   source.Span
}

// Ref is a dotted name such as `teacher.accuracy` (two or more parts).
type Ref struct {
	Parts []*Ident
	Sp    source.Span
}

// NumberKind tells integers from floats.
type NumberKind int

const (
	// Int is an integer literal.
	Int NumberKind = iota
	// Float is a literal with a point or an exponent.
	Float
)

// Number is an integer or float literal.
type Number struct {
	Kind  NumberKind
	Text  string
	Value float64
	Sp    source.Span
}

// Percent is `0.5%`; Value is the number as written (0.5), Fraction is
// Value/100.
type Percent struct {
	Text  string
	Value float64
	Sp    source.Span
}

// Quantity is a number with a unit suffix, such as `5ms` or `2MB`; the
// checker decides which units an argument accepts.
type Quantity struct {
	Text  string
	Value float64
	Unit  string
	Sp    source.Span
}

// String is a double-quoted string; Value is unquoted.
type String struct {
	Value string
	Sp    source.Span
}

// List is `[a, b, c]`.
type List struct {
	Elems []Expr
	Sp    source.Span
}

// Range is `from..to`, both ends inclusive.
type Range struct {
	From, To Expr
	Sp       source.Span
}

// Call is `name(args)`, such as `percentile(99.99)`.
type Call struct {
	Name  *Ident
	Words []Expr
	Args  []*Arg
	Sp    source.Span
}

// Unary is `-x`.
type Unary struct {
	Op string
	X  Expr
	Sp source.Span
}

// Binary is `x op y` for + - * / == != < <= > >= and or.
type Binary struct {
	Op   string
	OpSp source.Span
	X, Y Expr
	Sp   source.Span
}

// Paren is `(x)`.
type Paren struct {
	X  Expr
	Sp source.Span
}

func (e *Ident) Span() source.Span    { return e.Sp }
func (e *Ref) Span() source.Span      { return e.Sp }
func (e *Number) Span() source.Span   { return e.Sp }
func (e *Percent) Span() source.Span  { return e.Sp }
func (e *Quantity) Span() source.Span { return e.Sp }
func (e *String) Span() source.Span   { return e.Sp }
func (e *List) Span() source.Span     { return e.Sp }
func (e *Range) Span() source.Span    { return e.Sp }
func (e *Call) Span() source.Span     { return e.Sp }
func (e *Unary) Span() source.Span    { return e.Sp }
func (e *Binary) Span() source.Span   { return e.Sp }
func (e *Paren) Span() source.Span    { return e.Sp }

func (*Ident) expr()    {}
func (*Ref) expr()      {}
func (*Number) expr()   {}
func (*Percent) expr()  {}
func (*Quantity) expr() {}
func (*String) expr()   {}
func (*List) expr()     {}
func (*Range) expr()    {}
func (*Call) expr()     {}
func (*Unary) expr()    {}
func (*Binary) expr()   {}
func (*Paren) expr()    {}

// Arg returns the command's argument named name, or nil.
func (s *Command) Arg(name string) *Arg {
	for _, a := range s.Args {
		if a.Name.Name == name {
			return a
		}
	}
	return nil
}

// Dotted returns a Ref's parts joined with dots.
func (e *Ref) Dotted() string {
	out := ""
	for i, p := range e.Parts {
		if i > 0 {
			out += "."
		}
		out += p.Name
	}
	return out
}
