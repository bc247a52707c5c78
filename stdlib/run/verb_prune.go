package run

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/stdlib/prune"
)

func init() {
	Register("prune", Verb{Run: runPrune})
}

// runPrune masks the smallest weights (prune.Magnitude) or removes whole
// channels (prune.Structured). Metrics: sparsity overall and
// sparsity_LAYER per layer; structured adds params and params_removed.
func runPrune(ctx context.Context, env *Env, st *State, step *check.Step) (*Outcome, error) {
	if err := needModel(st); err != nil {
		return nil, err
	}
	var a struct {
		Ratio      float64 `arg:"ratio"`
		Scope      string  `arg:"scope"`
		Structured bool    `arg:"structured"`
	}
	if err := step.Decode(&a); err != nil {
		return nil, err
	}
	ratio, scope := a.Ratio, a.Scope
	st.BeginCompression()
	if a.Structured {
		return pruneStructured(st, ratio, scope)
	}
	rep, err := prune.Magnitude(st.Model, ratio, scope)
	if err != nil {
		return nil, err
	}
	st.ModelChanged()
	out := sparsityOutcome(st, rep)
	out.Summary = fmt.Sprintf("prune magnitude ratio=%g scope=%s: %s", ratio, scope, out.Summary)
	return out, nil
}

// sparsityOutcome records the model's sparsity overall and per layer.
func sparsityOutcome(st *State, rep prune.Report) *Outcome {
	metrics := map[string]float64{"sparsity": rep.Sparsity()}
	st.Record("sparsity", rep.Sparsity(), "sparsity", rep.Sparsity())
	var parts []string
	for _, l := range rep.Layers {
		metrics["sparsity_"+l.Name] = l.Sparsity()
		parts = append(parts, fmt.Sprintf("%s %.1f%%", l.Name, 100*l.Sparsity()))
	}
	return &Outcome{Summary: fmt.Sprintf("%d of %d weights zero (sparsity %.2f%%; %s)", rep.Zeros, rep.Total, 100*rep.Sparsity(), strings.Join(parts, ", ")),
		Metrics: metrics}
}

func pruneStructured(st *State, ratio float64, scope string) (*Outcome, error) {
	rep, err := prune.Structured(st.Model, ratio, scope)
	var le *prune.LayerError
	if errors.As(err, &le) {
		return nil, fmt.Errorf("ratio=%g would leave layer %s with no channel (all %d removed); use a smaller ratio, or scope=global to rank channels across layers", ratio, le.Layer, le.Channels)
	}
	if err != nil {
		return nil, err
	}
	st.ModelChanged()
	out := sparsityOutcome(st, prune.Measure(st.Model))
	var parts []string
	for _, s := range rep.Shrunk {
		parts = append(parts, fmt.Sprintf("%s %d->%d", s.Name, s.From, s.To))
		out.Metrics["channels_"+s.Name] = float64(s.To)
	}
	for _, s := range rep.Skipped {
		parts = append(parts, fmt.Sprintf("%s kept whole: %s", s.Name, s.Reason))
	}
	out.Metrics["params"] = float64(rep.ParamsAfter)
	out.Metrics["params_removed"] = float64(rep.ParamsBefore - rep.ParamsAfter)
	st.Record("params", float64(rep.ParamsAfter), "params", float64(rep.ParamsAfter))
	out.Summary = fmt.Sprintf("prune magnitude ratio=%g scope=%s structured: channels %s; %d -> %d parameters",
		ratio, scope, strings.Join(parts, ", "), rep.ParamsBefore, rep.ParamsAfter)
	return out, nil
}
