package planner

import "github.com/qpipe/qpipe/lang/check"

// Plan is a checked recipe laid out as a graph of nodes and dataflow edges.
type Plan struct {
	// Recipe is the recipe's file name.
	Recipe string `json:"recipe"`
	// Model and Data say what the pipeline starts from and who said so.
	Model Binding `json:"model"`
	Data  Binding `json:"data"`
	// Nodes are in execution order; a node's children follow it.
	Nodes []*Node `json:"nodes"`
	// Edges carry one resource each from its writer to a reader.
	Edges []Edge `json:"edges"`
	// Total sums the cost of every step node.
	Total Cost `json:"total"`
}

// Binding is where the model or the dataset comes from.
type Binding struct {
	// Name is a built-in name or a file path; "" when unbound.
	Name string `json:"name"`
	// From is "recipe" or "command line"; "" when unbound.
	From string `json:"from"`
	// Params and FLOPsPerImage describe a resolved model; TrainImages
	// and TestImages a resolved dataset (after subset and val_split).
	Params        *int64   `json:"params,omitempty"`
	FLOPsPerImage *float64 `json:"flops_per_image,omitempty"`
	TrainImages   *int64   `json:"train_images,omitempty"`
	TestImages    *int64   `json:"test_images,omitempty"`
	// Unknown says why the planner could not resolve it ("" when it
	// did or was not asked to).
	Unknown string `json:"unknown,omitempty"`
}

// Binding sources.
const (
	FromRecipe  = "recipe"
	FromCommand = "command line"
)

// Kind tells what a node stands for.
type Kind string

// Node kinds. Steps, lets and expects do work; the others group children.
const (
	KindStep   Kind = "step"
	KindLet    Kind = "let"
	KindExpect Kind = "expect"
	KindRepeat Kind = "repeat"
	KindRound  Kind = "round"
	KindFor    Kind = "for"
	KindBranch Kind = "branch"
)

// Node is one step of the plan, or a group (repeat, round, for, branch).
type Node struct {
	// ID is the node's index in Plan.Nodes.
	ID int `json:"id"`
	// Parent is the enclosing group's ID, or -1 at top level.
	Parent int `json:"parent"`
	// Label numbers the node in the tree: "3", "4.2", "4.2.1".
	Label string `json:"label"`
	Kind  Kind   `json:"kind"`
	// Verb is the command's verb, or let/expect/repeat/for; rounds and
	// branches leave it empty.
	Verb    string `json:"verb"`
	Variant string `json:"variant"`
	// Text is the statement's head as written: verb and words, with loop
	// variables replaced by their branch values.
	Text string `json:"text"`
	// Args are the resolved arguments in signature order.
	Args []Arg `json:"args"`
	// Bind is the loop binding of a branch ("bits=2"), or the value of a
	// let after --set.
	Bind string `json:"bind"`
	// Note says something the reader should know, such as a binding the
	// command line overrode.
	Note   string   `json:"note"`
	Line   int      `json:"line"`
	Column int      `json:"column"`
	Reads  []string `json:"reads"`
	Writes []string `json:"writes"`
	Cost   Cost     `json:"cost"`
	// Model is the model after a step that reads or changes it, when
	// the planner knows it (Options.Resolve or ModelInfo).
	Model *ModelState `json:"model,omitempty"`
	// Children are the IDs of a group's members.
	Children []int `json:"children"`

	// Index numbers the nodes that do work (steps, lets, expects) in
	// execution order: their place in report.json and the seed stream
	// of the step. Groups have -1.
	Index int `json:"index"`
	// Inputs are the nodes whose output state this node starts from: the
	// work node before it on its branch, none for the first.
	Inputs []int `json:"inputs"`
	// Key is the chained key of a work node (see keys.go): equal keys
	// mean equal results, so a step store can hand back the node's state.
	Key string `json:"key"`
	// Step is the checked statement the node executes; nil for groups
	// and for bindings made on the command line.
	Step *check.Step `json:"-"`
	// Scope holds the lets (after --set) and loop variables bound where
	// the node runs.
	Scope map[string]check.Value `json:"-"`
}

// Works reports whether n does work when the plan executes: a step, a let
// or an expect (not a group).
func (n *Node) Works() bool {
	return n.Kind == KindStep || n.Kind == KindLet || n.Kind == KindExpect
}

// Work lists the plan's work nodes in execution order.
func (p *Plan) Work() []*Node {
	var out []*Node
	for _, n := range p.Nodes {
		if n.Works() {
			out = append(out, n)
		}
	}
	return out
}

// Arg is one resolved argument.
type Arg struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	// Default is true when the recipe left the argument out.
	Default bool `json:"default"`
	// From says where a value the statement did not write comes from
	// when it is not the signature's default: "data line" or "bound
	// dataset" (check.Step.Inherited).
	From string `json:"from,omitempty"`
}

// String renders the argument as `name=value`, marking defaults and
// inherited values.
func (a Arg) String() string {
	if a.From != "" {
		return a.Name + "=" + a.Value + " (from the " + a.From + ")"
	}
	if a.Default {
		return a.Name + "=" + a.Value + " (default)"
	}
	return a.Name + "=" + a.Value
}

// Edge is dataflow: To reads Resource, which From wrote last.
type Edge struct {
	From     int    `json:"from"`
	To       int    `json:"to"`
	Resource string `json:"resource"`
}

// Cost is what a step will spend. Counts that follow from the arguments
// alone are always filled; the rest need the model and stay nil without
// Options.Model (and Options.Data for image counts).
type Cost struct {
	// TrainEpochs counts forward+backward passes over the training set
	// (epochs × iterations).
	TrainEpochs float64 `json:"train_epochs"`
	// ForwardPasses counts forward-only passes over a dataset: evaluation,
	// calibration, a teacher's logits during distillation.
	ForwardPasses float64 `json:"forward_passes"`
	// Images is how many images the passes touch.
	Images *int64 `json:"images"`
	// FLOPs is the floating-point work of those passes (a backward pass
	// counted as two forwards).
	FLOPs *float64 `json:"flops"`
	// ParamMemoryBytes is the memory the step's parameters need: weights,
	// and for training their gradients and two optimizer moments, plus a
	// teacher's weights when distilling. Activations are not included.
	ParamMemoryBytes *int64 `json:"param_memory_bytes"`
	// OutputBytes is the size of a file the step writes (export).
	OutputBytes *int64 `json:"output_bytes"`
}

// ModelInfo is what the planner needs to know about a model to estimate
// model-dependent costs. The engine implements it once it has loaded a
// model; the planner never loads one.
type ModelInfo interface {
	// FLOPsPerImage is the floating-point work of one forward pass.
	FLOPsPerImage() float64
	// Params is the number of parameters.
	Params() int64
}

// DataInfo tells dataset sizes, for image counts and FLOPs.
type DataInfo interface {
	TrainImages() int64
	TestImages() int64
}

// EffectsFunc refines what the planner derived for a step: it receives
// the step and the generic effects and returns the ones to use.
type EffectsFunc func(step *check.Step, generic Effects) Effects

// Options control planning.
type Options struct {
	// Model and Data override the recipe's `model` and `data` statements,
	// as --model and --data do; "" keeps the recipe's.
	Model, Data string
	// ModelInfo and DataInfo, when set, let the planner fill FLOPs,
	// memory, image counts and output sizes.
	ModelInfo ModelInfo
	DataInfo  DataInfo
	// Resolve, when set and ModelInfo is not, finds the model and the
	// dataset the plan starts from; what it cannot find is shown as
	// unknown with its reason, never an error.
	Resolve ResolveFunc
	// Effects refines the generic reads, writes and costs of a step.
	Effects EffectsFunc
	// MaxNodes bounds how many nodes unrolling repeat blocks may add
	// beyond the statements written (which are always planned); 0 means
	// 10000.
	MaxNodes int
	// Keys are what the chained keys mix in besides the plan itself.
	Keys KeyOptions
}

func (o Options) maxNodes() int {
	if o.MaxNodes > 0 {
		return o.MaxNodes
	}
	return 10000
}
