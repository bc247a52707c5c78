package run

import (
	"context"
	"fmt"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/modelio"
	"github.com/qpipe/qpipe/stdlib/compress"
)

// runLowBit runs `quantize log2` and `quantize uniform`
// (compress.QuantizeLowBit): calibration, QAT when epochs > 0, pruning
// masks frozen. Like quantize int8 it keeps the fake-quant model current
// (export, snapshots and checkpoints hold it) and evaluate measures its
// integer-engine conversion; the step reports the fake-quant accuracy, the
// achieved sparsity (as `sparsity` over the inner low-bit layers where
// ratio prunes, sparsity_all over every quantized layer, per layer as
// sparsity_<layer>), the packed size and which nodes stay float.
func runLowBit(ctx context.Context, env *Env, st *State, step *check.Step) (*Outcome, error) {
	o, err := lowBitOptions(env, st, step)
	if err != nil {
		return nil, err
	}
	fake := st.Model.Clone()
	res, err := compress.QuantizeLowBit(ctx, fake, o)
	if err != nil {
		return nil, err
	}
	metrics := map[string]float64{"quantized_layers": float64(res.Layers), "calibration_images": float64(res.Calibrated),
		"sparsity": res.Sparsity, "sparsity_all": res.SparsityAll, "masked_weights": float64(res.Masked)}
	if o.Method == compress.MethodLog2 {
		metrics["beta"] = res.Beta
	}
	for _, l := range res.PerLayer {
		metrics["sparsity_"+l.Layer] = l.Sparsity
	}
	if err := fakeQuantMetrics(ctx, env, st, fake, res.Epochs, o.Batch, metrics); err != nil {
		return nil, err
	}
	engine, err := st.inference(fake)
	if err != nil {
		return nil, err
	}
	st.BeginCompression()
	st.Model = fake
	st.ModelChanged()
	st.Record("sparsity", res.Sparsity, "sparsity", res.Sparsity)
	packed, _ := compress.PackedBytes(engine)
	metrics["packed_size_bytes"] = float64(packed)
	return &Outcome{Summary: lowBitSummary(o, res, st.intCache, engine != fake, packed), Metrics: metrics}, nil
}

// lowBitSummary says what the step did, in one line.
func lowBitSummary(o compress.LowBitOptions, res compress.LowBitResult, ic *integerCache, integer bool, packed int64) string {
	var b strings.Builder
	name := "log2"
	if o.Method != compress.MethodLog2 {
		name = "uniform method=" + o.Method
	}
	fmt.Fprintf(&b, "quantize %s W%d/A%d (%s): %d layers", name, o.Bits, o.ActivationBits, modeWord(o.Epochs > 0), res.Layers)
	if len(res.FirstLast) > 0 {
		fmt.Fprintf(&b, ", first/last (%s) at %d-bit uniform", strings.Join(res.FirstLast, ", "), o.FirstLastBits)
	}
	if o.Method == compress.MethodLog2 && res.Beta > 0 {
		fmt.Fprintf(&b, "; prune |w| < %.3f·std", res.Beta)
		if o.RatioSet {
			fmt.Fprintf(&b, " (ratio %.3g)", o.Ratio)
		}
	}
	fmt.Fprintf(&b, "; sparsity %.1f%% (inner layers; %.1f%% of all quantized weights); packed %d bytes", 100*res.Sparsity, 100*res.SparsityAll, packed)
	if integer && ic != nil {
		fmt.Fprintf(&b, "; integer engine: %d layers, %d ReLUs fused", ic.ir.Converted, ic.ir.FusedReLU)
	} else {
		b.WriteString("; codes wider than int8: evaluate runs the fake-quant graph")
	}
	if len(res.Float) > 0 {
		fmt.Fprintf(&b, "; stay float (no low-bit inputs): %s", strings.Join(res.Float, ", "))
	}
	return b.String()
}

// lowBitOptions reads a `quantize log2` or `quantize uniform` step.
func lowBitOptions(env *Env, st *State, step *check.Step) (compress.LowBitOptions, error) {
	a, cal, err := decodeQuant(step)
	if err != nil {
		return compress.LowBitOptions{}, err
	}
	o := compress.LowBitOptions{Method: compress.MethodLog2, Bits: a.Bits, ActivationBits: a.ActivationBits,
		FirstLastBits: a.FirstLastBits, PerTensorWeights: a.Weights == "per_tensor",
		Calibration: cal, Batches: a.Batches, Batch: a.Batch, Data: st.Data.Splits.Train,
		Normalize: st.Data.Spec.Normalize, Epochs: a.Epochs, LR: a.LR, Seed: env.StepSeed(),
		Backend: env.Backend, Span: step.Span}
	if step.Variant == "log2" {
		o.Alpha, o.EMA = a.Alpha, a.EMA
		o.Ratio, o.RatioSet = a.Ratio, step.Explicit["ratio"]
		o.Beta = a.Beta
	} else {
		o.Method = a.Method
	}
	if o.Epochs > 0 && env.Tick != nil {
		o.Progress = distillTicks(env.Tick, o.Data.Len(), max(o.Batch, 1))
	}
	return o, nil
}

// exportSafetensors writes the current model's weights as safetensors: F32
// for a float model; for a quantized one, the packed codes (Bits bits per
// weight) and scales of compress.PackedTensors.
func exportSafetensors(st *State, path string) error {
	if len(st.Model.FindKind(ops.OpFakeQuant, ops.OpLog2Quant)) == 0 {
		return modelio.WriteSafetensors(path, modelio.ModelTensors(st.Model), map[string]string{"format": "pt", "qpipe_model": st.Model.Name})
	}
	tensors, meta, err := compress.PackedTensors(st.Model)
	if err != nil {
		return err
	}
	return modelio.WriteSafetensors(path, tensors, meta)
}
