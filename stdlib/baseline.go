package stdlib

import "github.com/qpipe/qpipe/lang/check"

// BaselineSnapshot is the snapshot the first compression step of a branch
// names: the model just before it (stdlib/run's State.BeginCompression
// takes the same snapshot when it runs). Distillation learns from it when
// no teacher is named; `from=baseline` names it.
const BaselineSnapshot = "baseline"

// beginCompression is the checker's twin of State.BeginCompression: the
// first compressing step (replace, prune, quantize, distill) names the
// current model state "baseline"; later ones keep it. Rules run before the
// step's effects, so the snapshot is the model before the step.
func beginCompression(st *check.State, step *check.Step) {
	if !st.ModelLoaded {
		return
	}
	if _, ok := st.Snapshots[BaselineSnapshot]; !ok {
		st.DefineSnapshot(BaselineSnapshot, step)
	}
}
