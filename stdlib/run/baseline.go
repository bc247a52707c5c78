package run

import "github.com/qpipe/qpipe/ops"

// BaselineSnapshot is the reserved snapshot that holds the uncompressed
// model: the current model as it was just before the first compression
// step (replace, prune, quantize, distill into a student...) of its branch.
// Distillation learns from it when no teacher is named, and robustness
// ratios are taken against it. It lives in Snapshots so checkpoints,
// branches (state clones) and --resume carry it like any other snapshot.
const BaselineSnapshot = "baseline"

// BeginCompression is called by every compressing verb before it changes
// the model: the first call on a branch names the current model and its
// metrics as the baseline; later calls keep it.
func (s *State) BeginCompression() {
	if s.Model == nil {
		return
	}
	if _, ok := s.Snapshots[BaselineSnapshot]; !ok {
		s.TakeSnapshot(BaselineSnapshot)
	}
}

// Baseline is the uncompressed model and what was measured on it: the
// snapshot BeginCompression took, or else the original model (an imported
// model that was never changed before compressing), or nil when neither
// exists.
func (s *State) Baseline() *Snapshot {
	if b, ok := s.Snapshots[BaselineSnapshot]; ok {
		return b
	}
	return s.Snapshots["original"]
}

// BaselineModel is Baseline's model, or nil.
func (s *State) BaselineModel() *ops.Model {
	if b := s.Baseline(); b != nil {
		return b.Model
	}
	return nil
}
