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
}

// MarshalJSON writes the model's structure.
func (m *Model) MarshalJSON() ([]byte, error) {
	return json.Marshal(modelJSON{Name: m.Name, Inputs: m.Inputs, Outputs: m.Outputs, Nodes: m.Nodes, Params: m.ParamShapes()})
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
