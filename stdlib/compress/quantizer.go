package compress

// Quantizers: how a tensor becomes integer codes.
//
// Quantizing a model touches two tensors per linear/conv layer — its input
// activation and its weight — and every quantization method differs only
// in the rule it applies to one such tensor: which statistics it gathers,
// how it turns them into a scale (and zero point), how its forward (with a
// straight-through backward) enters the graph, and which integer
// parameters it hands the integer engine. That rule is a Quantizer:
//
//	Observe(x)          statistics, during calibration (weights: their values)
//	Attach(m, site)     insert the fake-quant forward and its parameters
//	Export(m, site)     read the (possibly trained) parameters back as IntParams
//
// Everything a quantizer learns lives in the model, not in the Quantizer:
// Attach inserts an ops fake_quant node (Tag "input" or "weight") whose
// scale is a model parameter named "<layer>.<role>_quant.scale". So a
// quantized model clones, trains (QAT: straight-through rounding, and LSQ
// gradients when the scale is trainable), serialises and converts with no
// side table, and ToInteger needs only the graph.
//
// Uniform is the int8 (and b-bit uniform) rule: symmetric codes, scale
// threshold/qmax with the threshold from an Observer (minmax, percentile,
// mse) for activations and max|W_c| per output channel for weights. The
// methods that come next plug in as further Quantizers without touching
// the calibration loop or the conversion: LSQ is Uniform with Learn set (a
// trainable scale); the std-based quantizer attaches its scale as
// alpha·std (alpha a trainable parameter); a log2 quantizer attaches a
// power-of-two forward and exports shift amounts in IntParams.

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/qpipe/qpipe/ops"
)

// Role names which tensor of a layer a quantizer quantizes.
const (
	RoleInput  = "input"
	RoleWeight = "weight"
)

// Site is one quantized tensor: a linear or conv2d layer's input
// activation (RoleInput) or its weight (RoleWeight).
type Site struct {
	Layer *ops.Node
	Role  string
}

func (s Site) scaleName() string { return s.Layer.Name + "." + s.Role + "_quant.scale" }

// IntParams are what the integer engine needs of a quantized tensor:
// real value = (q - ZeroPoint)·Scale, per tensor (one scale) or per
// channel of Axis, with codes in [QMin, QMax].
type IntParams struct {
	Bits       int
	QMin, QMax int
	Scale      []float32
	ZeroPoint  []int32 // nil: symmetric
	Axis       int
}

// Quantizer is the rule for one quantized tensor (see the file comment).
type Quantizer interface {
	// Observe records statistics of the tensor's values; calibration calls
	// it once per batch for activations, once for weights.
	Observe(x *ops.Tensor)
	// Attach inserts the fake-quant forward for site into m, with the
	// parameters calibrated from what was observed.
	Attach(m *ops.Model, site Site) error
	// Export reads the quantizer's parameters for site back from m.
	Export(m *ops.Model, site Site) (IntParams, error)
}

// Uniform is a symmetric uniform quantizer: codes in [QMin, QMax], scale
// threshold/QMax. PerChannel (weights) takes one threshold per output
// channel, max|W_c|; otherwise the threshold comes from Observer (or the
// plain max|x| when Observer is nil).
type Uniform struct {
	Bits       int
	Narrow     bool // [-(2^(b-1)-1), 2^(b-1)-1], the usual weight range
	PerChannel bool
	Observer   Observer
	// Learn makes the scale trainable with the LSQ gradient.
	Learn bool
	// AutoSign (activations) takes unsigned codes [0, 2^Bits-1] when
	// calibration saw no negative value and Bits < 8 (so the codes still
	// fit int8): a post-ReLU input spends no code on negatives.
	AutoSign bool

	thresholds []float32
	negative   bool // a negative value was observed
}

// Int8Activation is the int8 engine's activation rule: per tensor,
// [-128, 127], threshold from obs.
func Int8Activation(obs Observer) *Uniform { return &Uniform{Bits: 8, Observer: obs} }

// Int8Weight is the int8 engine's weight rule: [-127, 127], per output
// channel s = max|W_c|/127 (or one scale for the whole tensor).
func Int8Weight(perChannel bool) *Uniform {
	return &Uniform{Bits: 8, Narrow: true, PerChannel: perChannel}
}

func (u *Uniform) qrange() (float32, float32) {
	return ops.QuantRange(u.Bits, !u.unsigned(), u.Narrow && !u.unsigned())
}

// unsigned reports whether the codes are unsigned (see AutoSign).
func (u *Uniform) unsigned() bool { return u.AutoSign && !u.negative && u.Bits < 8 }

// Observe implements Quantizer.
func (u *Uniform) Observe(x *ops.Tensor) {
	if u.AutoSign && !u.negative {
		for _, v := range x.Data {
			if v < 0 {
				u.negative = true
				break
			}
		}
	}
	switch {
	case u.PerChannel:
		u.thresholds = channelMaxAbs(x)
	case u.Observer != nil:
		u.Observer.Observe(x.Data)
	default:
		u.thresholds = []float32{max(maxAbs(x.Data), firstOr(u.thresholds, 0))}
	}
}

func firstOr(s []float32, def float32) float32 {
	if len(s) == 0 {
		return def
	}
	return s[0]
}

// scales turns the observed thresholds into scales; an all-zero tensor
// gets scale 1 (every code 0 either way).
func (u *Uniform) scales() ([]float32, error) {
	th := u.thresholds
	if !u.PerChannel && u.Observer != nil {
		th = []float32{u.Observer.Threshold(u.Bits)}
	}
	if len(th) == 0 {
		return nil, fmt.Errorf("quantizer observed no values")
	}
	_, qmax := u.qrange()
	out := make([]float32, len(th))
	for i, t := range th {
		out[i] = t / qmax
		if !(out[i] > 0) || math.IsInf(float64(out[i]), 0) {
			out[i] = 1
		}
	}
	return out, nil
}

// Attach implements Quantizer. A weight site exposes the layer's weight
// as a param node and quantizes it there; an input site quantizes the
// layer's first input.
func (u *Uniform) Attach(m *ops.Model, s Site) error {
	if s.Role == RoleWeight && len(u.thresholds) == 0 {
		w := m.Param(s.Layer.Params["weight"])
		if w == nil {
			return fmt.Errorf("quantize: layer %s has no weight", s.Layer.Name)
		}
		u.Observe(w.Value)
	}
	sc, err := u.scales()
	if err != nil {
		return fmt.Errorf("quantize: %s %s: %w", s.Layer.Name, s.Role, err)
	}
	if _, err := m.AddParam(s.scaleName(), ops.MustFromData(sc, len(sc)), u.Learn); err != nil {
		return err
	}
	qmin, qmax := u.qrange()
	fq := &ops.Node{Kind: ops.OpFakeQuant, Name: s.Layer.Name + "." + s.Role + "_quant", Span: s.Layer.Span,
		Attrs:  ops.Attrs{QMin: qmin, QMax: qmax, Bits: u.Bits, LSQ: u.Learn, Tag: s.Role},
		Params: map[string]string{"scale": s.scaleName()}}
	switch s.Role {
	case RoleInput:
		m.InsertBefore(s.Layer, 0, fq)
	case RoleWeight:
		pn, err := m.ExposeParam(s.Layer, "weight")
		if err != nil {
			return err
		}
		m.InsertAfter(pn, fq)
	default:
		return fmt.Errorf("quantize: unknown role %q", s.Role)
	}
	return nil
}

// Export implements Quantizer.
func (u *Uniform) Export(m *ops.Model, s Site) (IntParams, error) {
	return exportFakeQuant(m, s)
}

// exportFakeQuant reads a site's fake_quant node and scale from m.
func exportFakeQuant(m *ops.Model, s Site) (IntParams, error) {
	fq := siteQuantNode(m, s)
	if fq == nil {
		return IntParams{}, fmt.Errorf("quantize: layer %s has no %s quantizer", s.Layer.Name, s.Role)
	}
	if fq.Kind == ops.OpLog2Quant {
		ip, _, err := weightCodes(m, s)
		return ip, err
	}
	p := m.Param(fq.Params["scale"])
	if p == nil {
		return IntParams{}, fmt.Errorf("quantize: %s has no scale parameter", fq.Name)
	}
	ip := IntParams{Bits: fq.Attrs.Bits, QMin: int(fq.Attrs.QMin), QMax: int(fq.Attrs.QMax),
		Scale: append([]float32(nil), p.Value.Data...), Axis: fq.Attrs.Axis}
	if fq.Params["zero_point"] != "" {
		return ip, fmt.Errorf("quantize: %s has a zero point; the int8 engine is symmetric", fq.Name)
	}
	return ip, nil
}

// siteQuantNode finds the fake_quant node feeding a site, or nil.
func siteQuantNode(m *ops.Model, s Site) *ops.Node {
	slot := 0
	if s.Role == RoleWeight {
		slot = 1
	}
	if len(s.Layer.Inputs) <= slot {
		return nil
	}
	n := m.Node(s.Layer.Inputs[slot])
	if n == nil || (n.Kind != ops.OpFakeQuant && n.Kind != ops.OpLog2Quant) || n.Attrs.Tag != s.Role {
		return nil
	}
	return n
}

func maxAbs(x []float32) float32 {
	var m float32
	for _, v := range x {
		m = max(m, float32(math.Abs(float64(v))))
	}
	return m
}

// channelMaxAbs is max|W_c| per output channel (axis 0).
func channelMaxAbs(w *ops.Tensor) []float32 {
	n := w.Shape[0]
	k := w.Numel() / max(n, 1)
	out := make([]float32, n)
	for j := range n {
		out[j] = maxAbs(w.Data[j*k : (j+1)*k])
	}
	return out
}

// Calibration names how activation thresholds are chosen: "minmax",
// "mse", or "percentile" with Percentile in (0, 100].
type Calibration struct {
	Method     string
	Percentile float64
}

// ParseCalibration reads minmax, mse or percentile(P).
func ParseCalibration(s string) (Calibration, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	switch {
	case s == "" || s == "minmax":
		return Calibration{Method: "minmax"}, nil
	case s == "mse":
		return Calibration{Method: "mse"}, nil
	case strings.HasPrefix(s, "percentile(") && strings.HasSuffix(s, ")"):
		p, err := strconv.ParseFloat(s[len("percentile("):len(s)-1], 64)
		if err != nil || !(p > 0 && p <= 100) {
			return Calibration{}, fmt.Errorf("calibrate=%s: the percentile must be a number in (0, 100]", s)
		}
		return Calibration{Method: "percentile", Percentile: p}, nil
	}
	return Calibration{}, fmt.Errorf("calibrate=%s: want minmax, mse or percentile(P)", s)
}

func (c Calibration) String() string {
	if c.Method == "percentile" {
		return fmt.Sprintf("percentile(%g)", c.Percentile)
	}
	return c.Method
}

// NewObserver returns a fresh observer for c.
func (c Calibration) NewObserver() Observer {
	switch c.Method {
	case "percentile":
		return &HistogramObserver{Percentile: c.Percentile}
	case "mse":
		return &HistogramObserver{MSE: true}
	}
	return &MinMaxObserver{}
}
