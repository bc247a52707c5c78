// Package opstest is the conformance suite every backend runs:
//
//	func TestConformance(t *testing.T) { opstest.Run(t, mybackend.New()) }
//
// Each case runs one primitive through an ops.Context on the backend under
// test and compares
//   - the forward value with a plain float64 loop implementation in this
//     package (|got - want| ≤ atol + rtol·|want|), and
//   - every input gradient of loss = Σ out·R (R random) with central finite
//     differences of the float64 reference (h = 1e-4, so the reference
//     gradient is accurate to ~1e-8), or, for piecewise-constant ops such as
//     fake quantization, with the analytic straight-through reference.
//
// Inputs are drawn from a seeded stream and rounded to float32, so both
// sides see identical values.
package opstest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
)

// Tolerance bounds |got - want| by Atol + Rtol·|want|.
type Tolerance struct{ Atol, Rtol float64 }

// DefaultTolerances are the bounds a case uses unless it states its own:
// forward values (float32 against float64) and gradients (against central
// finite differences of the float64 reference).
func DefaultTolerances() (forward, grad Tolerance) {
	return Tolerance{Atol: 1e-5, Rtol: 1e-4}, Tolerance{Atol: 1e-4, Rtol: 1e-3}
}

// input describes one argument of a case.
type input struct {
	shape  []int
	lo, hi float64 // uniform range; both 0 means N(0, 1)
	noGrad bool    // a constant: no gradient is checked
}

// tcase is one primitive check.
type tcase struct {
	name   string
	inputs []input
	train  bool
	// run calls the primitive on the backend under test.
	run func(c *ops.Context, in []*ops.Tensor) *ops.Tensor
	// ref computes the same value in float64.
	ref func(in []arr) arr
	// refGrad, when set, replaces finite differences: it returns the
	// gradient of Σ out·r for each input.
	refGrad func(in []arr, r arr) []arr
	fwdTol  Tolerance
	gradTol Tolerance
}

// Run checks every primitive of b.
func Run(t *testing.T, b ops.Backend) {
	for _, c := range allCases() {
		t.Run(c.name, func(t *testing.T) { runCase(t, b, c) })
	}
	t.Run("dropout", func(t *testing.T) { checkDropout(t, b) })
	t.Run("batchnorm_running_stats", func(t *testing.T) { checkRunningStats(t, b) })
	t.Run("not_implemented_is_wrapped", func(t *testing.T) { checkErrors(t, b) })
}

// draw makes float32-representable inputs.
func draw(rng *rand.Rand, in input) arr {
	a := newArr(in.shape...)
	for i := range a.data {
		v := rng.NormFloat64()
		if in.lo != 0 || in.hi != 0 {
			v = in.lo + (in.hi-in.lo)*rng.Float64()
		}
		a.data[i] = float64(float32(v))
	}
	return a
}

func toTensor(a arr) *ops.Tensor {
	d := make([]float32, len(a.data))
	for i, v := range a.data {
		d[i] = float32(v)
	}
	return ops.MustFromData(d, a.shape...)
}

func runCase(t *testing.T, b ops.Backend, c tcase) {
	rng := rand.New(rand.NewPCG(7, uint64(len(c.name))))
	ins := make([]arr, len(c.inputs))
	ts := make([]*ops.Tensor, len(c.inputs))
	for i, in := range c.inputs {
		ins[i] = draw(rng, in)
		ts[i] = toTensor(ins[i]).SetRequiresGrad(!in.noGrad)
	}
	ctx := ops.NewContext(b, ops.Options{Train: c.train, Grad: true, Seed: 1})
	var out *ops.Tensor
	if err := ops.Guard(func() error { out = c.run(ctx, ts); return nil }); err != nil {
		t.Fatalf("forward: %v", err)
	}
	want := c.ref(ins)
	fwd := c.fwdTol
	if fwd == (Tolerance{}) {
		fwd, _ = DefaultTolerances()
	}
	compare(t, "forward", out, want, fwd)
	if t.Failed() {
		return
	}
	checkGrads(t, c, ctx, ins, ts, out, rng)
}

func checkGrads(t *testing.T, c tcase, ctx *ops.Context, ins []arr, ts []*ops.Tensor, out *ops.Tensor, rng *rand.Rand) {
	r := draw(rng, input{shape: out.Shape})
	if !out.RequiresGrad() {
		return
	}
	if err := ctx.BackwardFrom(out, toTensor(r)); err != nil {
		t.Fatalf("backward: %v", err)
	}
	tol := c.gradTol
	if tol == (Tolerance{}) {
		_, tol = DefaultTolerances()
	}
	var want []arr
	if c.refGrad != nil {
		want = c.refGrad(ins, r)
	}
	for i, in := range c.inputs {
		if in.noGrad {
			continue
		}
		g := ts[i].Grad()
		if g == nil {
			t.Errorf("input %d: no gradient", i)
			continue
		}
		w := arr{}
		if want != nil {
			w = want[i]
		} else {
			w = finiteDiff(c, ins, i, r)
		}
		compare(t, fmt.Sprintf("grad of input %d", i), g, w, tol)
	}
}

// finiteDiff returns d(Σ ref(x)·r)/dx_i by central differences in float64.
func finiteDiff(c tcase, ins []arr, i int, r arr) arr {
	const h = 1e-4
	loss := func() float64 {
		out := c.ref(ins)
		var s float64
		for j, v := range out.data {
			s += v * r.data[j]
		}
		return s
	}
	g := newArr(ins[i].shape...)
	for j := range ins[i].data {
		old := ins[i].data[j]
		ins[i].data[j] = old + h
		up := loss()
		ins[i].data[j] = old - h
		down := loss()
		ins[i].data[j] = old
		g.data[j] = (up - down) / (2 * h)
	}
	return g
}

// compare checks shape and values; it reports the worst element.
func compare(t *testing.T, what string, got *ops.Tensor, want arr, tol Tolerance) {
	t.Helper()
	if !ops.SameShape(got.Shape, want.shape) && !(len(got.Data) == 1 && len(want.data) == 1) {
		t.Errorf("%s: shape %v, want %v", what, got.Shape, want.shape)
		return
	}
	worst, at := 0.0, -1
	for i, w := range want.data {
		g := float64(got.Data[i])
		excess := math.Abs(g-w) - (tol.Atol + tol.Rtol*math.Abs(w))
		if math.IsNaN(g) || excess > worst {
			worst, at = excess, i
			if math.IsNaN(g) {
				worst = math.Inf(1)
			}
		}
	}
	if at >= 0 {
		t.Errorf("%s: element %d = %.7g, want %.7g (atol %g, rtol %g)", what, at, got.Data[at], want.data[at], tol.Atol, tol.Rtol)
	}
}
