package compress

import (
	"errors"

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
	// FormatLog2 is a model after quantize log2: power-of-two weight codes,
	// run on the int8 kernels after ToInteger (up to 4 bits).
	FormatLog2 Format = "log2"
	// FormatUniform is a model after quantize uniform below 8 bits: narrow
	// codes on the int8 kernels after ToInteger.
	FormatUniform Format = "uniform"
)

// FormatOf says which format m is in.
func FormatOf(m *ops.Model) Format {
	if len(m.FindKind(ops.OpLog2Quant)) > 0 {
		return FormatLog2
	}
	for _, l := range quantizedLayers(m) {
		if fq := siteQuantNode(m, Site{l, RoleWeight}); fq.Attrs.Bits > 0 && fq.Attrs.Bits < 8 {
			return FormatUniform
		}
	}
	if len(m.FindKind(ops.OpFakeQuant, ops.OpQLinear, ops.OpQConv2d, ops.OpQAttention)) > 0 {
		return Int8
	}
	return Float32
}

// Deploy returns the model the engine runs for inference of m — the one
// `evaluate` measures and the infer package serves — with what the
// conversion did: m itself for a float model or one already converted,
// ToInteger's conversion for a fake-quant model (int8, uniform, log2; m
// is not changed). A model whose codes do not fit int8 (log2 above 4
// bits, uniform above 8) runs as its fake-quant graph.
func Deploy(m *ops.Model, span source.Span) (IntegerResult, error) {
	if len(m.FindKind(ops.OpFakeQuant, ops.OpLog2Quant)) == 0 {
		return IntegerResult{Model: m}, nil
	}
	ir, err := ToInteger(m, span)
	if errors.Is(err, ErrWideCodes) {
		return IntegerResult{Model: m}, nil
	}
	return ir, err
}
