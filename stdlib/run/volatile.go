package run

import (
	"fmt"
	"maps"
	"strings"

	"github.com/qpipe/qpipe/planner"
)

// Nondeterministic metrics are measurements of this machine at this
// moment, not functions of the plan: latency (and the report's
// latency_ms_bN) and throughput. A node that measures one, or an expect
// that reads one, is never taken from the step store: it executes on
// every run, and the values it measures replace the stored ones in the
// states and final figures of the cached nodes after it (until the model
// changes and the metric is gone).

// nondeterministicMetric reports whether a metric (checker or report
// name) measures time.
func nondeterministicMetric(name string) bool {
	return name == "latency" || name == "throughput" || strings.HasPrefix(name, "latency_ms_")
}

// reusable reports whether a node's stored result may stand for running
// it: not when it measures time, and not when it writes a file outside
// the store (an export must exist in this run's output folder).
func reusable(n *planner.Node) bool {
	s := n.Step
	if s == nil {
		return true
	}
	if s.Sig != nil && s.Effects().Writes {
		return false
	}
	for _, m := range s.Metrics {
		if nondeterministicMetric(m) {
			return false
		}
	}
	for _, r := range s.Refs {
		if nondeterministicMetric(r.Metric) {
			return false
		}
	}
	return true
}

// remeasurable reports whether a node that measures time can take the
// rest of its result from the store and re-measure only the time
// (Verb.Remeasure).
func remeasurable(n *planner.Node) bool {
	if n.Step == nil || (n.Step.Sig != nil && n.Step.Effects().Writes) {
		return false
	}
	v, ok := lookup(n.Verb)
	return ok && v.Remeasure != nil
}

// nondeterministic picks the time measurements of a state.
func nondeterministic(st *State) values {
	return values{metrics: pick(st.Metrics), reported: pick(st.Reported)}
}

func pick(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if nondeterministicMetric(k) {
			out[k] = v
		}
	}
	return out
}

// within keeps the values a stored state still holds: a metric the state
// lacks was cleared by a model change.
func (v values) within(sf stateFile) values {
	out := values{metrics: map[string]float64{}, reported: map[string]float64{}}
	for k, x := range v.metrics {
		if _, ok := sf.Metrics[k]; ok {
			out.metrics[k] = x
		}
	}
	for k, x := range v.reported {
		if _, ok := sf.Reported[k]; ok {
			out.reported[k] = x
		}
	}
	return out
}

// apply puts this run's measurements over a loaded state's.
func (v values) apply(st *State) {
	maps.Copy(st.Metrics, v.metrics)
	maps.Copy(st.Reported, v.reported)
}

// bindFlag executes the node the planner adds for --model or --data when
// the recipe has no line of its own.
func bindFlag(env *Env, st *State, p *planner.Plan, n *planner.Node) (*Outcome, error) {
	switch n.Verb {
	case "model":
		if err := bindModel(env, st, p.Model.Name); err != nil {
			return nil, fmt.Errorf("--model %s: %w", p.Model.Name, err)
		}
		if st.Model == nil {
			return &Outcome{Summary: fmt.Sprintf("model %s: built once a dataset gives its input shape", p.Model.Name)}, nil
		}
		return modelOutcome(st), nil
	case "data":
		return bindDataFlag(env, st, p)
	}
	return nil, fmt.Errorf("plan node %s (%s) has no statement to execute", n.Label, n.Text)
}

func bindDataFlag(env *Env, st *State, p *planner.Plan) (*Outcome, error) {
	spec := DataSpec{Name: p.Data.Name}
	if env.DataBind != nil {
		spec = *env.DataBind
	}
	d, err := openData(env, spec)
	if err != nil {
		return nil, fmt.Errorf("--data %s: %w", spec.Name, err)
	}
	st.Data = d
	out := &Outcome{Summary: dataSummary(d)}
	if st.Pending != nil {
		if err := buildPending(st); err != nil {
			return nil, fmt.Errorf("--data %s: %w", spec.Name, err)
		}
		out.Summary += "; " + modelOutcome(st).Summary
	}
	return out, nil
}
