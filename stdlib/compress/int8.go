package compress

import (
	"context"
	"fmt"

	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/stdlib/train"
)

// Int8Options configure QuantizeInt8. Zero values select the defaults of
// `quantize int8`.
type Int8Options struct {
	QAT              bool        // train after calibration (mode=qat)
	PerTensorWeights bool        // weights=per_tensor (default per channel)
	Calibration      Calibration // activations (default minmax)
	Batches          int         // calibration batches (default 32)
	Batch            int         // images per batch (default 64)
	Scope            string      // layers to quantize (default every linear/conv2d)
	// FloatAttention leaves attention nodes unquantized (float on the
	// integer engine); by default each attention node in Scope gets an
	// input quantizer on its fused qkv and runs as qattention.
	FloatAttention bool
	Data           *data.Dataset
	Normalize      *data.Normalize
	// QAT training.
	Epochs    int
	LR        float64 // default 1e-5
	Optimizer string  // default "sgd"
	Seed      uint64
	Backend   ops.Backend
	Progress  func(train.Progress)
	Span      source.Span
}

// Int8Result says what QuantizeInt8 did.
type Int8Result struct {
	Layers     int                // linear/conv2d layers quantized
	Attention  int                // attention nodes with a qkv quantizer
	Skipped    []string           // layers left float (grouped convolutions other than depthwise)
	Calibrated int                // images seen by calibration
	Epochs     []train.EpochStats // QAT epochs
}

func (o Int8Options) withDefaults() (Int8Options, error) {
	if o.Data == nil {
		return o, fmt.Errorf("quantize: calibration needs a dataset")
	}
	if o.Calibration.Method == "" {
		o.Calibration.Method = "minmax"
	}
	if o.Batches <= 0 {
		o.Batches = 32
	}
	if o.Batch <= 0 {
		o.Batch = 64
	}
	if o.QAT && o.Epochs <= 0 {
		return o, fmt.Errorf("quantize: mode=qat needs epochs of at least 1")
	}
	o.LR = orDefault(o.LR, 1e-5)
	if o.Optimizer == "" {
		o.Optimizer = "sgd"
	}
	var err error
	o.Backend, err = ops.OrDefault(o.Backend)
	return o, err
}

// QuantizeInt8 rewrites the float model m into its int8 fake-quant graph:
// every linear/conv2d layer in o.Scope gets a per-tensor activation
// quantizer on its input, calibrated over o.Batches batches of o.Data with
// o.Calibration, and a per-channel (or per-tensor) weight quantizer
// s = max|W_c|/127. With o.QAT the graph then trains with straight-through
// rounding and the weight scales are refreshed from the trained weights.
// ToInteger turns the result into the integer engine.
func QuantizeInt8(ctx context.Context, m *ops.Model, o Int8Options) (Int8Result, error) {
	o, err := o.withDefaults()
	if err != nil {
		return Int8Result{}, err
	}
	if n := m.FindKind(ops.OpFakeQuant, ops.OpQLinear, ops.OpQConv2d); len(n) > 0 {
		return Int8Result{}, fmt.Errorf("quantize: model %s is already quantized (%s)", m.Name, n[0].Name)
	}
	layers, skipped, err := quantLayers(m, o.Scope)
	if err != nil {
		return Int8Result{}, err
	}
	var attns []*ops.Node
	if !o.FloatAttention {
		attns = attentionNodes(m, o.Scope)
	}
	res := Int8Result{Layers: len(layers), Attention: len(attns), Skipped: skipped}
	acts := make(map[*ops.Node]Quantizer, len(layers)+len(attns))
	for _, l := range append(append([]*ops.Node(nil), layers...), attns...) {
		acts[l] = Int8Activation(o.Calibration.NewObserver())
	}
	if res.Calibrated, err = Calibrate(ctx, o.Backend, m, acts, o.Data, o.Batch, o.Batches, o.Normalize); err != nil {
		return res, err
	}
	for _, l := range layers {
		if err := acts[l].Attach(m, Site{l, RoleInput}); err != nil {
			return res, err
		}
		if err := Int8Weight(!o.PerTensorWeights).Attach(m, Site{l, RoleWeight}); err != nil {
			return res, err
		}
	}
	for _, a := range attns {
		if err := acts[a].Attach(m, Site{a, RoleInput}); err != nil {
			return res, err
		}
	}
	if err := m.Validate(); err != nil {
		return res, err
	}
	if o.QAT {
		res.Epochs, err = qat(ctx, m, o)
	}
	return res, err
}

// quantLayers lists the linear/conv2d layers in scope that the int8 engine
// runs, and the ones it leaves float.
func quantLayers(m *ops.Model, scope string) (layers []*ops.Node, skipped []string, err error) {
	if scope == "" {
		scope = "**"
	}
	nodes, err := ScopeNodes(m, scope)
	if err != nil {
		return nil, nil, err
	}
	for _, n := range nodes {
		switch {
		case n.Kind == ops.OpConv2d && max(n.Attrs.Groups, 1) != 1 && !m.IsDepthwiseConv(n):
			skipped = append(skipped, n.Name)
		case n.Kind == ops.OpLinear || n.Kind == ops.OpConv2d:
			layers = append(layers, n)
		}
	}
	if len(layers) == 0 {
		return nil, nil, fmt.Errorf("quantize: scope %q holds no linear or conv2d layer", scope)
	}
	return layers, skipped, nil
}

// attentionNodes lists the attention nodes in scope; their fused qkv
// input gets an int8 quantizer so the integer engine runs them as
// qattention.
func attentionNodes(m *ops.Model, scope string) []*ops.Node {
	if scope == "" {
		scope = "**"
	}
	nodes, err := ScopeNodes(m, scope)
	if err != nil {
		return nil
	}
	var out []*ops.Node
	for _, n := range nodes {
		if n.Kind == ops.OpAttention {
			out = append(out, n)
		}
	}
	return out
}

// Calibrate runs the float model over up to batches batches of ds and
// shows each layer's input activation to its quantizer. It returns the
// number of images seen.
func Calibrate(ctx context.Context, be ops.Backend, m *ops.Model, q map[*ops.Node]Quantizer, ds *data.Dataset, batch, batches int, norm *data.Normalize) (int, error) {
	l, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: batch, Shuffle: true, Seed: 7, Normalize: norm})
	if err != nil {
		return 0, err
	}
	c := ops.NewContext(be, ops.Options{})
	hook := func(n *ops.Node, in []*ops.Tensor, _ *ops.Tensor) {
		if qz := q[n]; qz != nil {
			qz.Observe(in[0])
		}
	}
	it := l.Epoch(ctx, 0)
	defer it.Close()
	seen := 0
	for b, ok := it.Next(); ok && batches > 0; b, ok = it.Next() {
		x, err := ops.FromData(b.X, b.Shape[:]...)
		if err != nil {
			return seen, err
		}
		if _, err := m.ForwardObserved(c, hook, x); err != nil {
			return seen, err
		}
		c.Reset()
		seen += b.N
		batches--
	}
	if err := it.Err(); err != nil {
		return seen, err
	}
	if seen == 0 {
		return 0, fmt.Errorf("quantize: the calibration set is empty")
	}
	return seen, nil
}

// qat trains the fake-quant graph with cross-entropy (straight-through
// rounding; the scales stay fixed), then refreshes the weight scales from
// the trained weights.
func qat(ctx context.Context, m *ops.Model, o Int8Options) ([]train.EpochStats, error) {
	ep, err := fitQAT(ctx, m, qatRun{o.Data, o.Normalize, o.Batch, o.Epochs, o.LR, o.Optimizer, o.Seed, o.Backend, o.Progress, 0})
	if err != nil {
		return ep, err
	}
	return ep, RefreshWeightScales(m)
}

// qatRun is what quantization-aware training needs of a quantizer's options.
type qatRun struct {
	data      *data.Dataset
	normalize *data.Normalize
	batch     int
	epochs    int
	lr        float64
	optimizer string
	seed      uint64
	backend   ops.Backend
	progress  func(train.Progress)
	// ema is the momentum of the std-based activation thresholds' sigma_A,
	// which keeps moving through the training steps (sigmaEMA).
	ema float64
}

// fitQAT trains a fake-quant graph with cross-entropy, no weight decay;
// std-based activation thresholds follow each training batch (sigmaEMA).
func fitQAT(ctx context.Context, m *ops.Model, r qatRun) ([]train.EpochStats, error) {
	l, err := data.NewLoader(r.data, data.LoaderOptions{BatchSize: r.batch, Shuffle: true, Seed: r.seed, Normalize: r.normalize})
	if err != nil {
		return nil, err
	}
	ema, err := newSigmaEMA(m, r.ema)
	if err != nil {
		return nil, err
	}
	o := train.Options{Epochs: r.epochs, LR: r.lr, Optimizer: r.optimizer,
		NoDecay: true, Seed: r.seed, Backend: r.backend, Progress: r.progress}
	if ema != nil {
		o.Forward = ema.forward
	}
	h, err := train.Fit(ctx, m, l, nil, o)
	if ema != nil {
		ema.apply() // the last step's batch
	}
	if err != nil {
		return h.Epochs, fmt.Errorf("quantize: qat: %w", err)
	}
	return h.Epochs, nil
}

// RefreshWeightScales recomputes every weight quantizer's per-channel (or
// per-tensor) scale max|W|/qmax from the current weights.
func RefreshWeightScales(m *ops.Model) error {
	for _, fq := range m.FindKind(ops.OpFakeQuant) {
		if fq.Attrs.Tag != RoleWeight {
			continue
		}
		w, s := m.Param(m.Node(fq.Inputs[0]).Params["value"]), m.Param(fq.Params["scale"])
		if w == nil || s == nil {
			return fmt.Errorf("quantize: %s: weight or scale parameter missing", fq.Name)
		}
		th := channelMaxAbs(w.Value)
		if s.Value.Numel() == 1 {
			th = []float32{maxAbs(w.Value.Data)}
		}
		for i, t := range th {
			if s.Value.Data[i] = t / fq.Attrs.QMax; t == 0 {
				s.Value.Data[i] = 1
			}
		}
	}
	m.Invalidate()
	return nil
}
