package ops

import (
	"encoding/json"
	"fmt"

	"github.com/qpipe/qpipe/internal/bounded"
)

// modelJSON is the serialised structure of a model. Parameter values are
// saved elsewhere (safetensors, in Params order); only names and shapes
// are listed here.
type modelJSON struct {
	Name    string       `json:"name"`
	Inputs  []int        `json:"inputs"`
	Outputs []int        `json:"outputs"`
	Nodes   []*Node      `json:"nodes"`
	Params  []ParamShape `json:"params"`
	// Masks are the pruning masks of masked parameters, bit-packed and
	// base64-encoded (see mask.go).
	Masks map[string]string `json:"masks,omitempty"`
}

// MarshalJSON writes the model's structure.
func (m *Model) MarshalJSON() ([]byte, error) {
	j := modelJSON{Name: m.Name, Inputs: m.Inputs, Outputs: m.Outputs, Nodes: m.Nodes, Params: m.ParamShapes()}
	for _, p := range m.Masked() {
		if j.Masks == nil {
			j.Masks = map[string]string{}
		}
		j.Masks[p.Name] = packMask(p.mask)
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads a structure written by MarshalJSON. Parameters are
// created zeroed with their listed shapes, ready for SetParam.
func (m *Model) UnmarshalJSON(data []byte) error {
	var j modelJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*m = Model{Name: j.Name, Inputs: j.Inputs, Outputs: j.Outputs, Nodes: j.Nodes, byName: map[string]*Param{}}
	for _, n := range m.Nodes {
		if n == nil {
			return fmt.Errorf("ops: model %s: null node", j.Name)
		}
		m.nextID = max(m.nextID, n.ID+1)
	}
	if err := checkParamSizes(j.Name, j.Params); err != nil {
		return err
	}
	for _, p := range j.Params {
		if _, err := m.AddParam(p.Name, New(p.Shape...), p.Trainable); err != nil {
			return err
		}
	}
	for name, packed := range j.Masks {
		p := m.byName[name]
		if p == nil {
			return fmt.Errorf("ops: model %s: mask for unknown parameter %q", j.Name, name)
		}
		keep, err := unpackMask(packed, p.Value.Numel())
		if err != nil {
			return fmt.Errorf("ops: model %s: mask of parameter %q: %w", j.Name, name, err)
		}
		p.mask = keep
	}
	return m.Validate()
}

// checkParamSizes refuses bad shapes and parameters whose total size
// overflows or exceeds the memory budget, before any is allocated.
func checkParamSizes(model string, params []ParamShape) error {
	var total int64
	for _, p := range params {
		if !validShape(p.Shape) {
			return fmt.Errorf("ops: parameter %q has bad shape %v", p.Name, p.Shape)
		}
		n, err := bounded.Elems(fmt.Sprintf("ops: parameter %q", p.Name), p.Shape, 4)
		if err != nil {
			return err
		}
		total += int64(n) * 4
	}
	return bounded.Check(fmt.Sprintf("ops: the parameters of model %s", model), total)
}
