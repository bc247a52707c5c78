package run

import (
	"context"
	"fmt"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/stdlib/compress"
)

func init() {
	Register("quantize", Verb{Run: runQuantize, Unsupported: quantizeUnsupported})
}

// quantizeUnsupported: only the int8 quantizer executes in this build.
func quantizeUnsupported(step *check.Step) (string, source.Span, bool) {
	if step.Variant != "int8" {
		return "quantize " + step.Variant, step.Span, true
	}
	return "", source.Span{}, false
}

// runQuantize quantizes the current model to int8 (compress.QuantizeInt8:
// calibration, and QAT with mode=qat), measures the fake-quant model's
// accuracy when a test split exists, then makes the integer-engine model
// (compress.ToInteger) the current one, so evaluate runs it in integer
// arithmetic.
func runQuantize(ctx context.Context, env *Env, st *State, step *check.Step) (*Outcome, error) {
	if err := needModel(st); err != nil {
		return nil, err
	}
	if st.Data == nil {
		return nil, fmt.Errorf("quantize int8 calibrates on data, and no dataset is bound")
	}
	o, err := int8Options(env, st, step)
	if err != nil {
		return nil, err
	}
	fake := st.Model.Clone()
	res, err := compress.QuantizeInt8(ctx, fake, o)
	if err != nil {
		return nil, err
	}
	metrics := map[string]float64{"quantized_layers": float64(res.Layers), "calibration_images": float64(res.Calibrated)}
	if len(res.Epochs) > 0 {
		metrics["train_loss"] = res.Epochs[len(res.Epochs)-1].TrainLoss
	}
	if test := st.Data.Splits.Test; test != nil {
		acc, _, err := Accuracy(ctx, env.Backend, fake, test, o.Batch, o.Normalize, env.Tick)
		if err != nil {
			return nil, err
		}
		metrics["fake_quant_accuracy"] = acc
	}
	ir, err := compress.ToInteger(fake, step.Span)
	if err != nil {
		return nil, err
	}
	st.Model = ir.Model
	st.ModelChanged()
	metrics["fused_relu"], metrics["int8_outputs"] = float64(ir.FusedReLU), float64(ir.Int8Outputs)
	metrics["int8_size_bytes"] = float64(compress.Int8Bytes(ir.Model))
	return &Outcome{Summary: fmt.Sprintf("quantize int8 (%s, weights %s, calibrate %s): %d layers on the integer engine, %d ReLUs fused into GEMM epilogues, %d layers requantize into the next",
		modeWord(o.QAT), weightsWord(o.PerTensorWeights), o.Calibration, ir.Converted, ir.FusedReLU, ir.Int8Outputs), Metrics: metrics}, nil
}

// int8Options reads a `quantize int8` step's arguments.
func int8Options(env *Env, st *State, step *check.Step) (compress.Int8Options, error) {
	a := step.Args
	cal, err := calibration(a["calibrate"])
	if err != nil {
		return compress.Int8Options{}, err
	}
	o := compress.Int8Options{QAT: a["mode"].Str == "qat", PerTensorWeights: a["weights"].Str == "per_tensor",
		Calibration: cal, Batches: int(a["batches"].Int), Batch: int(a["batch"].Int), Data: st.Data.Splits.Train,
		Normalize: st.Data.Spec.Normalize, Epochs: int(a["epochs"].Int), LR: a["lr"].Number(), Seed: env.StepSeed(),
		Backend: env.Backend, Span: step.Span}
	if !step.Explicit["batch"] && st.Data.Spec.Batch > 0 {
		o.Batch = st.Data.Spec.Batch
	}
	if o.QAT && env.Tick != nil {
		o.Progress = distillTicks(env.Tick, o.Data.Len(), max(o.Batch, 1))
	}
	return o, nil
}

// calibration reads calibrate=minmax|mse|percentile(P).
func calibration(v check.Value) (compress.Calibration, error) {
	if v.Kind == check.VCall {
		if v.Str != "percentile" || len(v.List) != 1 {
			return compress.Calibration{}, fmt.Errorf("calibrate=%s(...): want percentile(P)", v.Str)
		}
		return compress.Calibration{Method: "percentile", Percentile: v.List[0].Number()}, nil
	}
	return compress.ParseCalibration(v.Str)
}

func modeWord(qat bool) string {
	if qat {
		return "qat"
	}
	return "ptq"
}

func weightsWord(perTensor bool) string {
	if perTensor {
		return "per tensor"
	}
	return "per channel"
}
