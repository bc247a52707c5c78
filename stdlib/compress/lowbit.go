package compress

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/stdlib/train"
)

// Low-bit methods of QuantizeLowBit.
const (
	MethodLog2   = "log2"   // std-based power-of-two weights with pruning
	MethodMinMax = "minmax" // uniform, ranges from the data (post-training)
	MethodLSQ    = "lsq"    // uniform, learned step sizes (trains)
)

// LowBitOptions configure QuantizeLowBit (`quantize log2` and `quantize
// uniform`). Zero values select the verbs' defaults.
type LowBitOptions struct {
	Method         string
	Bits           int // weights of the inner layers
	ActivationBits int // inputs of the inner layers (default Bits)
	// FirstLastBits: the first and last linear/conv2d layers take uniform
	// weights and activations at this width (default 8), as the paper keeps
	// them at 8-bit fixed point.
	FirstLastBits    int
	PerTensorWeights bool // uniform: one weight scale per layer
	// Alpha (log2) is the initial clipping threshold in standard
	// deviations, of the weights (tau_W = alpha·std(W)) and of the
	// activations (tau_A = alpha·sigma_A); default 3.
	Alpha float64
	// Beta (log2) prunes |w| < Beta·std(W); Ratio, when RatioSet, sets Beta
	// through the normal quantile (BetaForRatio).
	Beta     float64
	Ratio    float64
	RatioSet bool
	// EMA is the momentum of sigma_A's moving average (default 0.9).
	EMA         float64
	Calibration Calibration // uniform activations (default minmax)
	Batches     int         // calibration batches (default 32)
	Batch       int         // images per batch (default 64)
	Scope       string
	Data        *data.Dataset
	Normalize   *data.Normalize
	// QAT training (Epochs 0: post-training only; lsq needs Epochs ≥ 1).
	Epochs    int
	LR        float64 // default 1e-4
	Optimizer string  // default "sgd"
	Seed      uint64
	Backend   ops.Backend
	Progress  func(train.Progress)
	Span      source.Span
}

// LayerSparsity is one quantized layer's fraction of zero weight codes.
type LayerSparsity struct {
	Layer    string
	Zeros    int
	Weights  int
	Sparsity float64
}

// LowBitResult says what QuantizeLowBit did.
type LowBitResult struct {
	Layers     int      // linear/conv2d layers quantized
	FirstLast  []string // layers kept at FirstLastBits
	Float      []string // nodes in scope that stay float (attention, norms, softmax, grouped convs)
	Beta       float64  // pruning threshold used (log2)
	Calibrated int
	Epochs     []train.EpochStats
	Masked     int // weights fixed at zero by FreezeLog2Masks
	// Sparsity is the fraction of zero weight codes over the inner layers
	// (those at Bits, where ratio/beta prune), SparsityAll over every
	// quantized layer, PerLayer the same per layer.
	Sparsity    float64
	SparsityAll float64
	PerLayer    []LayerSparsity
}

func (o LowBitOptions) withDefaults() (LowBitOptions, error) {
	if o.Data == nil {
		return o, fmt.Errorf("quantize: calibration needs a dataset")
	}
	switch o.Method {
	case MethodLog2:
		if o.Bits < 2 || o.Bits > 8 {
			return o, fmt.Errorf("quantize log2: bits=%d: want 2 to 8 (a sign and at least one power-of-two level)", o.Bits)
		}
	case MethodMinMax, MethodLSQ:
		if o.Bits < 2 || o.Bits > 16 {
			return o, fmt.Errorf("quantize uniform: bits=%d: want 2 to 16 (a signed code needs a nonzero level)", o.Bits)
		}
	default:
		return o, fmt.Errorf("quantize: unknown low-bit method %q", o.Method)
	}
	if o.Method == MethodLSQ && o.Epochs <= 0 {
		return o, fmt.Errorf("quantize uniform: method=lsq needs epochs of at least 1")
	}
	if o.RatioSet {
		b, err := BetaForRatio(o.Ratio)
		if err != nil {
			return o, fmt.Errorf("quantize log2: %w", err)
		}
		o.Beta = b
	}
	o.ActivationBits = orDefaultInt(o.ActivationBits, o.Bits)
	o.FirstLastBits = orDefaultInt(o.FirstLastBits, 8)
	if o.ActivationBits < 2 || o.ActivationBits > 16 || o.FirstLastBits < 2 || o.FirstLastBits > 16 {
		return o, fmt.Errorf("quantize: activation_bits=%d first_last_bits=%d: want 2 to 16", o.ActivationBits, o.FirstLastBits)
	}
	o.Alpha = orDefault(o.Alpha, 3)
	o.EMA = orDefault(o.EMA, 0.9)
	if o.Calibration.Method == "" {
		o.Calibration.Method = "minmax"
	}
	o.Batches = orDefaultInt(o.Batches, 32)
	o.Batch = orDefaultInt(o.Batch, 64)
	o.LR = orDefault(o.LR, 1e-4)
	if o.Optimizer == "" {
		o.Optimizer = "sgd"
	}
	var err error
	o.Backend, err = ops.OrDefault(o.Backend)
	return o, err
}

func orDefaultInt(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// QuantizeLowBit rewrites the float model m into a low-bit fake-quant
// graph: the first and last linear/conv2d layers in scope get uniform
// FirstLastBits weights (per channel) and activations; the others get
// Method's weights at Bits (log2: the Log2 quantizer; minmax/lsq: uniform
// symmetric per channel or per tensor) and ActivationBits inputs (log2:
// uniform on [0, alpha·sigma_A] with sigma_A the EMA of StdObserver,
// signed when an input can be negative; uniform: the Calibration
// observer). With Epochs the graph trains with straight-through rounding
// (alphas and, for log2 and lsq, activation scales learn with LSQ
// gradients). Log2 pruning masks are then frozen (FreezeLog2Masks).
// ToInteger turns the result into the integer engine.
func QuantizeLowBit(ctx context.Context, m *ops.Model, o LowBitOptions) (LowBitResult, error) {
	o, err := o.withDefaults()
	if err != nil {
		return LowBitResult{}, err
	}
	if n := m.FindKind(ops.OpFakeQuant, ops.OpLog2Quant, ops.OpQLinear, ops.OpQConv2d); len(n) > 0 {
		return LowBitResult{}, fmt.Errorf("quantize: model %s is already quantized (%s); quantize the float model once", m.Name, n[0].Name)
	}
	layers, skipped, err := quantLayers(m, o.Scope)
	if err != nil {
		return LowBitResult{}, err
	}
	res := LowBitResult{Layers: len(layers), Beta: o.Beta, Float: append(skipped, floatNodes(m, o.Scope)...)}
	edge := func(i int) bool { return i == 0 || i == len(layers)-1 }
	acts := make(map[*ops.Node]Quantizer, len(layers))
	for i, l := range layers {
		acts[l] = o.activation(edge(i))
		if edge(i) {
			res.FirstLast = append(res.FirstLast, l.Name)
		}
	}
	if res.Calibrated, err = Calibrate(ctx, o.Backend, m, acts, o.Data, o.Batch, o.Batches, o.Normalize); err != nil {
		return res, err
	}
	for i, l := range layers {
		if err := acts[l].Attach(m, Site{l, RoleInput}); err != nil {
			return res, err
		}
		if err := o.weight(edge(i)).Attach(m, Site{l, RoleWeight}); err != nil {
			return res, err
		}
	}
	if err := m.Validate(); err != nil {
		return res, err
	}
	if o.Epochs > 0 {
		if res.Epochs, err = o.qat(ctx, m); err != nil {
			return res, err
		}
	}
	if res.Masked, err = FreezeLog2Masks(m); err != nil {
		return res, err
	}
	res.PerLayer, res.SparsityAll, err = Sparsity(m)
	zeros, total := 0, 0
	for _, l := range res.PerLayer {
		if !slices.Contains(res.FirstLast, l.Layer) {
			zeros, total = zeros+l.Zeros, total+l.Weights
		}
	}
	res.Sparsity = float64(zeros) / float64(max(total, 1))
	return res, err
}

// activation is the input quantizer of a layer.
func (o LowBitOptions) activation(edge bool) Quantizer {
	learn := o.Epochs > 0 && o.Method != MethodMinMax
	switch {
	case edge:
		return &Uniform{Bits: o.FirstLastBits, Observer: o.Calibration.NewObserver(), AutoSign: true}
	case o.Method == MethodLog2:
		return &Uniform{Bits: o.ActivationBits, Observer: &StdObserver{Alpha: o.Alpha, Momentum: o.EMA}, AutoSign: true, Learn: learn}
	}
	return &Uniform{Bits: o.ActivationBits, Observer: o.Calibration.NewObserver(), AutoSign: true, Learn: learn}
}

// weight is the weight quantizer of a layer.
func (o LowBitOptions) weight(edge bool) Quantizer {
	switch {
	case edge:
		return &Uniform{Bits: o.FirstLastBits, Narrow: true, PerChannel: true}
	case o.Method == MethodLog2:
		return &Log2{Bits: o.Bits, Alpha: float32(o.Alpha), Beta: float32(o.Beta), Learn: o.Epochs > 0}
	}
	return &Uniform{Bits: o.Bits, Narrow: true, PerChannel: !o.PerTensorWeights, Learn: o.Method == MethodLSQ}
}

func (o LowBitOptions) qat(ctx context.Context, m *ops.Model) ([]train.EpochStats, error) {
	return fitQAT(ctx, m, qatRun{o.Data, o.Normalize, o.Batch, o.Epochs, o.LR, o.Optimizer, o.Seed, o.Backend, o.Progress})
}

// floatNodes lists the nodes in scope that take no low-bit input: the
// attention, normalisation and softmax nodes, which stay float.
func floatNodes(m *ops.Model, scope string) []string {
	if scope == "" {
		scope = "**"
	}
	nodes, err := ScopeNodes(m, scope)
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range nodes {
		switch n.Kind {
		case ops.OpAttention, ops.OpLayerNorm, ops.OpSoftmax, ops.OpLogSoftmax:
			out = append(out, n.Name)
		}
	}
	return out
}

// weightCodes reads a layer's quantized weight as integer codes and
// per-channel (or one) scales: real weight = code·scale. It follows the
// quantizer's forward exactly (ops.Log2Level for log2, round-half-even and
// clamp for uniform), so the integer engine, packed storage and the
// fake-quant model agree on every weight.
func weightCodes(m *ops.Model, s Site) (IntParams, []int8, error) {
	fq := siteQuantNode(m, Site{s.Layer, RoleWeight})
	if fq == nil {
		return IntParams{}, nil, fmt.Errorf("quantize: layer %s has no weight quantizer", s.Layer.Name)
	}
	w, err := quantInputValue(m, fq)
	if err != nil {
		return IntParams{}, nil, err
	}
	if fq.Kind == ops.OpLog2Quant {
		c, err := log2Codes(m, fq, w)
		if err != nil {
			return IntParams{}, nil, err
		}
		K := ops.Log2MaxShift(c.Bits)
		ip := IntParams{Bits: c.Bits, QMin: -(1 << min(K, 30)), QMax: 1 << min(K, 30), Scale: []float32{c.Scale}}
		if K > 6 {
			return ip, nil, fmt.Errorf("quantize: %s: %d-bit log2 codes reach ±2^%d: %w", fq.Name, c.Bits, K, ErrWideCodes)
		}
		return ip, c.Values(), nil
	}
	ip, err := exportFakeQuant(m, Site{s.Layer, RoleWeight})
	if err != nil {
		return ip, nil, err
	}
	if ip.QMin < -128 || ip.QMax > 127 {
		return ip, nil, fmt.Errorf("quantize: %s: codes [%d, %d]: %w", fq.Name, ip.QMin, ip.QMax, ErrWideCodes)
	}
	codes := make([]int8, w.Numel())
	for i, c := range uniformCodes(w, ip) {
		codes[i] = int8(c)
	}
	return ip, codes, nil
}

// ErrWideCodes says a layer's codes do not fit int8, so the integer
// engine cannot carry it (log2 above 4 bits, uniform above 8): such models
// are evaluated as fake-quant graphs.
var ErrWideCodes = errors.New("the codes do not fit the int8 engine (log2 up to 4 bits, uniform up to 8)")

// uniformCodes are clamp(roundHalfEven(w/s_c), QMin, QMax) per output
// channel, as the fake_quant forward computes them.
func uniformCodes(w *ops.Tensor, ip IntParams) []int32 {
	n := w.Shape[0]
	k := w.Numel() / max(n, 1)
	codes := make([]int32, w.Numel())
	for i, v := range w.Data {
		sc := ip.Scale[min(i/max(k, 1), len(ip.Scale)-1)]
		q := math.RoundToEven(float64(v / sc))
		codes[i] = int32(min(max(q, float64(ip.QMin)), float64(ip.QMax)))
	}
	return codes
}

// zeroCodes counts a weight quantizer's zero codes.
func zeroCodes(m *ops.Model, l *ops.Node) (zeros, total int, err error) {
	fq := siteQuantNode(m, Site{l, RoleWeight})
	w, err := quantInputValue(m, fq)
	if err != nil {
		return 0, 0, err
	}
	if fq.Kind == ops.OpLog2Quant {
		c, err := log2Codes(m, fq, w)
		if err != nil {
			return 0, 0, err
		}
		for _, s := range c.Sign {
			if s == 0 {
				zeros++
			}
		}
		return zeros, len(c.Sign), nil
	}
	ip, err := exportFakeQuant(m, Site{l, RoleWeight})
	if err != nil {
		return 0, 0, err
	}
	for _, c := range uniformCodes(w, ip) {
		if c == 0 {
			zeros++
		}
	}
	return zeros, w.Numel(), nil
}

// quantizedLayers lists the linear/conv2d layers with a weight quantizer.
func quantizedLayers(m *ops.Model) []*ops.Node {
	var out []*ops.Node
	for _, n := range m.FindKind(ops.OpLinear, ops.OpConv2d) {
		if siteQuantNode(m, Site{n, RoleWeight}) != nil {
			out = append(out, n)
		}
	}
	return out
}

// Sparsity counts the zero weight codes of every quantized layer of a
// fake-quant model: per layer and over all of them.
func Sparsity(m *ops.Model) ([]LayerSparsity, float64, error) {
	var per []LayerSparsity
	zeros, total := 0, 0
	for _, l := range quantizedLayers(m) {
		z, n, err := zeroCodes(m, l)
		if err != nil {
			return nil, 0, err
		}
		per = append(per, LayerSparsity{Layer: l.Name, Zeros: z, Weights: n, Sparsity: float64(z) / float64(max(n, 1))})
		zeros, total = zeros+z, total+n
	}
	return per, float64(zeros) / float64(max(total, 1)), nil
}

// WeightSparsity is the fraction of exactly-zero weights over the
// linear/conv layers of a model as it runs: the quantized values of a
// fake-quant model's weights (zero codes), the stored weights otherwise
// (an integer-engine model holds its codes' values).
func WeightSparsity(m *ops.Model) float64 {
	zeros, total := 0, 0
	for _, l := range m.FindKind(ops.OpLinear, ops.OpConv2d, ops.OpQLinear, ops.OpQConv2d) {
		if siteQuantNode(m, Site{l, RoleWeight}) != nil {
			if z, n, err := zeroCodes(m, l); err == nil {
				zeros, total = zeros+z, total+n
			}
			continue
		}
		if p := m.Param(l.Params["weight"]); p != nil {
			for _, v := range p.Value.Data {
				if v == 0 {
					zeros++
				}
			}
			total += p.Value.Numel()
		}
	}
	return float64(zeros) / float64(max(total, 1))
}
