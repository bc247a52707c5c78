package check

import "maps"

// NewState returns the empty pipeline: no model, no data, no names.
func NewState() *State {
	return &State{
		Snapshots:   map[string]*Step{},
		Metrics:     map[string]*Step{},
		Flags:       map[string]*Step{},
		Params:      map[string]*Step{},
		Values:      map[string]Value{},
		SnapVersion: map[string]int{},
		Evals:       map[MetricAt]*Step{},
	}
}

// Clone returns an independent copy (steps are shared, maps are not).
func (st *State) Clone() *State {
	out := *st
	out.Snapshots = maps.Clone(st.Snapshots)
	out.Metrics = maps.Clone(st.Metrics)
	out.Flags = maps.Clone(st.Flags)
	out.Params = maps.Clone(st.Params)
	out.Values = maps.Clone(st.Values)
	out.SnapVersion = maps.Clone(st.SnapVersion)
	out.Evals = maps.Clone(st.Evals)
	return &out
}

// LoadModel binds a model: "original" names it and metrics start afresh.
func (st *State) LoadModel(step *Step) {
	st.ModelLoaded = true
	st.ChangeModel(step)
	st.DefineSnapshot("original", step)
}

// ChangeModel records that step produced a new model state.
func (st *State) ChangeModel(step *Step) {
	st.Version++
	st.ModelStep = step
}

// DefineSnapshot names the current model state.
func (st *State) DefineSnapshot(name string, step *Step) {
	st.Snapshots[name] = step
	st.SnapVersion[name] = st.Version
}

// SetFlag records a fact later rules read ("quantized", "quantized:log2").
func (st *State) SetFlag(name string, step *Step) { st.Flags[name] = step }

// Flag returns the step that set a flag, or nil.
func (st *State) Flag(name string) *Step { return st.Flags[name] }

// RecordMetric records that step evaluates metric on the current model.
func (st *State) RecordMetric(metric string, step *Step) {
	st.Metrics[metric] = step
	st.Evals[MetricAt{metric, st.Version}] = step
}

// EvaluatedOn returns the step that evaluated metric on model version v,
// or nil.
func (st *State) EvaluatedOn(metric string, v int) *Step {
	return st.Evals[MetricAt{metric, v}]
}

// Fresh reports whether metric was evaluated on the current model.
func (st *State) Fresh(metric string) bool {
	return st.EvaluatedOn(metric, st.Version) != nil
}

// bind puts a parameter in scope.
func (st *State) bind(name string, step *Step, v Value) {
	st.Params[name] = step
	st.Values[name] = v
}

// unbindNew removes the parameters that before did not have, ending a
// block's scope.
func (st *State) unbindNew(before *State) {
	for name := range st.Params {
		if _, ok := before.Params[name]; !ok {
			delete(st.Params, name)
			delete(st.Values, name)
		}
	}
}
