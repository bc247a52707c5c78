package run

import (
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/modelio"
)

func TestBaselineIsModelBeforeFirstCompression(t *testing.T) {
	st := NewState()
	if st.Baseline() != nil {
		t.Fatal("an empty state has no baseline")
	}
	st.BeginCompression() // no model: nothing to name
	if _, ok := st.Snapshots[BaselineSnapshot]; ok {
		t.Fatal("BeginCompression without a model took a snapshot")
	}
	first, second := ops.NewModel("first"), ops.NewModel("second")
	st.SetModel(first, modelio.Meta{})
	st.TakeSnapshot("original")
	if st.Baseline() != st.Snapshots["original"] {
		t.Fatal("before any compression the baseline is the original")
	}
	st.Record("accuracy", 0.9, "", 0)
	st.BeginCompression()
	st.SetModel(second, modelio.Meta{})
	st.BeginCompression()
	b := st.Baseline()
	if b == nil || b == st.Snapshots["original"] || b.Metrics["accuracy"] != 0.9 {
		t.Fatalf("baseline = %+v, want the first model's snapshot with its accuracy", b)
	}
	clone := st.Clone()
	if clone.Baseline() == nil || clone.Baseline().Metrics["accuracy"] != 0.9 {
		t.Fatal("a branch's clone lost the baseline")
	}
}
