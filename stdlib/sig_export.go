package stdlib

import (
	"fmt"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
)

func exportSig() *check.Signature {
	return &check.Signature{
		Verb:    "export",
		Summary: "write the current model to a file",
		Doc: "Writes the current model. checkpoint: qpipe's own format, everything included " +
			"(resumable). safetensors: weights, with quantized tensors as integers plus scales. onnx: a " +
			"graph for other runtimes; int8 and uniform (bits <= 8) models become QuantizeLinear/" +
			"DequantizeLinear (QDQ) pairs. ONNX has no power-of-two type: a log2-quantized model needs " +
			"representation=dequantized (float weights equal to the power-of-two levels, exact, no size " +
			"gain) or representation=qdq (int8 QDQ: exact for bits <= 4); without it the checker warns " +
			"and the export is dequantized.",
		VariantNoun: "format",
		Variants: []check.Variant{
			{Name: "checkpoint", Doc: "qpipe checkpoint (model, quantizer state, metrics).", Slots: []check.Param{pathSlot("File to write.")}},
			{Name: "safetensors", Doc: "Weights and scales as safetensors.", Slots: []check.Param{pathSlot("File to write.")}},
			{Name: "onnx", Doc: "ONNX graph (QDQ for quantized models).", Slots: []check.Param{pathSlot("File to write.")},
				Params: []check.Param{
					enumArg("representation", "auto", []string{"auto", "dequantized", "qdq"}, "How quantized weights are stored: auto (QDQ for int8/uniform, float otherwise), dequantized float, or int8 QDQ."),
					intArg("opset", 17, 13, 21, "", "ONNX opset version."),
				}},
		},
		Params: []check.Param{
			{Name: "max_size", Type: check.TBytes, Min: fp(0), MinOpen: true, Unit: "size", Doc: "Fail the export when the file would be larger."},
		},
		Examples: []string{`export onnx "model.onnx"`, `export onnx "log2.onnx" representation=dequantized`, `export checkpoint "final.safetensors"`, `export onnx "small.onnx" max_size=2MB`},
		Effects:  check.Effects{NeedsModel: true, Writes: true},
		Rules:    exportRules,
	}
}

// exportRules checks that the format can hold the planned model.
func exportRules(st *check.State, step *check.Step) diag.Diagnostics {
	if step.Variant != "onnx" {
		return nil
	}
	var ds diag.Diagnostics
	if path := step.Words["path"]; !hasExt(path.Str, ".onnx") {
		ds = append(ds, warning(path.Span, fmt.Sprintf("%q does not end in .onnx", path.Str), "other tools pick the reader by the extension"))
	}
	log2 := st.Flag("quantized:log2")
	if log2 == nil || st.Flag("quantized") != log2 {
		return ds
	}
	return append(ds, log2Export(step, log2)...)
}

func log2Export(step *check.Step, q *check.Step) diag.Diagnostics {
	bits := q.Args["bits"].Int
	switch ident(step.Args["representation"]) {
	case "auto":
		return errs(warning(step.Span, "ONNX cannot hold log2 (power-of-two) weights: they will be exported as dequantized float",
			fmt.Sprintf("quantized with log2 at line %d; write representation=dequantized to accept float weights, or representation=qdq for int8 QDQ (exact for bits <= 4)", q.Line())))
	case "qdq":
		if bits > 4 {
			return errs(warning(step.Args["representation"].Span, fmt.Sprintf("int8 QDQ cannot hold every %d-bit log2 level exactly", bits),
				fmt.Sprintf("levels below tau*2^-6 round to neighbours or zero; quantized with bits=%d at line %d; use representation=dequantized for an exact export", bits, q.Line())))
		}
	}
	return nil
}
