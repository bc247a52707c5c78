package ops

import (
	"encoding/base64"
	"fmt"
)

// Pruning masks.
//
// A parameter may carry a mask: one keep/drop flag per element. A masked
// parameter's dropped elements are exactly zero and stay so: SetMask zeroes
// them, the optimizers (ops/optim) call ApplyMask after every update, and
// anything else that writes parameter values in place (a quantizer that
// rewrites weights, a structured rewrite) calls ApplyMask or SetMask
// again. The mask belongs to the model: Clone copies it, the model's JSON
// (checkpoints, --resume, the qpipe model format) stores it bit-packed, so
// a pruned model stays pruned through training, quantization, snapshots
// and resumed runs; exported weights simply hold the zeros.

// SetMask sets the parameter's mask (true keeps an element) and zeroes the
// dropped elements. A nil keep removes the mask.
func (p *Param) SetMask(keep []bool) error {
	if keep == nil {
		p.mask = nil
		return nil
	}
	if len(keep) != p.Value.Numel() {
		return fmt.Errorf("ops: mask of %d elements for parameter %q of %d", len(keep), p.Name, p.Value.Numel())
	}
	p.mask = append([]bool(nil), keep...)
	p.ApplyMask()
	return nil
}

// Mask returns the parameter's mask (true keeps an element), or nil when
// it has none. The slice is the parameter's own: do not modify it.
func (p *Param) Mask() []bool { return p.mask }

// Masked reports whether the parameter has a mask.
func (p *Param) Masked() bool { return p.mask != nil }

// ApplyMask zeroes the dropped elements (and their gradient); it is a
// no-op for a parameter without a mask.
func (p *Param) ApplyMask() {
	if p.mask == nil {
		return
	}
	for i, keep := range p.mask {
		if !keep {
			p.Value.Data[i] = 0
		}
	}
	if g := p.Value.grad; g != nil {
		for i, keep := range p.mask {
			if !keep {
				g.Data[i] = 0
			}
		}
	}
}

// Zeros counts the parameter's dropped (masked) elements.
func (p *Param) Zeros() int {
	n := 0
	for _, keep := range p.mask {
		if !keep {
			n++
		}
	}
	return n
}

// ApplyMasks re-applies every parameter's mask, after code that wrote
// parameter values in place.
func (m *Model) ApplyMasks() {
	for _, p := range m.params {
		p.ApplyMask()
	}
	m.invalidate()
}

// Masked lists the parameters that carry a mask, in Params order.
func (m *Model) Masked() []*Param {
	var out []*Param
	for _, p := range m.params {
		if p.mask != nil {
			out = append(out, p)
		}
	}
	return out
}

// packMask encodes a mask as base64 of its bits, least significant first.
func packMask(keep []bool) string {
	b := make([]byte, (len(keep)+7)/8)
	for i, k := range keep {
		if k {
			b[i/8] |= 1 << (i % 8)
		}
	}
	return base64.StdEncoding.EncodeToString(b)
}

// unpackMask decodes packMask's output for n elements.
func unpackMask(s string, n int) ([]bool, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if len(b) != (n+7)/8 {
		return nil, fmt.Errorf("%d bytes for %d elements", len(b), n)
	}
	keep := make([]bool, n)
	for i := range keep {
		keep[i] = b[i/8]&(1<<(i%8)) != 0
	}
	return keep, nil
}
