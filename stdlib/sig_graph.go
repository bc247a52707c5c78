package stdlib

import (
	"fmt"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
)

func snapshotSig() *check.Signature {
	return &check.Signature{
		Verb:    "snapshot",
		Summary: "name the current model state",
		Doc: "Names the current model so later steps can read it: distill from=NAME, and " +
			"NAME.metric in expect. `original` always names the model as loaded. Naming a snapshot " +
			"again moves the name to the current model.",
		Slots:    []check.Param{{Name: "name", Type: check.TName, Noun: "name", Doc: "The snapshot's name."}},
		Examples: []string{"snapshot teacher"},
		Effects:  check.Effects{NeedsModel: true},
		Rules:    snapshotRules,
	}
}

func snapshotRules(st *check.State, step *check.Step) diag.Diagnostics {
	name := step.Words["name"]
	if name.Str == "original" {
		return errs(diag.Errorf(name.Span, "cannot rename original").
			WithDetail("original always names the model as loaded; pick another snapshot name"))
	}
	step.Name = name.Str
	st.DefineSnapshot(name.Str, step)
	return nil
}

func replaceSig() *check.Signature {
	return &check.Signature{
		Verb:    "replace",
		Summary: "swap one activation function for another",
		Doc: "Rewrites the model graph: every FROM activation (in layers whose name matches " +
			"scope, a glob such as \"stages.3.*\") becomes TO. The run reports how many were " +
			"replaced; a scope that matches no layer is a run-time error. Replace before quantizing: " +
			"the rewrite changes the float graph that quantization calibrates.",
		Slots: []check.Param{
			{Name: "from", Type: check.TEnum, Values: activations, Noun: "activation", Doc: "The activation to remove."},
			{Name: "with", Type: check.TKeyword, Values: []string{"with"}},
			{Name: "to", Type: check.TEnum, Values: activations, Noun: "activation", Doc: "The activation to put in."},
		},
		Params: []check.Param{
			{Name: "scope", Type: check.TString, Default: "*", Doc: "Glob over layer names; \"*\" is every layer."},
		},
		Examples: []string{"replace gelu with relu", `replace gelu with relu scope="stages.3.*"`},
		Effects:  check.Effects{NeedsModel: true, ChangesModel: true},
		Metrics:  []check.Metric{{Name: "replaced", Outcome: true, Type: check.TInt, Doc: "How many activations were replaced."}},
		Rules:    replaceRules,
	}
}

// replaceRules: a quantized graph cannot be rewritten.
func replaceRules(st *check.State, step *check.Step) diag.Diagnostics {
	from, to := step.Words["from"], step.Words["to"]
	if q := st.Flag("quantized"); q != nil {
		return errs(diag.Errorf(step.Span, "replace after quantize").
			WithDetail(fmt.Sprintf("quantized at line %d; replace activations first, then quantize (calibration depends on them)", q.Line())),
			note(q.Span, "the model is quantized here"))
	}
	beginCompression(st, step)
	st.SetFlag("replaced", step)
	if from.Str == to.Str {
		return errs(warning(to.Span, fmt.Sprintf("replacing %s with %s changes nothing", from.Str, to.Str), ""))
	}
	return nil
}
