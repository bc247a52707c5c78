package compress

import (
	"fmt"
	"math"

	"github.com/qpipe/qpipe/ops"
)

// Log2 is the standard-deviation-based base-2 logarithmic weight quantizer
// (Ardakani et al. 2022): per layer, tau = alpha·std(W) with alpha a model
// parameter (trainable with Learn, LSQ-style gradient scaled by
// 1/sqrt(N·Q_P)), levels {0} ∪ {±tau·2^-k, k = 0..2^(Bits-1)-2}, and
// pruning |w| < Beta·std(W) inside the quantizer (ops.Log2Level defines a
// weight's level). Attach inserts an ops log2_quant node with the
// parameters "<layer>.weight_quant.alpha" and "<layer>.weight_quant.mask"
// (all ones until FreezeLog2Masks); Export hands the integer engine the
// weight as signed powers of two ±2^(K-k) with scale tau·2^-K, exact small
// integers (|code| ≤ 2^K, 64 for 4 bits) that int8 kernels carry.
type Log2 struct {
	Bits  int
	Alpha float32 // initial alpha (default 3)
	Beta  float32 // pruning threshold in standard deviations
	Learn bool
}

// BetaForRatio maps a target pruning ratio to the threshold beta (in
// standard deviations) that prunes that fraction of a normal weight
// distribution: P(|w| < beta·std) = ratio, beta = sqrt(2)·erfinv(ratio).
func BetaForRatio(ratio float64) (float64, error) {
	if !(ratio >= 0 && ratio < 1) {
		return 0, fmt.Errorf("ratio=%g: want a fraction in [0, 1) (1 would prune every weight)", ratio)
	}
	return math.Sqrt2 * math.Erfinv(ratio), nil
}

// Observe implements Quantizer: the log2 quantizer reads its statistics
// (std(W)) from the weight in every forward, so there is nothing to keep.
func (l *Log2) Observe(*ops.Tensor) {}

func (l *Log2) alpha() float32 {
	if l.Alpha > 0 {
		return l.Alpha
	}
	return 3
}

// Attach implements Quantizer; only weight sites take log2 codes.
func (l *Log2) Attach(m *ops.Model, s Site) error {
	if s.Role != RoleWeight {
		return fmt.Errorf("quantize: log2 codes are for weights, not %s %s", s.Layer.Name, s.Role)
	}
	if l.Bits < 2 || l.Bits > 8 {
		return fmt.Errorf("quantize: log2 bits=%d: want 2 to 8", l.Bits)
	}
	w := m.Param(s.Layer.Params["weight"])
	if w == nil {
		return fmt.Errorf("quantize: layer %s has no weight", s.Layer.Name)
	}
	base := s.Layer.Name + ".weight_quant"
	if _, err := m.AddParam(base+".alpha", ops.MustFromData([]float32{l.alpha()}, 1), l.Learn); err != nil {
		return err
	}
	ones := make([]float32, w.Value.Numel())
	for i := range ones {
		ones[i] = 1
	}
	if _, err := m.AddParam(base+".mask", ops.MustFromData(ones, w.Value.Shape...), false); err != nil {
		return err
	}
	pn, err := m.ExposeParam(s.Layer, "weight")
	if err != nil {
		return err
	}
	m.InsertAfter(pn, &ops.Node{Kind: ops.OpLog2Quant, Name: base, Span: s.Layer.Span,
		Attrs:  ops.Attrs{Bits: l.Bits, Beta: l.Beta, Tag: RoleWeight},
		Params: map[string]string{"alpha": base + ".alpha", "mask": base + ".mask"}})
	return nil
}

// Export implements Quantizer.
func (l *Log2) Export(m *ops.Model, s Site) (IntParams, error) {
	ip, _, err := weightCodes(m, s)
	return ip, err
}

// Log2Codes are one layer's log2 weights as the integer engine reads them:
// Sign[i] in {-1, 0, 1} and Shift[i] = K - k (the weight is
// Sign·2^Shift·Scale, Scale = tau·2^-K).
type Log2Codes struct {
	Bits  int
	Sign  []int8
	Shift []uint8
	Scale float32
}

// Values returns the integer weights Sign·2^Shift.
func (c Log2Codes) Values() []int8 {
	out := make([]int8, len(c.Sign))
	for i, s := range c.Sign {
		out[i] = s * int8(1<<c.Shift[i])
	}
	return out
}

// log2Codes computes a log2_quant node's codes from its weight, alpha and
// mask, exactly as its forward does.
func log2Codes(m *ops.Model, fq *ops.Node, w *ops.Tensor) (Log2Codes, error) {
	a, mk := m.Param(fq.Params["alpha"]), m.Param(fq.Params["mask"])
	if a == nil {
		return Log2Codes{}, fmt.Errorf("quantize: %s has no alpha parameter", fq.Name)
	}
	sigma := ops.Std(w.Data)
	tau, prune, K := a.Value.Data[0]*sigma, fq.Attrs.Beta*sigma, ops.Log2MaxShift(fq.Attrs.Bits)
	c := Log2Codes{Bits: fq.Attrs.Bits, Sign: make([]int8, w.Numel()), Shift: make([]uint8, w.Numel()),
		Scale: float32(math.Ldexp(float64(tau), -K))}
	if !(c.Scale > 0) {
		c.Scale = 1
	}
	for i, v := range w.Data {
		if mk != nil && mk.Value.Data[i] == 0 {
			continue
		}
		if q, k := ops.Log2Level(v, tau, prune, K); k >= 0 {
			c.Sign[i], c.Shift[i] = int8(sign(q)), uint8(K-k)
		}
	}
	return c, nil
}

func sign(v float32) int {
	if v < 0 {
		return -1
	}
	return 1
}

// FreezeLog2Masks fixes every log2 layer's pruning: the mask becomes 1
// exactly where the weight's code is nonzero, so later training (QAT,
// train, distill) keeps the pruned and underflowed weights at zero (the
// log2_quant node passes no gradient through a masked weight). It returns
// the number of weights masked.
func FreezeLog2Masks(m *ops.Model) (int, error) {
	masked := 0
	for _, fq := range m.FindKind(ops.OpLog2Quant) {
		w, err := quantInputValue(m, fq)
		if err != nil {
			return masked, err
		}
		c, err := log2Codes(m, fq, w)
		if err != nil {
			return masked, err
		}
		mk := m.Param(fq.Params["mask"])
		for i, s := range c.Sign {
			if s == 0 {
				mk.Value.Data[i] = 0
				masked++
			} else {
				mk.Value.Data[i] = 1
			}
		}
	}
	m.Invalidate()
	return masked, nil
}

// quantInputValue is the weight a weight quantizer node reads (its param
// node's value).
func quantInputValue(m *ops.Model, fq *ops.Node) (*ops.Tensor, error) {
	if len(fq.Inputs) != 1 {
		return nil, fmt.Errorf("quantize: %s has no input", fq.Name)
	}
	pn := m.Node(fq.Inputs[0])
	if pn == nil || pn.Kind != ops.OpParam {
		return nil, fmt.Errorf("quantize: %s does not read a parameter", fq.Name)
	}
	p := m.Param(pn.Params["value"])
	if p == nil {
		return nil, fmt.Errorf("quantize: %s: parameter %s missing", fq.Name, pn.Params["value"])
	}
	return p.Value, nil
}
