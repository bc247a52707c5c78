package planner

import (
	"testing"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/stdlib"
)

func TestPlanShowsCompoundSparsityOfGradualPruning(t *testing.T) {
	p := planText(t, "gradual.qpipe", "model cnn\ndata mnist\ntrain epochs=1\nrepeat 4 {\n  prune ratio=0.5\n  finetune epochs=1\n}\n"+
		"for r in [0.3, 0.6] {\n  prune ratio=r\n}\nprune ratio=20% structured=true\nprune ratio=10% structured=true scope=layer\n", stdlib.Env(), Options{}, check.Options{})
	var notes []string
	for _, n := range p.Nodes {
		if n.Verb == "prune" {
			notes = append(notes, n.Note)
		}
	}
	want := []string{
		"sparsity after this step: 50% of the prunable weights",
		"sparsity after this step: 75% of the prunable weights",
		"sparsity after this step: 87.5% of the prunable weights",
		"sparsity after this step: 93.75% of the prunable weights",
		"sparsity after this step: 95.62% of the prunable weights", // 1 - 0.5^4 * 0.7
		"sparsity after this step: 97.5% of the prunable weights",  // 1 - 0.5^4 * 0.4
		// scope=global (the default) ranks channels across layers.
		"removes 20% of all output channels, ranked across layers (the sizes below rank the initial weights; the run ranks the trained ones)",
		"removes 10% of the output channels of every layer it can shrink",
	}
	if len(notes) != len(want) {
		t.Fatalf("notes %q", notes)
	}
	for i := range want {
		if notes[i] != want[i] {
			t.Errorf("prune %d: note %q, want %q", i, notes[i], want[i])
		}
	}
}
