package onnx

import (
	"fmt"

	"github.com/qpipe/qpipe/ops/onnx/onnxpb"
)

// attribute accessors with defaults.

func attr(n *onnxpb.NodeProto, name string) *onnxpb.AttributeProto {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

func attrInt(n *onnxpb.NodeProto, name string, def int) int {
	if a := attr(n, name); a != nil {
		return int(a.GetI())
	}
	return def
}

func attrFloat(n *onnxpb.NodeProto, name string, def float32) float32 {
	if a := attr(n, name); a != nil {
		return a.GetF()
	}
	return def
}

func attrString(n *onnxpb.NodeProto, name, def string) string {
	if a := attr(n, name); a != nil {
		return string(a.GetS())
	}
	return def
}

func attrInts(n *onnxpb.NodeProto, name string) ([]int, bool) {
	a := attr(n, name)
	if a == nil {
		return nil, false
	}
	out := make([]int, len(a.GetInts()))
	for i, v := range a.GetInts() {
		out[i] = int(v)
	}
	return out, true
}

// constInput returns input i as a constant, or an error saying it must be
// one.
func constInput(in []*value, i int, what string) (*konst, error) {
	if i >= len(in) || in[i] == nil {
		return nil, fmt.Errorf("missing %s input", what)
	}
	if in[i].k == nil {
		return nil, fmt.Errorf("%s must be a constant (an initializer or a folded shape computation)", what)
	}
	return in[i].k, nil
}

// optConstInts returns input i's integer values, or nil when omitted.
func optConstInts(in []*value, i int, what string) ([]int, error) {
	if i >= len(in) || in[i] == nil {
		return nil, nil
	}
	k, err := constInput(in, i, what)
	if err != nil {
		return nil, err
	}
	return k.ints(), nil
}

// symmetricPads turns ONNX pads (begins then ends) for 2 spatial axes into
// qpipe's (ph, pw), which pads both sides alike.
func symmetricPads(pads []int) ([]int, error) {
	if len(pads) == 0 {
		return nil, nil
	}
	if len(pads) != 4 || pads[0] != pads[2] || pads[1] != pads[3] {
		return nil, fmt.Errorf("pads %v: only symmetric 2-D padding is supported", pads)
	}
	return []int{pads[0], pads[1]}, nil
}
