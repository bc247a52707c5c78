package ops_test

import (
	"slices"
	"testing"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

// orderCases are the residual models whose downsamples a frozen model
// moves: resBlocks (a resnet18-like strided block, 3×3 stride-2 conv
// and 1×1 stride-2 projection) and the zoo's resnet20 (two such blocks).
func orderCases(t *testing.T) map[string]*ops.Model {
	m, err := zoo.Build("resnet20", zoo.Shape{C: 3, H: 32, W: 32}, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*ops.Model{"res": resBlocks(t), "resnet20": m}
}

// A frozen model runs each residual downsample before the block's
// conv2 (right after conv1's run, which reads the same input), in a
// valid topological order of the same nodes; the ordinary model keeps
// its order. Each value is released right after its last reader in
// the new order, never before one. (That the outputs keep their bits
// is TestFrozenMatchesModel's.)
func TestFrozenOrderRunsDownsamplesEarly(t *testing.T) {
	for name, want := range map[string]int{"res": 1, "resnet20": 2} {
		m := orderCases(t)[name]
		before := nodeIDs(m)
		f, err := ops.Freeze(m)
		if err != nil {
			t.Fatal(err)
		}
		order, lastUse := ops.FrozenOrder(f)
		if !slices.Equal(nodeIDs(m), before) {
			t.Fatalf("%s: freezing changed the model's own order", name)
		}
		checkTopological(t, name, m, order, lastUse)
		moved := 0
		for _, p := range downsamplePairs(m) {
			if at(before, p.down) < at(before, p.conv2) {
				t.Fatalf("%s: downsample %d already ran before conv2 %d", name, p.down, p.conv2)
			}
			if d, c := at(order, p.down), at(order, p.conv2); d > c {
				t.Errorf("%s: downsample %d still runs after conv2 %d (positions %d, %d)", name, p.down, p.conv2, d, c)
			} else {
				moved++
			}
		}
		if moved != want {
			t.Errorf("%s: %d downsamples moved, want %d", name, moved, want)
		}
	}
}

// A model without projection shortcuts keeps its order when frozen.
func TestFrozenOrderKeepsOtherModels(t *testing.T) {
	for name, tc := range frozenCases(t) {
		if name == "res" || name == "resnet20" {
			continue
		}
		f, err := ops.Freeze(tc.m)
		if err != nil {
			t.Fatal(err)
		}
		if order, _ := ops.FrozenOrder(f); !slices.Equal(order, nodeIDs(tc.m)) {
			t.Errorf("%s: the frozen order differs from the model's", name)
		}
	}
}

// checkTopological fails unless order holds each of m's nodes once, every
// input before its reader, and lastUse[v] is the index of v's last
// reader in order.
func checkTopological(t *testing.T, name string, m *ops.Model, order, lastUse []int) {
	t.Helper()
	if a, b := slices.Sorted(slices.Values(order)), slices.Sorted(slices.Values(nodeIDs(m))); !slices.Equal(a, b) {
		t.Fatalf("%s: the frozen order has other nodes than the model", name)
	}
	last := map[int]int{}
	for i, id := range order {
		for _, in := range m.Node(id).Inputs {
			if at(order, in) >= i {
				t.Fatalf("%s: node %d runs at %d, before its input %d", name, id, i, in)
			}
			last[in] = i
		}
	}
	for v, i := range last {
		if lastUse[v] != i {
			t.Errorf("%s: value %d released after node index %d, its last reader is at %d", name, v, lastUse[v], i)
		}
	}
}

// downsamplePair is a strided block's projection and the conv2 of its
// main branch.
type downsamplePair struct{ down, conv2 int }

// downsamplePairs finds, for every two convolutions reading one value
// (conv1 first in m's order, then the projection), the convolution that
// reads conv1's run (batch norm, ReLU).
func downsamplePairs(m *ops.Model) []downsamplePair {
	var out []downsamplePair
	first := map[int]int{} // value → the first convolution reading it
	for _, n := range m.Nodes {
		if n.Kind != ops.OpConv2d {
			continue
		}
		x := n.Inputs[0]
		c1, ok := first[x]
		if !ok {
			first[x] = n.ID
			continue
		}
		v := c1
		for {
			r := readersOf(m, v)
			if len(r) != 1 {
				break
			}
			if r[0].Kind == ops.OpConv2d {
				out = append(out, downsamplePair{down: n.ID, conv2: r[0].ID})
				break
			}
			v = r[0].ID
		}
	}
	return out
}

func readersOf(m *ops.Model, id int) []*ops.Node {
	var out []*ops.Node
	for _, n := range m.Nodes {
		if slices.Contains(n.Inputs, id) {
			out = append(out, n)
		}
	}
	return out
}

func nodeIDs(m *ops.Model) []int {
	ids := make([]int, len(m.Nodes))
	for i, n := range m.Nodes {
		ids[i] = n.ID
	}
	return ids
}

func at(order []int, id int) int { return slices.Index(order, id) }
