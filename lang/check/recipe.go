package check

import (
	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/lang/syntax"
)

// Recipe is a checked recipe: typed steps in source order.
type Recipe struct {
	File  *syntax.File
	Steps []*Step
	// Lets are the recipe's parameters after `--set` overrides.
	Lets map[string]Value
}

// StepKind tells commands from blocks.
type StepKind int

const (
	// KCommand is a verb statement.
	KCommand StepKind = iota
	// KLet is `let name = expr`.
	KLet
	// KExpect is `expect cond`.
	KExpect
	// KRepeat is `repeat N { ... }`.
	KRepeat
	// KFor is `for x in [...] { ... }`.
	KFor
)

// Step is one checked statement.
type Step struct {
	Kind    StepKind
	Verb    string // the verb, or "let", "expect", "repeat", "for"
	Variant string // the variant picked by the first word, if any
	Sig     *Signature
	// Words maps a slot name to its value(s); repeated slots hold a list.
	Words map[string]Value
	// Args holds every argument, explicit ones and defaults filled in.
	Args map[string]Value
	// Explicit names the arguments the recipe wrote itself.
	Explicit map[string]bool
	// Inherited says where an argument's value comes from when neither
	// the statement nor the signature's default gave it: FromDataLine or
	// FromBinding (a train step's batch).
	Inherited map[string]string
	// Name is the defined name for let/for, or the snapshot for TName slots.
	Name string
	// Expr is the condition of expect or the value of let.
	Expr syntax.Expr
	// Count is the repeat count; Over the for-loop values.
	Count int
	Over  []Value
	Body  []*Step
	// Branches holds, for KFor, the body checked once per loop value with
	// the loop variable bound (Body is Branches[0]), so the planner gets
	// every branch's resolved arguments.
	Branches [][]*Step
	// Value is a let's value after --set overrides.
	Value Value
	// Metrics names the metrics the step records (evaluate accuracy ...).
	Metrics []string
	// Refs lists the metric references of an expect, and whether each
	// must be evaluated on a snapshot at run time because no step
	// evaluated it on that model state.
	Refs []MetricRef
	Node syntax.Stmt
	Span source.Span
}

// MetricRef is a metric an expect reads: `accuracy` (Snapshot "") or
// `teacher.accuracy`.
type MetricRef struct {
	Snapshot string
	Metric   string
	// Lazy means no step evaluates the metric on that snapshot's model
	// state: the runner evaluates it there, with the settings of the
	// evaluate step in Source, before the expect.
	Lazy   bool
	Source *Step
	Span   source.Span
}

// Line is the 1-based line the step starts on.
func (s *Step) Line() int { return s.Span.Start.Line }

// ValueKind tells what a Value holds.
type ValueKind int

const (
	// VNone is a missing value.
	VNone ValueKind = iota
	// VInt is an integer.
	VInt
	// VFloat is a float (percents are stored as fractions).
	VFloat
	// VString is a string or path.
	VString
	// VIdent is an identifier (enum value, name).
	VIdent
	// VBool is a boolean.
	VBool
	// VList is a list.
	VList
	// VCall is a called enum: Str is the name, List the arguments.
	VCall
	// VExpr is an unevaluated expression (references to run-time state).
	VExpr
)

// Value is a typed value after checking.
type Value struct {
	Kind  ValueKind
	Int   int64
	Float float64
	Str   string
	Bool  bool
	List  []Value
	// Unit is "%" for percents (Float holds the fraction) and the unit as
	// written for quantities (Float holds seconds or bytes).
	Unit string
	Expr syntax.Expr // for VExpr, and the source node of any value
	Span source.Span
}

// Number returns the value as a float64 (ints widen).
func (v Value) Number() float64 {
	if v.Kind == VInt {
		return float64(v.Int)
	}
	return v.Float
}
