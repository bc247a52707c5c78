package ops

// Convolution epilogues beyond ReLU: the activation that follows a conv2d
// in MobileNets (ReLU6 as clip [0, 6], HardSwish, HardSigmoid) applied as
// the convolution writes its output, at inference, the way fusedReLU
// fuses a ReLU. Training keeps the separate nodes (their gradients are the
// nodes' own).

// EpilogueKind is the activation a fused convolution epilogue applies.
type EpilogueKind int

const (
	// EpilogueNone adds the bias only.
	EpilogueNone EpilogueKind = iota
	// EpilogueClip clamps to [Lo, Hi] (ReLU6: [0, 6]).
	EpilogueClip
	// EpilogueHardswish is x·clamp(x+3, 0, 6)/6.
	EpilogueHardswish
	// EpilogueHardSigmoid is clamp(Alpha·x + Beta, 0, 1).
	EpilogueHardSigmoid
)

// Epilogue is an activation and its constants.
type Epilogue struct {
	Kind        EpilogueKind
	Lo, Hi      float32 // EpilogueClip
	Alpha, Beta float32 // EpilogueHardSigmoid
}

// Apply returns the activation of v (the reference the backends follow).
func (a Epilogue) Apply(v float32) float32 {
	switch a.Kind {
	case EpilogueClip:
		return min(max(v, a.Lo), a.Hi)
	case EpilogueHardswish:
		return v * min(max(v+3, 0), 6) / 6
	case EpilogueHardSigmoid:
		return min(max(a.Alpha*v+a.Beta, 0), 1)
	}
	return v
}

// epilogueOf returns the epilogue that computes node n, an activation
// node, and whether there is one.
func epilogueOf(n *Node) (Epilogue, bool) {
	switch n.Kind {
	case OpClip:
		return Epilogue{Kind: EpilogueClip, Lo: n.Attrs.Lo, Hi: n.Attrs.Hi}, true
	case OpHardswish:
		return Epilogue{Kind: EpilogueHardswish}, true
	case OpHardSigmoid:
		return Epilogue{Kind: EpilogueHardSigmoid, Alpha: n.Attrs.Alpha, Beta: n.Attrs.Beta}, true
	}
	return Epilogue{}, false
}

// ConvEpilogueBackend is an optional Backend extension for inference:
// y = act(conv(x, w) + b) with act applied as the output is written.
type ConvEpilogueBackend interface {
	Conv2dEpilogue(p ConvParams, x, w, b, y *Tensor, act Epilogue) error
}

// fusedEpilogue returns the clip/hardswish/hardsigmoid node that the
// conv2d m.Nodes[i] can absorb at inference (no gradients, no observing
// hook): the next node, the convolution's only reader.
func fusedEpilogue(m *Model, i int, readers []int) (*Node, Epilogue) {
	n := m.Nodes[i]
	if n.Kind != OpConv2d || i+1 >= len(m.Nodes) || readers[n.ID] != 1 {
		return nil, Epilogue{}
	}
	next := m.Nodes[i+1]
	if len(next.Inputs) != 1 || next.Inputs[0] != n.ID {
		return nil, Epilogue{}
	}
	act, ok := epilogueOf(next)
	if !ok {
		return nil, Epilogue{}
	}
	return next, act
}

// FusedEpilogues counts the activations, by kind, that inference fuses
// into the convolution before them (ReLU included).
func FusedEpilogues(m *Model) map[OpKind]int {
	maxID, _ := idRange(m)
	readers := readerCounts(m, maxID)
	c := map[OpKind]int{}
	for i := range m.Nodes {
		if r := fusedReLU(m, i, readers); r != nil {
			c[r.Kind]++
		} else if a, _ := fusedEpilogue(m, i, readers); a != nil {
			c[a.Kind]++
		}
	}
	return c
}

// conv2dEpilogue is act(Conv2d(x, w, b, o)) for inference (Forward
// fuses only without gradients), in one pass where the backend implements
// ConvEpilogueBackend.
func (c *Context) conv2dEpilogue(x, w, b *Tensor, o Conv2dOptions, act Epilogue) *Tensor {
	fb, ok := c.b.(ConvEpilogueBackend)
	if !ok { // the nodes' own ops, one after the other
		y := c.Conv2d(x, w, b, o)
		switch act.Kind {
		case EpilogueClip:
			return c.Clip(y, act.Lo, act.Hi)
		case EpilogueHardswish:
			return c.Hardswish(y)
		case EpilogueHardSigmoid:
			return c.HardSigmoid(y, act.Alpha, act.Beta)
		}
		return y
	}
	p, err := ConvGeometry(x, w, o)
	if err != nil {
		shapeErr("conv2d", err.Error(), x, w)
	}
	if b != nil && (b.Dims() != 1 || b.Numel() != p.OutC) {
		shapeErr("conv2d", "bias must have one value per output channel", x, w, b)
	}
	y := c.empty([]int{p.N, p.OutC, p.OutH, p.OutW})
	check("conv2d", fb.Conv2dEpilogue(p, x, w, b, y, act), x, w)
	return y
}
