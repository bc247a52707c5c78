package run

import (
	"math"

	"github.com/qpipe/qpipe/lang/syntax"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/stdlib/train"
)

// Series are what a step adds to its report.json entry for report.html's
// plots (docs/report-json.md): curves per epoch and every few optimizer
// steps, per-layer statistics, robustness accuracies and an expect gate.
// Every field is optional; a verb fills the ones it measures, in
// Outcome.Series. A verb whose error carries series (SeriesError) keeps
// them on its failed entry, so a diverged training still shows its curve.
type Series struct {
	// Epochs has one point per finished epoch (train, finetune, QAT) or
	// per round (distill: Round set, the round's last epoch).
	Epochs []EpochPoint `json:"epochs,omitempty"`
	// Steps samples the training loss every Every optimizer steps.
	Steps []StepPoint `json:"steps,omitempty"`
	// Layers are the model's weight layers after the step (quantize,
	// prune).
	Layers []LayerStat `json:"layers,omitempty"`
	// Robustness are accuracies on the clean test set, under shift,
	// corruptions and attacks (evaluate robustness).
	Robustness []RobustPoint `json:"robustness,omitempty"`
	// Gate is an expect step's threshold on one metric.
	Gate *Gate `json:"gate,omitempty"`
}

// EpochPoint is one finished epoch (or distillation round).
type EpochPoint struct {
	Epoch         int      `json:"epoch"`           // 1-based, counted over the step
	Round         int      `json:"round,omitempty"` // distill: 1-based round
	Stage         string   `json:"stage,omitempty"` // progressive distill: the stage re-applied
	TrainLoss     float64  `json:"train_loss"`
	TrainAccuracy float64  `json:"train_accuracy"`
	ValLoss       *float64 `json:"val_loss,omitempty"`
	ValAccuracy   *float64 `json:"val_accuracy,omitempty"`
	LR            float64  `json:"lr,omitempty"` // rate at the end of the epoch
	Seconds       float64  `json:"seconds"`
}

// StepPoint is the mean training loss of the optimizer steps up to Step
// since the previous point.
type StepPoint struct {
	Step int     `json:"step"` // 1-based, counted over the step (all rounds)
	Loss float64 `json:"loss"`
	LR   float64 `json:"lr"`
}

// LayerStat describes one weight layer (linear, conv2d).
type LayerStat struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Params int    `json:"params"` // weights
	// Bits is the weight code width: 32 for float weights.
	Bits int `json:"bits"`
	// Sparsity is the fraction of weights exactly zero.
	Sparsity float64 `json:"sparsity"`
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	// Clip is the weight quantizer's clipping threshold, the largest of
	// scale·qmax over channels; 0 without a quantizer.
	Clip float64 `json:"clip,omitempty"`
}

// RobustPoint is one robustness measurement.
type RobustPoint struct {
	// Group is clean, shift, corruption, fgsm or pgd.
	Group string `json:"group"`
	// Name is the corruption or the shifted dataset ("" for the others).
	Name string `json:"name,omitempty"`
	// Level is the corruption severity or the attack's eps (0 for clean
	// and shift).
	Level    float64 `json:"level,omitempty"`
	Accuracy float64 `json:"accuracy"`
}

// Gate is an `expect METRIC OP VALUE` condition in report.json's units.
type Gate struct {
	Metric string  `json:"metric"` // report.json name: accuracy, size_bytes, latency_ms_b1, ...
	Op     string  `json:"op"`     // <, <=, >, >=, ==, !=
	Value  float64 `json:"value"`
	Holds  bool    `json:"holds"`
}

// SeriesError is an error that carries the series measured before it.
type SeriesError interface {
	error
	StepSeries() *Series
}

// epochPoints converts stdlib/train's history.
func epochPoints(h []train.EpochStats) []EpochPoint {
	out := make([]EpochPoint, len(h))
	for i, e := range h {
		out[i] = EpochPoint{Epoch: e.Epoch, TrainLoss: e.TrainLoss, TrainAccuracy: e.TrainAcc, LR: e.LR, Seconds: e.Seconds}
		if e.HasVal {
			out[i].ValLoss, out[i].ValAccuracy = ptr(e.ValLoss), ptr(e.ValAcc)
		}
	}
	return out
}

func ptr(v float64) *float64 { return &v }

// maxStepPoints bounds a step's loss samples: when a sampler holds this
// many, neighbours merge and its window doubles.
const maxStepPoints = 256

// sampler averages the training loss over windows of optimizer steps,
// the window doubling whenever maxStepPoints are held, so any run keeps
// between maxStepPoints/2 and maxStepPoints points (or one per step).
type sampler struct {
	every  int
	n      int // steps seen
	sum    float64
	inWin  int
	lr     float64 // the last step's rate
	points []StepPoint
	// weights are the steps each point averages (for merging).
	weights []int
}

func newSampler() *sampler { return &sampler{every: 1} }

// add records one optimizer step.
func (s *sampler) add(p train.Progress) {
	s.n++
	s.sum, s.lr = s.sum+p.Loss, p.LR
	s.inWin++
	if s.inWin < s.every {
		return
	}
	s.points = append(s.points, StepPoint{Step: s.n, Loss: s.sum / float64(s.inWin), LR: p.LR})
	s.weights = append(s.weights, s.inWin)
	s.sum, s.inWin = 0, 0
	if len(s.points) >= maxStepPoints {
		s.halve()
	}
}

// halve merges neighbouring points and doubles the window.
func (s *sampler) halve() {
	var pts []StepPoint
	var ws []int
	for i := 0; i+1 < len(s.points); i += 2 {
		a, b := s.points[i], s.points[i+1]
		wa, wb := s.weights[i], s.weights[i+1]
		loss := (a.Loss*float64(wa) + b.Loss*float64(wb)) / float64(wa+wb)
		pts, ws = append(pts, StepPoint{Step: b.Step, Loss: loss, LR: b.LR}), append(ws, wa+wb)
	}
	s.points, s.weights, s.every = pts, ws, s.every*2
}

// Points are the samples so far (a partial window included).
func (s *sampler) Points() []StepPoint {
	out := append([]StepPoint(nil), s.points...)
	if s.inWin > 0 {
		out = append(out, StepPoint{Step: s.n, Loss: s.sum / float64(s.inWin), LR: s.lr})
	}
	return out
}

// then chains a progress callback after the sampler's.
func (s *sampler) then(next func(train.Progress)) func(train.Progress) {
	return func(p train.Progress) {
		s.add(p)
		if next != nil {
			next(p)
		}
	}
}

// LayerStats describes every linear and conv2d layer of m: weight count,
// code width, sparsity, range and the quantizer's clipping threshold.
func LayerStats(m *ops.Model) []LayerStat {
	var out []LayerStat
	for _, n := range m.FindKind(ops.OpLinear, ops.OpConv2d) {
		w, fq := layerWeight(m, n)
		if w == nil {
			continue
		}
		out = append(out, layerStat(m, n, w, fq))
	}
	return out
}

// layerWeight finds a layer's weight parameter, directly or behind its
// weight fake-quant node, and that node.
func layerWeight(m *ops.Model, n *ops.Node) (*ops.Param, *ops.Node) {
	if len(n.Inputs) >= 2 {
		in := m.Node(n.Inputs[1])
		var fq *ops.Node
		if in != nil && in.Kind == ops.OpFakeQuant && len(in.Inputs) > 0 {
			fq, in = in, m.Node(in.Inputs[0])
		}
		if in != nil && in.Kind == ops.OpParam {
			return m.Param(in.Params["value"]), fq
		}
	}
	return m.Param(n.Params["weight"]), nil
}

func layerStat(m *ops.Model, n *ops.Node, w *ops.Param, fq *ops.Node) LayerStat {
	s := LayerStat{Name: n.Name, Kind: string(n.Kind), Params: len(w.Value.Data), Bits: 32, Min: math.Inf(1), Max: math.Inf(-1)}
	zeros := 0
	for _, v := range w.Value.Data {
		f := float64(v)
		s.Min, s.Max = min(s.Min, f), max(s.Max, f)
		if v == 0 {
			zeros++
		}
	}
	if s.Params > 0 {
		s.Sparsity = float64(zeros) / float64(s.Params)
	} else {
		s.Min, s.Max = 0, 0
	}
	if fq != nil {
		s.Bits = quantBits(fq.Attrs)
		if sc := m.Param(fq.Params["scale"]); sc != nil {
			for _, v := range sc.Value.Data {
				s.Clip = max(s.Clip, math.Abs(float64(v))*float64(fq.Attrs.QMax))
			}
		}
	}
	return s
}

// quantBits is a fake-quant node's code width: Bits when recorded, else
// the bits its integer range needs.
func quantBits(a ops.Attrs) int {
	if a.Bits > 0 {
		return a.Bits
	}
	levels := float64(a.QMax-a.QMin) + 1
	return int(math.Ceil(math.Log2(max(levels, 2))))
}

// seriesError is an error with the series measured before it.
type seriesError struct {
	error
	s *Series
}

func (e *seriesError) StepSeries() *Series { return e.s }
func (e *seriesError) Unwrap() error       { return e.error }

// withSeries attaches s to err.
func withSeries(err error, s *Series) error { return &seriesError{err, s} }

// gateMetrics maps the metric names expect reads (base units) onto
// report.json's names and units.
var gateMetrics = map[string]struct {
	name  string
	scale float64
}{
	"accuracy": {"accuracy", 1}, "loss": {"loss", 1}, "size": {"size_bytes", 1}, "params": {"params", 1},
	"latency": {"latency_ms_b1", 1000}, "throughput": {"throughput", 1},
}

// gate reads `METRIC OP VALUE` (or `VALUE OP METRIC`, flipped) as a
// threshold on the current model's metric; nil for other conditions.
func (ev *exprEval) gate(e syntax.Expr, holds bool) *Gate {
	b, ok := e.(*syntax.Binary)
	if !ok || !isComparison(b.Op) {
		return nil
	}
	id, other, op := asIdent(b.X), b.Y, b.Op
	if id == nil {
		id, other, op = asIdent(b.Y), b.X, flip(b.Op)
	}
	if id == nil {
		return nil
	}
	m, ok := gateMetrics[id.Name]
	if _, scoped := ev.env.Scope[id.Name]; !ok || scoped {
		return nil
	}
	v, err := ev.eval(other)
	if err != nil {
		return nil
	}
	return &Gate{Metric: m.name, Op: op, Value: v * m.scale, Holds: holds}
}

func asIdent(e syntax.Expr) *syntax.Ident {
	for {
		p, ok := e.(*syntax.Paren)
		if !ok {
			break
		}
		e = p.X
	}
	id, _ := e.(*syntax.Ident)
	return id
}

func isComparison(op string) bool {
	switch op {
	case "<", "<=", ">", ">=", "==", "!=":
		return true
	}
	return false
}

// flip turns `a OP b` into `b OP' a`.
func flip(op string) string {
	return map[string]string{"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}[op]
}
