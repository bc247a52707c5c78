package check

import (
	"fmt"

	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/lang/syntax"
)

// identKind types a bare name in an expect: a parameter in scope, or a
// metric of the current model, which some earlier step must record.
func (c *Checker) identKind(st *State, step *Step, e *syntax.Ident) (kind, diag.Diagnostics) {
	if v, ok := st.Values[e.Name]; ok {
		return paramKind(e, v)
	}
	m, d := c.metric(e)
	if d != nil {
		return kBad, diag.Diagnostics{d}
	}
	src := st.Metrics[e.Name]
	if src == nil {
		return kBad, diag.Diagnostics{c.neverEvaluated(e.Name, e.Sp)}
	}
	step.Refs = append(step.Refs, MetricRef{Metric: e.Name, Source: src, Span: e.Sp})
	var ds diag.Diagnostics
	if !m.Outcome && !st.Fresh(e.Name) && st.ModelStep != nil {
		ds = append(ds, stale(e, src, st.ModelStep))
	}
	return kindOfType(m.Type), ds
}

func paramKind(e *syntax.Ident, v Value) (kind, diag.Diagnostics) {
	switch {
	case v.Kind == VBool:
		return kBool, nil
	case v.Kind == VInt || v.Kind == VFloat:
		if f := unitFamily(v.Unit); f != 0 {
			return kindOfType(f), nil
		}
		return kNum, nil
	}
	return kBad, diag.Diagnostics{diag.Errorf(e.Sp, fmt.Sprintf("%s is %s, not a number", e.Name, valueNoun(v)))}
}

// metric looks a metric name up among those any verb records.
func (c *Checker) metric(e *syntax.Ident) (Metric, *diag.Diagnostic) {
	m, ok := c.metrics[e.Name]
	if !ok {
		return m, diag.Errorf(e.Sp, fmt.Sprintf("unknown metric %q", e.Name)).
			WithDetail(didYouMean(e.Name, "metrics", sortedKeys(c.metrics)))
	}
	return m, nil
}

func (c *Checker) neverEvaluated(metric string, sp source.Span) *diag.Diagnostic {
	return diag.Errorf(sp, fmt.Sprintf("%s is never evaluated before this expect", metric)).
		WithDetail(fmt.Sprintf("add `%s` above this line", c.producer[metric]))
}

func stale(e *syntax.Ident, src, changed *Step) *diag.Diagnostic {
	return &diag.Diagnostic{Severity: diag.Warning, Span: e.Sp,
		Summary: fmt.Sprintf("%s was evaluated at line %d, before the model changed at line %d", e.Name, src.Line(), changed.Line()),
		Detail:  fmt.Sprintf("this expect reads that older value; evaluate again after line %d to check the current model", changed.Line())}
}

// refKind types SNAPSHOT.METRIC. The metric must have been evaluated on
// that snapshot's model state, or on the current model (the run then
// measures the snapshot the same way: the reference is Lazy).
func (c *Checker) refKind(st *State, step *Step, e *syntax.Ref) (kind, diag.Diagnostics) {
	if len(e.Parts) != 2 {
		return kBad, diag.Diagnostics{diag.Errorf(e.Sp, fmt.Sprintf("%s is not a metric reference", e.Dotted())).
			WithDetail("a reference is SNAPSHOT.METRIC, such as teacher.accuracy")}
	}
	snap, name := e.Parts[0], e.Parts[1]
	if _, ok := st.Snapshots[snap.Name]; !ok {
		return kBad, diag.Diagnostics{unknownSnapshot(st, Value{Kind: VIdent, Str: snap.Name, Span: snap.Sp})}
	}
	m, d := c.metric(name)
	if d != nil {
		return kBad, diag.Diagnostics{d}
	}
	ref := MetricRef{Snapshot: snap.Name, Metric: name.Name, Span: e.Sp}
	ref.Source = st.EvaluatedOn(name.Name, st.SnapVersion[snap.Name])
	if ref.Source == nil && m.Outcome {
		return kBad, diag.Diagnostics{diag.Errorf(e.Sp, fmt.Sprintf("%s has no value for snapshot %s", e.Dotted(), snap.Name)).
			WithDetail(fmt.Sprintf("%s reports what a step did, not a property of a model; use it without a snapshot: %s", name.Name, name.Name))}
	}
	if ref.Source == nil {
		ref.Lazy, ref.Source = true, st.EvaluatedOn(name.Name, st.Version)
	}
	if ref.Source == nil {
		return kBad, diag.Diagnostics{diag.Errorf(e.Sp, fmt.Sprintf("%s is never evaluated", e.Dotted())).
			WithDetail(fmt.Sprintf("add `%s` right after `snapshot %s`, or on the current model above this expect (the run then measures %s the same way)",
				c.producer[name.Name], snap.Name, snap.Name))}
	}
	step.Refs = append(step.Refs, ref)
	return kindOfType(m.Type), nil
}
