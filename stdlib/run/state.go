package run

import (
	"maps"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/ops/modelio"
)

// State is the pipeline as a value: the current model, the named
// snapshots, the bound dataset and the metrics measured on the current
// model. Steps read and write it; the runner checkpoints it after every
// step and clones it for each branch of a for loop; the REPL clones it for
// :undo. Models are deep-copied by Clone; datasets are never modified in
// place, so clones share them.
type State struct {
	// Model is the current model; nil while none is loaded, or while a zoo
	// architecture waits for a dataset to size its input (Pending).
	Model *ops.Model
	// Meta says where Model came from (zoo name, input shape, classes).
	Meta modelio.Meta
	// Pending is a zoo architecture named before any dataset was bound.
	Pending *ModelSpec
	// Snapshots holds named model states; "original" is the model as loaded.
	Snapshots map[string]*Snapshot
	// Data is the bound dataset, nil before a data step.
	Data *Dataset
	// Metrics are the current model's measured values under the checker's
	// metric names (accuracy, loss, latency in seconds, size in bytes,
	// params, throughput, train_loss, ...), cleared when the model changes.
	Metrics map[string]float64
	// Reported are the same measurements under report.json's names
	// (size_bytes, latency_ms_b1, ...), for the report's final block.
	Reported map[string]float64

	// intCache is the last integer-engine conversion of a fake-quant
	// model (State.integer); clones start without one.
	intCache *integerCache
}

// ModelSpec is a zoo architecture to build once the input shape is known.
type ModelSpec struct {
	Name    string `json:"name"`
	Classes int    `json:"classes"`
	// ClassesSet is true when the recipe wrote classes=N.
	ClassesSet bool   `json:"classes_set"`
	Seed       uint64 `json:"seed"`
}

// Snapshot is a named model state and what was measured on it.
type Snapshot struct {
	Model    *ops.Model
	Meta     modelio.Meta
	Metrics  map[string]float64
	Reported map[string]float64
}

// Dataset is a bound dataset: its splits and how steps read it.
type Dataset struct {
	Spec   DataSpec
	Splits *data.Splits
}

// DataSpec says how a dataset was opened, so a checkpoint can reopen it.
type DataSpec struct {
	Name      string          `json:"name"`           // built-in name or format word
	Path      string          `json:"path,omitempty"` // resolved path for format words
	Subset    int             `json:"subset,omitempty"`
	ValSplit  float64         `json:"val_split,omitempty"`
	Augment   bool            `json:"augment,omitempty"`
	Batch     int             `json:"batch,omitempty"`
	Normalize *data.Normalize `json:"normalize,omitempty"`
}

// NewState is the empty pipeline: no model, no data.
func NewState() *State {
	return &State{Snapshots: map[string]*Snapshot{}, Metrics: map[string]float64{}, Reported: map[string]float64{}}
}

// Clone returns an independent copy: models are deep-copied.
func (s *State) Clone() *State {
	out := &State{Meta: cloneMeta(s.Meta), Data: s.Data, Snapshots: make(map[string]*Snapshot, len(s.Snapshots)),
		Metrics: maps.Clone(s.Metrics), Reported: maps.Clone(s.Reported)}
	if s.Model != nil {
		out.Model = s.Model.Clone()
	}
	if s.Pending != nil {
		p := *s.Pending
		out.Pending = &p
	}
	for name, snap := range s.Snapshots {
		out.Snapshots[name] = snap.clone()
	}
	return out
}

func (s *Snapshot) clone() *Snapshot {
	return &Snapshot{Model: s.Model.Clone(), Meta: cloneMeta(s.Meta), Metrics: maps.Clone(s.Metrics), Reported: maps.Clone(s.Reported)}
}

func cloneMeta(m modelio.Meta) modelio.Meta {
	m.Extra = maps.Clone(m.Extra)
	return m
}

// SetModel makes m the current model and forgets what was measured on the
// previous one.
func (s *State) SetModel(m *ops.Model, meta modelio.Meta) {
	s.Model, s.Meta, s.Pending = m, meta, nil
	s.ModelChanged()
}

// ModelChanged clears the metrics of the current model.
func (s *State) ModelChanged() {
	clear(s.Metrics)
	clear(s.Reported)
}

// TakeSnapshot names a copy of the current model and its metrics.
func (s *State) TakeSnapshot(name string) {
	s.Snapshots[name] = &Snapshot{Model: s.Model.Clone(), Meta: cloneMeta(s.Meta),
		Metrics: maps.Clone(s.Metrics), Reported: maps.Clone(s.Reported)}
}

// Record stores one measurement under its checker name and its report name
// (report may be "" when the two are the same value under one name).
func (s *State) Record(metric string, value float64, report string, reported float64) {
	s.Metrics[metric] = value
	if report != "" {
		s.Reported[report] = reported
	}
}

// CheckArgs are the data-line arguments a binding sets, as the checker
// takes them (check.Options.DataArgs): steps inherit its batch in the
// plan, the way they inherit the recipe's data line.
func (d *DataSpec) CheckArgs() map[string]check.Value {
	out := map[string]check.Value{}
	if d.Batch != 0 {
		out["batch"] = check.Value{Kind: check.VInt, Int: int64(d.Batch)}
	}
	if d.Subset != 0 {
		out["subset"] = check.Value{Kind: check.VInt, Int: int64(d.Subset)}
	}
	if d.ValSplit != 0 {
		out["val_split"] = check.Value{Kind: check.VFloat, Float: d.ValSplit}
	}
	if d.Augment {
		out["augment"] = check.Value{Kind: check.VBool, Bool: true}
	}
	return out
}
