package check

import (
	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/source"
)

// Env is how the checker learns the vocabulary. The standard library
// implements it; the checker never imports stdlib.
type Env interface {
	// Lookup returns the signature of a verb, or false.
	Lookup(verb string) (*Signature, bool)
	// Verbs lists every verb name, for suggestions.
	Verbs() []string
}

// Executability is what an Env implements when it knows which steps this
// build can execute: NotExecutable names the verb, variant or word that
// has no engine yet and where the step writes it. The checker then warns
// about such steps, so check, plan, the LSP and the REPL say so before a
// run starts.
type Executability interface {
	NotExecutable(step *Step) (what string, at source.Span, not bool)
}

// Type is the type of a word slot or an argument value.
type Type int

const (
	// TInt is an integer.
	TInt Type = iota
	// TFloat is any number (integers widen to floats).
	TFloat
	// TFraction is a number in [0,1] or a percent (`0.5%` is 0.005).
	TFraction
	// TString is a quoted string.
	TString
	// TPath is a quoted file path.
	TPath
	// TEnum is one identifier out of Values.
	TEnum
	// TKeyword is a fixed word such as `with` (Values holds it).
	TKeyword
	// TName is a new name the statement defines (snapshot NAME).
	TName
	// TSnapshot is the name of an existing snapshot.
	TSnapshot
	// TBool is true/false.
	TBool
	// TList is a list of Elem (or a range of integers).
	TList
	// TCall is an enum value that may be called with arguments:
	// `percentile(99.99)`; Calls describes the callable forms.
	TCall
	// TDuration is a quantity with a time unit (ms, s, us) or a bare number
	// of seconds.
	TDuration
	// TBytes is a quantity with a size unit (B, KB, MB, GB, KiB, MiB, GiB).
	TBytes
	// TExpr is an arithmetic/comparison expression (let, expect).
	TExpr
	// TNameOrPath is an identifier (built-in name) or a string (file path):
	// `model swin-micro`, `model "m.onnx"`.
	TNameOrPath
)

// Param describes one `name=value` argument, or one positional word slot.
type Param struct {
	Name     string
	Type     Type
	Elem     Type     // element type for TList
	Values   []string // allowed identifiers for TEnum, TKeyword, TCall, TNameOrPath names
	Min, Max *float64 // inclusive bounds, when set
	// MinOpen makes Min exclusive (temperature > 0, lr > 0).
	MinOpen  bool
	Default  any // shown in help and filled in by the planner; nil = none
	Required bool
	Unit     string // documented unit, e.g. "epochs", "fraction", "bits"
	Doc      string
	Calls    []CallForm // callable forms for TCall
	// Repeated lets a word slot take one or more values (evaluate a b c).
	Repeated bool
	// Optional lets a word slot be left out.
	Optional bool
	// MaxOpen makes Max exclusive (prune ratio < 1).
	MaxOpen bool
	// Inherit names an argument of the data line: when this argument is
	// left out and the data line wrote that one, its value is the default
	// (train's batch takes `data mnist batch=128`'s).
	Inherit string
	// When names the words (of any slot) the argument is about: its
	// default is filled in only when the statement has one of them
	// (evaluate's eps only with robustness), so plans and keys list only
	// the arguments that apply. Empty: always.
	When []string
	// Noun names what the values are in messages ("activation" gives
	// `unknown activation "gleu"` and "known activations: ..."); empty
	// means `unknown value "x" for NAME`.
	Noun string
}

// CallForm is one callable enum value: percentile(P).
type CallForm struct {
	Name   string
	Params []Param
	Doc    string
}

// Variant is a form of a verb picked by its first word, such as
// `quantize int8` vs `quantize log2`; its slots and params extend the verb's.
type Variant struct {
	Name   string
	Doc    string
	Slots  []Param
	Params []Param
	// Effects, when set, replaces the verb's Effects for this variant
	// (quantize log2 trains, quantize int8 by default does not).
	Effects *Effects
	// Examples are lines of recipe text shown in help.
	Examples []string
}

// Effects says what a verb needs from the pipeline state and what it
// changes. The checker enforces the needs before running Rules; the
// planner reads every field (what a step reads and writes, whether it
// trains, which passes it costs).
type Effects struct {
	// NeedsModel: the verb reads the current model; an error when no model
	// is loaded (no `model` line above and no --model).
	NeedsModel bool
	// NeedsData: the verb reads the current dataset; an error when none is
	// bound (no `data` line above and no --data).
	NeedsData bool
	// Trains: the verb runs forward and backward passes over the data.
	Trains bool
	// ChangesModel: the verb writes a new model state, so metrics
	// evaluated before it describe an older model.
	ChangesModel bool
	// LoadsModel / LoadsData: the verb binds the model / the dataset.
	LoadsModel bool
	LoadsData  bool
	// ChangesData: the verb derives a new training set (adcorda's
	// corrected D').
	ChangesData bool
	// Writes: the verb writes a file (export).
	Writes bool
}

// Metric is a named value a verb records in the metrics table
// (lower_snake_case, as in report.json).
type Metric struct {
	Name string
	// Type is TFraction (accuracies), TFloat, TInt, TDuration (latency)
	// or TBytes (size); `expect` compares values of the same family.
	Type Type
	// When is the word that makes the verb record this metric
	// (`evaluate latency` records latency); "" means always.
	When string
	// Outcome marks a metric that reports what the step did (samples
	// corrected, activations replaced) rather than a property of the
	// model: it never goes stale when the model changes later.
	Outcome bool
	Doc     string
}

// Signature is what a verb accepts, with the docs `qpipe help` prints.
type Signature struct {
	Verb     string
	Summary  string // one line
	Doc      string // one paragraph
	Slots    []Param
	Params   []Param
	Variants []Variant
	// DefaultVariant is used when the first word names no variant
	// (`quantize bits=4` means `quantize uniform bits=4`); "" means a
	// variant word is required when Variants is non-empty.
	DefaultVariant string
	// Examples are lines of recipe text shown in help.
	Examples []string
	// VariantNoun names the variant words in messages ("quantizer" gives
	// `unknown quantizer "int4"`); empty means "variant".
	VariantNoun string
	// Effects says what the verb needs and does; the checker enforces
	// NeedsModel and NeedsData and bumps the model version on
	// ChangesModel, the planner reads the rest for costs and dataflow.
	Effects Effects
	// Metrics lists the values the verb records in the metrics table;
	// `expect` may only name a metric some earlier step records.
	Metrics []Metric
	// Rules runs after the arguments are typed, against the simulated
	// pipeline state; it enforces order rules (replace after quantize,
	// distill with no teacher) and updates the state (snapshots defined,
	// flags such as "quantized"). It runs only when the statement typed
	// without errors, so every written value is valid and every default is
	// in Args; it runs before the generic effects (the model Version still
	// names the model the step reads). Metrics are recorded from Metrics,
	// not by Rules. A note that follows an error in the result explains it.
	Rules func(st *State, step *Step) diag.Diagnostics
}

// State is the pipeline as the checker simulates it, statement by
// statement, before any model is loaded.
type State struct {
	// ModelLoaded is true once a model is bound (recipe, CLI or project).
	ModelLoaded bool
	// DataLoaded is true once a dataset is bound.
	DataLoaded bool
	// DataArgs are the arguments the data line wrote, with the bound
	// dataset's on top (Param.Inherit); DataFrom says which wrote each:
	// FromDataLine or FromBinding.
	DataArgs map[string]Value
	DataFrom map[string]string
	// Snapshots maps a snapshot name to the statement that defined it;
	// "original" exists once a model is loaded.
	Snapshots map[string]*Step
	// Metrics holds every metric name some step evaluates, mapped to it.
	Metrics map[string]*Step
	// Flags are facts later rules read: "quantized", "quantized:log2",
	// "pruned", "distilled" ... mapped to the step that set them.
	Flags map[string]*Step
	// Params are `let` names in scope (and for-loop variables).
	Params map[string]*Step
	// Values holds the value of each name in Params: a let's value after
	// --set, or the loop variable's value in the branch being checked.
	Values map[string]Value
	// Version counts model states: it goes up each time a step loads or
	// changes the model. ModelStep is the step that made the current one.
	Version   int
	ModelStep *Step
	// SnapVersion is the model Version each snapshot holds.
	SnapVersion map[string]int
	// Evals records which metric was evaluated on which model Version.
	Evals map[MetricAt]*Step
}

// MetricAt is a metric evaluated on one model Version.
type MetricAt struct {
	Metric  string
	Version int
}
