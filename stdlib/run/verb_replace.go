package run

import (
	"context"
	"fmt"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/stdlib/compress"
)

func init() {
	Register("replace", Verb{Run: runReplace, Unsupported: replaceUnsupported})
}

// activationKind maps the language's activation words onto ops kinds; the
// words the engine has no kernel for (relu6, leaky_relu) are missing.
func activationKind(word string) (ops.OpKind, bool) {
	k := ops.OpKind(word)
	return k, ops.IsActivation(k)
}

func replaceUnsupported(step *check.Step) (string, source.Span, bool) {
	for _, slot := range []string{"from", "to"} {
		if w := step.Words[slot]; w.Str != "" {
			if _, ok := activationKind(w.Str); !ok {
				return "replace with activation " + w.Str, w.Span, true
			}
		}
	}
	return "", source.Span{}, false
}

// runReplace rewrites the current model's activations (compress.Replace).
func runReplace(ctx context.Context, env *Env, st *State, step *check.Step) (*Outcome, error) {
	if err := needModel(st); err != nil {
		return nil, err
	}
	var a struct {
		From  string `word:"from"`
		To    string `word:"to"`
		Scope string `arg:"scope"`
	}
	if err := step.Decode(&a); err != nil {
		return nil, err
	}
	from, _ := activationKind(a.From)
	to, _ := activationKind(a.To)
	scope := a.Scope
	st.BeginCompression()
	n, err := compress.Replace(st.Model, from, to, scope, step.Span)
	if err != nil {
		return nil, err
	}
	st.ModelChanged()
	st.Record("replaced", float64(n), "replaced", float64(n))
	return &Outcome{Summary: fmt.Sprintf("replace %s with %s: %d activations (scope %q)", from, to, n, scope),
		Metrics: map[string]float64{"replaced": float64(n)}}, nil
}
