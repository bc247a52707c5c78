package run

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/stdlib/compress"
	"github.com/qpipe/qpipe/stdlib/train"
)

func init() {
	Register("quantize", Verb{Run: runQuantize})
}

// runQuantize dispatches on the quantizer: int8 here, uniform and log2 in
// verb_lowbit.go. Either way it calls BeginCompression first, so the
// float model stays the branch's baseline.
func runQuantize(ctx context.Context, env *Env, st *State, step *check.Step) (*Outcome, error) {
	if err := needModel(st); err != nil {
		return nil, err
	}
	if st.Data == nil {
		return nil, fmt.Errorf("quantize %s calibrates on data, and no dataset is bound", step.Variant)
	}
	if step.Variant != "int8" {
		return runLowBit(ctx, env, st, step)
	}
	return runInt8(ctx, env, st, step)
}

// runInt8 quantizes the current model to int8 (compress.QuantizeInt8:
// calibration, and QAT with mode=qat) and makes the fake-quant model the
// current one: export (ONNX QDQ), snapshot and checkpoints see it, while
// evaluate and expect measure its integer-engine conversion
// (compress.ToInteger, see State.inference). It reports the fake-quant
// accuracy when a test split exists and what the conversion did.
func runInt8(ctx context.Context, env *Env, st *State, step *check.Step) (*Outcome, error) {
	o, err := int8Options(env, st, step)
	if err != nil {
		return nil, err
	}
	fake := st.Model.Clone()
	samples := newSampler()
	if o.QAT {
		o.Progress = samples.then(o.Progress)
	}
	res, err := compress.QuantizeInt8(ctx, fake, o)
	series := &Series{Epochs: epochPoints(res.Epochs), Steps: samples.Points()}
	if err != nil {
		return nil, withSeries(err, series)
	}
	series.Layers = LayerStats(fake)
	metrics := map[string]float64{"quantized_layers": float64(res.Layers), "quantized_attention": float64(res.Attention),
		"calibration_images": float64(res.Calibrated)}
	if err := fakeQuantMetrics(ctx, env, st, fake, res.Epochs, o.Batch, metrics); err != nil {
		return nil, err
	}
	st.BeginCompression()
	st.Model = fake
	st.ModelChanged()
	ir, err := st.integer(fake, step.Span)
	if err != nil {
		return nil, err
	}
	metrics["fused_relu"], metrics["int8_outputs"] = float64(ir.FusedReLU), float64(ir.Int8Outputs)
	metrics["int8_attention"] = float64(ir.Attention)
	metrics["int8_adds"] = float64(ir.Int8Adds)
	metrics["int8_size_bytes"] = float64(compress.Int8Bytes(ir.Model))
	return &Outcome{Summary: fmt.Sprintf("quantize int8 (%s, weights %s, calibrate %s): %d layers and %d attention nodes on the integer engine, %d ReLUs fused into epilogues, %d layers requantize into the next, %d residual adds in int8; the fake-quant model stays current (export writes QDQ), evaluate runs the integer engine",
		modeWord(o.QAT), weightsWord(o.PerTensorWeights), o.Calibration, ir.Converted, ir.Attention, ir.FusedReLU, ir.Int8Outputs, ir.Int8Adds), Metrics: metrics, Series: series}, nil
}

// fakeQuantMetrics adds a quantize step's last QAT training loss (when it
// trained) and the fake-quant model's test accuracy (when there is a test
// split) to metrics.
func fakeQuantMetrics(ctx context.Context, env *Env, st *State, fake *ops.Model, epochs []train.EpochStats, batch int, metrics map[string]float64) error {
	if len(epochs) > 0 {
		metrics["train_loss"] = epochs[len(epochs)-1].TrainLoss
	}
	test := st.Data.Splits.Test
	if test == nil {
		return nil
	}
	acc, _, err := Accuracy(ctx, env.Backend, fake, test, batch, st.Data.Spec.Normalize, env.Tick)
	metrics["fake_quant_accuracy"] = acc
	return err
}

// integerCache is the integer-engine conversion of one fake-quant model
// as it was when converted.
type integerCache struct {
	src         *ops.Model
	fingerprint uint64
	ir          compress.IntegerResult
}

// integer returns m's integer-engine conversion, reusing the last one
// while m is the same model with the same graph and parameter values.
func (s *State) integer(m *ops.Model, span source.Span) (compress.IntegerResult, error) {
	fp := fingerprint(m)
	if c := s.intCache; c != nil && c.src == m && c.fingerprint == fp {
		return c.ir, nil
	}
	ir, err := compress.Deploy(m, span)
	if err != nil {
		return ir, err
	}
	s.intCache = &integerCache{src: m, fingerprint: fp, ir: ir}
	return ir, nil
}

// inference is the model evaluate and expect measure for m: the integer
// engine's conversion when m is a fake-quant model (int8, uniform or
// log2), m otherwise.
func (s *State) inference(m *ops.Model) (*ops.Model, error) {
	if compress.FormatOf(m) == compress.Float32 {
		return m, nil // nothing to convert, nothing to cache
	}
	ir, err := s.integer(m, source.Span{})
	if err != nil {
		return nil, err
	}
	return ir.Model, nil
}

// fingerprint hashes a model's nodes and parameter values (FNV-1a), so a
// step that trains or rewrites the model invalidates its conversion.
func fingerprint(m *ops.Model) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for _, n := range m.Nodes {
		h.Write([]byte(n.Name))
		h.Write([]byte(n.Kind))
		binary.LittleEndian.PutUint64(b[:], uint64(len(n.Inputs)))
		h.Write(b[:])
	}
	for _, p := range m.Params() {
		h.Write([]byte(p.Name))
		for _, v := range p.Value.Data {
			binary.LittleEndian.PutUint32(b[:4], math.Float32bits(v))
			h.Write(b[:4])
		}
	}
	return h.Sum64()
}

// quantArgs are the arguments of every quantize variant (int8, uniform,
// log2); a variant's signature fills the ones it has.
type quantArgs struct {
	Mode           string      `arg:"mode"`
	Weights        string      `arg:"weights"`
	Calibrate      check.Value `arg:"calibrate"`
	Batches        int         `arg:"batches"`
	Batch          int         `arg:"batch"`
	Epochs         int         `arg:"epochs"`
	LR             float64     `arg:"lr"`
	Bits           int         `arg:"bits"`
	ActivationBits int         `arg:"activation_bits"`
	FirstLastBits  int         `arg:"first_last_bits"`
	Method         string      `arg:"method"`
	Alpha          float64     `arg:"alpha"`
	EMA            float64     `arg:"ema"`
	Ratio          float64     `arg:"ratio"`
	Beta           float64     `arg:"beta"`
}

// decodeQuant decodes a quantize step and reads its calibration.
func decodeQuant(step *check.Step) (quantArgs, compress.Calibration, error) {
	var a quantArgs
	if err := step.Decode(&a); err != nil {
		return a, compress.Calibration{}, err
	}
	cal, err := calibration(a.Calibrate)
	return a, cal, err
}

// int8Options reads a `quantize int8` step's arguments.
func int8Options(env *Env, st *State, step *check.Step) (compress.Int8Options, error) {
	a, cal, err := decodeQuant(step)
	if err != nil {
		return compress.Int8Options{}, err
	}
	o := compress.Int8Options{QAT: a.Mode == "qat", PerTensorWeights: a.Weights == "per_tensor",
		Calibration: cal, Batches: a.Batches, Batch: a.Batch, Data: st.Data.Splits.Train,
		Normalize: st.Data.Spec.Normalize, Epochs: a.Epochs, LR: a.LR, Seed: env.StepSeed(),
		Backend: env.Backend, Span: step.Span}
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

// measureInt8Size reports an integer-engine model's storage: size_bytes =
// packed weight codes (Bits bits per weight: one byte for int8, 3/8 for a
// 3-bit log2 or uniform layer, zeros included) + float32 values (four
// bytes each: weight scales, biases, norms, attention tables, layers left
// float), with the two parts as size_int8_weight_bytes (the packed codes)
// and size_float_bytes.
func measureInt8Size(model *ops.Model, m, r map[string]float64) error {
	// (a fake-quant model with codes too wide for the engine counts the same way)
	total, w := compress.PackedBytes(model)
	m["size"], m["params"] = float64(total), float64(model.ParamCount())
	r["size_bytes"], r["params"] = float64(total), float64(model.ParamCount())
	r["size_int8_weight_bytes"], r["size_float_bytes"] = float64(w), float64(total-w)
	return nil
}
