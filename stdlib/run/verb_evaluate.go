package run

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/stdlib/compress"
	"github.com/qpipe/qpipe/stdlib/eval"
)

func init() {
	Register("evaluate", Verb{Run: runEvaluate, Remeasure: remeasureEvaluate})
}

// evalWords are the words of an evaluate step (accuracy when none).
func evalWords(step *check.Step) []check.Value {
	w := step.Words["what"]
	if w.Kind == check.VList {
		return w.List
	}
	if w.Kind == check.VNone {
		return []check.Value{{Kind: check.VIdent, Str: "accuracy"}}
	}
	return []check.Value{w}
}

func runEvaluate(ctx context.Context, env *Env, st *State, step *check.Step) (*Outcome, error) {
	if err := needModel(st); err != nil {
		return nil, err
	}
	m, r, pts, err := measure(ctx, env, st.Model, st, step, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range m {
		st.Metrics[k] = v
	}
	for k, v := range r {
		st.Reported[k] = v
	}
	out := &Outcome{Summary: "evaluate: " + describeMetrics(headline(r)), Metrics: r}
	if len(pts) > 0 {
		out.Series = &Series{Robustness: pts}
	}
	return out, nil
}

// remeasureEvaluate times the model again; accuracy and size stay as
// stored.
func remeasureEvaluate(ctx context.Context, env *Env, st *State, step *check.Step) (*Outcome, error) {
	if err := needModel(st); err != nil {
		return nil, err
	}
	m, r, _, err := measure(ctx, env, st.Model, st, step, map[string]bool{"latency": true, "throughput": true})
	if err != nil {
		return nil, err
	}
	maps.Copy(st.Metrics, m)
	maps.Copy(st.Reported, r)
	return &Outcome{Summary: "evaluate: " + describeMetrics(r), Metrics: r}, nil
}

// measure evaluates model with an evaluate step's words and settings; only
// names in `only` are measured when it is non-empty (a snapshot's metric
// an expect needs). It returns the values under the checker's names and
// under report.json's names, and the robustness series points when it
// measured robustness.
//
// A fake-quant int8 model (after quantize int8) is measured as it runs:
// on its integer-engine conversion, with the size of int8 weights.
func measure(ctx context.Context, env *Env, model *ops.Model, st *State, step *check.Step, only map[string]bool) (map[string]float64, map[string]float64, []RobustPoint, error) {
	metrics, reported := map[string]float64{}, map[string]float64{}
	var points []RobustPoint
	attacked := model
	model, err := st.inference(model)
	if err != nil {
		return nil, nil, nil, err
	}
	var a evalArgs
	if err := step.Decode(&a); err != nil {
		return nil, nil, nil, err
	}
	for _, w := range evalWords(step) {
		if len(only) > 0 && !wanted(w.Str, only) {
			continue
		}
		var err error
		switch w.Str {
		case "accuracy":
			err = measureAccuracy(ctx, env, model, st, a.Batch, metrics, reported)
		case "size":
			err = measureSize(model, metrics, reported)
		case "latency":
			err = measureLatency(ctx, env, model, st, a.Batch, a.Runs, metrics, reported)
		case "robustness":
			points, err = measureRobustness(ctx, env, attacked, model, st, step, metrics, reported)
		default:
			err = &NotExecutableError{What: "evaluate " + w.Str, Span: w.Span}
		}
		if err != nil {
			return nil, nil, nil, err
		}
	}
	return metrics, reported, points, nil
}

// evalArgs are an evaluate step's settings of accuracy and latency.
type evalArgs struct {
	Batch int `arg:"batch"`
	Runs  int `arg:"runs"`
}

// wanted tells whether an evaluate word measures one of the metrics.
func wanted(word string, only map[string]bool) bool {
	by := map[string][]string{"accuracy": {"accuracy", "loss"}, "size": {"size", "params"}, "latency": {"latency", "throughput"},
		"robustness": robustnessMetrics}
	for _, m := range by[word] {
		if only[m] {
			return true
		}
	}
	return false
}

func measureAccuracy(ctx context.Context, env *Env, model *ops.Model, st *State, batch int, m, r map[string]float64) error {
	if st.Data == nil {
		return fmt.Errorf("evaluate accuracy needs data, and no dataset is bound")
	}
	ds := st.Data.Splits.Test
	if ds == nil {
		ds = st.Data.Splits.Validation
	}
	if ds == nil {
		return fmt.Errorf("dataset %s has no test split (and no validation split: set val_split on its data line)", st.Data.Spec.Name)
	}
	acc, loss, err := Accuracy(ctx, env.Backend, model, ds, batch, st.Data.Spec.Normalize, env.Tick)
	if err != nil {
		return err
	}
	m["accuracy"], m["loss"] = acc, loss
	r["accuracy"], r["loss"] = acc, loss
	return nil
}

func measureSize(model *ops.Model, m, r map[string]float64) error {
	r["sparsity"] = compress.WeightSparsity(model)
	if len(model.FindKind(ops.OpQLinear, ops.OpQConv2d)) > 0 || len(model.FindKind(ops.OpFakeQuant, ops.OpLog2Quant)) > 0 {
		return measureInt8Size(model, m, r)
	}
	n, err := eval.SizeBytes(model)
	if err != nil {
		return err
	}
	m["size"], m["params"] = float64(n), float64(model.ParamCount())
	r["size_bytes"], r["params"] = float64(n), float64(model.ParamCount())
	return nil
}

// measureLatency times batch 1 and the step's batch; `latency` (for
// expect) is the median of batch 1 in seconds.
func measureLatency(ctx context.Context, env *Env, model *ops.Model, st *State, batch, runs int, m, r map[string]float64) error {
	shape, err := inputShape(st)
	if err != nil {
		return err
	}
	for _, n := range []int{1, batch} {
		d, err := eval.Latency(ctx, env.Backend, model, []int{n, shape[0], shape[1], shape[2]}, eval.LatencyOptions{Runs: runs})
		if err != nil {
			return err
		}
		r[fmt.Sprintf("latency_ms_b%d", n)] = d.Seconds() * 1000
		if n == 1 {
			m["latency"] = d.Seconds()
		}
		if n == batch {
			m["throughput"] = float64(n) / d.Seconds()
			r["throughput"] = m["throughput"]
		}
	}
	return nil
}

func inputShape(st *State) ([3]int, error) {
	if in := st.Meta.Input; in[0] > 0 {
		return in, nil
	}
	if st.Data != nil {
		return st.Data.Splits.Train.Shape(), nil
	}
	return [3]int{}, fmt.Errorf("the model's input shape is unknown: bind data before evaluate latency")
}

// describeMetrics formats metrics in a stable order for summaries.
func describeMetrics(m map[string]float64) string {
	var parts []string
	for _, k := range SortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s=%s", k, check.FormatMetric(k, m[k])))
	}
	return strings.Join(parts, " ")
}
