package onnx

import "fmt"

// InputShapeOf reads a model file's single input shape (batch first; a
// symbolic batch dimension reads as 1), so a caller can size data and
// metadata before or after Import.
func InputShapeOf(path string) ([]int, error) {
	mp, err := readModel(path)
	if err != nil {
		return nil, err
	}
	shape, _, err := inputShape(mp.GetGraph(), nil)
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", path, err)
	}
	out := append([]int(nil), shape...)
	if len(out) > 0 && out[0] <= 0 {
		out[0] = 1
	}
	return out, nil
}
