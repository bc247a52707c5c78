package ops_test

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
)

// The step plan (who reads each value, where its last reader sits, which
// values are kept) is built once per model and reused while the wiring is
// unchanged; a rewiring in place — an output moved, a node's input
// changed, a node appended — must be seen on the next forward, whose bits
// then match a fresh copy of the rewired model (which never had a plan).
func TestStepPlanFollowsRewiredModel(t *testing.T) {
	b := ops.NewBuilder("plan", 1)
	x := b.Input("x")
	pad := ops.Conv2dOptions{Padding: [2]int{1, 1}}
	c1 := b.Conv2d("c1", x, 2, 4, 3, pad, true)
	r1 := b.Act(ops.OpReLU, "r1", c1)
	c2 := b.Conv2d("c2", r1, 4, 4, 3, pad, true)
	r2 := b.Act(ops.OpReLU, "r2", c2)
	m, err := b.Build(r2)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	in := ops.New(1, 2, 6, 6)
	for i := range in.Data {
		in.Data[i] = float32(r.NormFloat64())
	}
	c := ops.NewContext(cpu.New(cpu.Options{}), ops.Options{})
	forward := func(m *ops.Model) []float32 {
		t.Helper()
		outs, err := m.Forward(c, in)
		if err != nil {
			t.Fatal(err)
		}
		var all []float32
		for _, o := range outs {
			all = append(all, o.Data...)
		}
		return all
	}
	same := func(what string) {
		t.Helper()
		got, want := forward(m), forward(m.Clone())
		if !slices.Equal(got, want) {
			t.Fatalf("%s: forward %v, fresh copy %v", what, got, want)
		}
	}
	same("built")
	p := ops.StepPlanOf(m)
	same("again")
	if ops.StepPlanOf(m) != p {
		t.Fatal("the plan of an unchanged model was rebuilt")
	}

	// r2 now reads c1: c1 has two readers (so r1 no longer fuses into it)
	// and its last reader is r2 (so it must live until then).
	r2.Inputs[0] = c1.ID
	same("input rewired in place")
	if ops.StepPlanOf(m) == p {
		t.Fatal("the plan outlived a rewired input")
	}

	// The output moves to the conv c1 itself: no ReLU may fuse into it.
	r2.Inputs[0] = c2.ID
	m.Outputs[0] = c1.ID
	got := forward(m)
	if !slices.ContainsFunc(got, func(v float32) bool { return v < 0 }) {
		t.Fatalf("output moved to a conv: no negative value, its ReLU was fused: %v", got)
	}
	same("output moved in place")

	// A node appended after the model was built.
	m.Outputs[0] = r2.ID
	m.AddNode(&ops.Node{Kind: ops.OpReLU, Name: "r3", Inputs: []int{c2.ID}})
	m.Outputs = append(m.Outputs, m.Nodes[len(m.Nodes)-1].ID)
	same("node appended")
}

// A forward keeps its values in a slice indexed by node ID: a malformed
// model with a negative ID or a huge one (an input, an output, a node or
// a node's input; 2^40 would be a fatal out-of-memory, not a panic) is an
// error from Forward, Freeze and a model file's decoding, never a crash.
func TestForwardRefusesIDsOutOfRange(t *testing.T) {
	const huge = 1 << 40
	for _, bend := range []func(m *ops.Model){
		func(m *ops.Model) { m.Outputs = []int{-1} },
		func(m *ops.Model) { m.Inputs = []int{-2} },
		func(m *ops.Model) { m.Nodes[len(m.Nodes)-1].Inputs = []int{-3} },
		func(m *ops.Model) { m.Outputs = []int{huge} },
		func(m *ops.Model) { m.Nodes[len(m.Nodes)-1].Inputs = []int{huge} },
		func(m *ops.Model) { last := m.Nodes[len(m.Nodes)-1]; last.ID = huge; m.Outputs = []int{huge} },
	} {
		m := resBlocks(t)
		bend(m)
		_, err := m.Forward(ops.NewContext(cpu.New(cpu.Options{}), ops.Options{}), ops.New(1, 4, 8, 8))
		if err == nil || !strings.Contains(err.Error(), "malformed") {
			t.Errorf("forward: err %v, want the model reported malformed", err)
		}
		if _, err := ops.Freeze(m); err == nil || !strings.Contains(err.Error(), "malformed") {
			t.Errorf("freeze: err %v, want the model reported malformed", err)
		}
	}
	m := resBlocks(t)
	last := m.Nodes[len(m.Nodes)-1]
	last.ID, m.Outputs = huge, []int{huge}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back ops.Model
	if err := json.Unmarshal(data, &back); err == nil || !strings.Contains(err.Error(), "outside 0..") {
		t.Errorf("decoding a model file with node id 2^40: err %v, want the id refused", err)
	}
}
