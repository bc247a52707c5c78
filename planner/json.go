package planner

import (
	"encoding/json"
	"io"
)

// JSON writes the plan as one indented JSON object. Field names are
// lower_snake_case and always present; a model-dependent cost the planner
// could not know is null.
func JSON(w io.Writer, p *Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}
