package compress

import (
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// TestLearnedScalePlugsIntoTheSameSites shows the Quantizer seam: a
// Uniform with Learn (LSQ) attaches like the int8 rule, its scales become
// trainable parameters that receive gradients, and Export reads them back.
func TestLearnedScalePlugsIntoTheSameSites(t *testing.T) {
	m, ds := trained(t, ops.OpReLU)
	fc1 := m.NodeByName("stages.1.fc1")
	act := &Uniform{Bits: 4, Observer: &MinMaxObserver{}, Learn: true}
	act.Observe(logits(t, m, ds, 8)) // any values: only the range matters here
	w := &Uniform{Bits: 4, Narrow: true, PerChannel: true, Learn: true}
	for _, a := range []struct {
		q    Quantizer
		role string
	}{{act, RoleInput}, {w, RoleWeight}} {
		if err := a.q.Attach(m, Site{fc1, a.role}); err != nil {
			t.Fatal(err)
		}
	}
	c := ops.NewContext(cpu(t), ops.Options{Train: true, Grad: true})
	x := ops.MustFromData(append([]float32(nil), ds.X[:8*64]...), 8, 1, 8, 8)
	out, err := m.Forward1(c, x)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Backward(c.CrossEntropy(out, ds.Y[:8])); err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{RoleInput, RoleWeight} {
		p := m.Param("stages.1.fc1." + role + "_quant.scale")
		if p == nil || !p.Trainable || p.Grad() == nil || allZero(p.Grad()) {
			t.Fatalf("%s scale: %+v; want a trainable parameter with an LSQ gradient", role, p)
		}
		ip, err := exportFakeQuant(m, Site{fc1, role})
		if err != nil || ip.Bits != 4 || ip.QMax != 7 {
			t.Fatalf("%s export %+v, %v; want 4-bit codes up to 7", role, ip, err)
		}
	}
	// 4-bit codes ride the int8 kernels: the layer clamps its input to [-8, 7].
	ir, err := ToInteger(m, fc1.Span)
	if err != nil {
		t.Fatal(err)
	}
	if q := ir.Model.NodeByName("stages.1.fc1"); q.Kind != ops.OpQLinear || q.Attrs.Bits != 4 || q.Attrs.QMin != -8 || q.Attrs.QMax != 7 {
		t.Fatalf("fc1 on the integer engine: %s %+v", q.Kind, q.Attrs)
	}
}

func allZero(t *ops.Tensor) bool {
	for _, v := range t.Data {
		if v != 0 {
			return false
		}
	}
	return true
}
