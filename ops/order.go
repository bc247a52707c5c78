package ops

// A frozen model runs its nodes in an order chosen once for the cache
// (cacheOrder); an ordinary model runs them in the order they were
// built or imported.
//
// In a residual block with a projection shortcut the imported order
// (PyTorch's execution order) is conv1 → conv2 → downsample → add: the
// downsample reads the block's input after conv2's weights and output
// have pushed it out of the cache. ONNX Runtime runs the downsample
// right after conv1, which reads the same input; so does a frozen
// model. No value changes: the same kernels compute the same sums, and
// the residual add moves from the downsample's chain to conv2's
// (floating-point addition is commutative, so its bits are the same).

// cacheOrder reorders m's nodes in place: each residual downsample (a
// convolution, with the batch norm and ReLU after it, whose value only
// the residual add reads) runs right after the run of the first
// convolution that reads the same input, when every value it reads is
// computed by then. The result is a topological order of the same
// nodes. It reports how many runs moved.
func cacheOrder(m *Model) int {
	if _, bad := idRange(m); bad {
		return 0 // a malformed model: Validate reports it
	}
	moved, readers := 0, readerCounts(m, maxID(m))
	for j := 0; j < len(m.Nodes); j++ {
		end, ok := downsampleRun(m, j, readers)
		if !ok {
			continue
		}
		at, ok := firstConvRun(m, m.Nodes[j].Inputs[0], j, readers)
		if !ok || at+1 >= j || !readyBy(m, j, end, at, positions(m)) {
			continue
		}
		run := append([]*Node(nil), m.Nodes[j:end+1]...)
		copy(m.Nodes[at+1+len(run):end+1], m.Nodes[at+1:j])
		copy(m.Nodes[at+1:], run)
		moved++
		j = end
	}
	return moved
}

// maxID is the largest node ID m names.
func maxID(m *Model) int {
	id, _ := idRange(m)
	return id
}

// positions returns each node's index in m.Nodes, by node ID.
func positions(m *Model) []int {
	pos := make([]int, maxID(m)+1)
	for i := range pos {
		pos[i] = -1
	}
	for i, n := range m.Nodes {
		pos[n.ID] = i
	}
	return pos
}

// convRun returns the index of the last node of the run that starts at
// convolution m.Nodes[i]: the batch norm and ReLU after it, each the
// only reader of the node before (what a chain or fused ReLU takes).
func convRun(m *Model, i int, readers []int) int {
	end := i
	for k := i + 1; k < len(m.Nodes); k++ {
		n, prev := m.Nodes[k], m.Nodes[k-1].ID
		if (n.Kind != OpBatchNorm && n.Kind != OpReLU) || len(n.Inputs) != 1 || n.Inputs[0] != prev || readers[prev] != 1 {
			break
		}
		end = k
	}
	return end
}

// downsampleRun reports whether m.Nodes[j] starts a residual
// downsample: a one-input convolution whose run's value is read only by
// the add right after it. end is the run's last node.
func downsampleRun(m *Model, j int, readers []int) (end int, ok bool) {
	n := m.Nodes[j]
	if n.Kind != OpConv2d || len(n.Inputs) != 1 {
		return 0, false
	}
	end = convRun(m, j, readers)
	last := m.Nodes[end].ID
	if end+1 >= len(m.Nodes) || readers[last] != 1 {
		return 0, false
	}
	add := m.Nodes[end+1]
	return end, add.Kind == OpAdd && len(add.Inputs) == 2 && (add.Inputs[0] == last) != (add.Inputs[1] == last)
}

// firstConvRun returns the last node of the run of the first node
// before m.Nodes[j] that reads value x, when that node is a convolution.
func firstConvRun(m *Model, x, j int, readers []int) (end int, ok bool) {
	for i := 0; i < j; i++ {
		n := m.Nodes[i]
		if !reads(n, x) {
			continue
		}
		if n.Kind != OpConv2d {
			return 0, false
		}
		return convRun(m, i, readers), true
	}
	return 0, false
}

func reads(n *Node, id int) bool {
	for _, in := range n.Inputs {
		if in == id {
			return true
		}
	}
	return false
}

// readyBy reports whether every value the nodes m.Nodes[j..end] read
// from outside them is computed at or before m.Nodes[at] (or is a model
// input).
func readyBy(m *Model, j, end, at int, pos []int) bool {
	for _, n := range m.Nodes[j : end+1] {
		for _, in := range n.Inputs {
			if p := pos[in]; p > at && (p < j || p > end) {
				return false
			}
		}
	}
	return true
}
