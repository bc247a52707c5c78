package compress

import (
	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
)

// Format is how a model's numbers are stored and run, as far as inference
// is concerned.
type Format string

const (
	// Float32 is a float model: the engine runs it as it is.
	Float32 Format = "float32"
	// Int8 is a model after quantize int8: its fake-quant form (what
	// checkpoints hold) runs on the integer engine after ToInteger.
	Int8 Format = "int8"
)

// FormatOf says which format m is in. The low-bit formats (log2, uniform
// below 8 bits) get their own value here, beside their conversion in
// Deploy.
func FormatOf(m *ops.Model) Format {
	if len(m.FindKind(ops.OpFakeQuant, ops.OpQLinear, ops.OpQConv2d, ops.OpQAttention)) > 0 {
		return Int8
	}
	return Float32
}

// Deploy returns the model the engine runs for inference of m — the one
// `evaluate` measures and the infer package serves — with what the
// conversion did: m itself for a float model or one already converted,
// ToInteger's conversion for a fake-quant int8 model (m is not changed).
func Deploy(m *ops.Model, span source.Span) (IntegerResult, error) {
	if len(m.FindKind(ops.OpFakeQuant)) == 0 {
		return IntegerResult{Model: m}, nil
	}
	return ToInteger(m, span)
}
