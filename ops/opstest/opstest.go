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
//     fake quantization, with the analytic straight-through reference. An
//     input that needs a gradient fails the case when the output records
//     no backward or the input receives none.
//
// Besides small shapes there are large ones (big.go) that a parallel
// backend splits over its workers; their gradients come from analytic
// float64 references (checked against finite differences in this
// package's tests) or from finite differences at sampled elements. Every
// case runs three times and must repeat its output and gradients bit for
// bit; Fingerprints lets a backend compare configurations (thread counts).
//
// Inputs are drawn from a seeded stream and rounded to float32, so both
// sides see identical values.
package opstest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
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
	// sample, when set, limits the finite differences to that many
	// elements of each input (drawn at random, plus the first and the
	// last): the large cases, whose every element would cost a reference
	// evaluation.
	sample  int
	fwdTol  Tolerance
	gradTol Tolerance
}

// repeats is how many times each case runs; every run after the first
// must reproduce the first one's output and gradients bit for bit.
const repeats = 3

// Run checks every primitive of b: values against the float64 references,
// gradients against finite differences, and that running a case again on
// the same inputs gives the same bits.
func Run(t *testing.T, b ops.Backend) {
	for _, c := range allCases() {
		t.Run(c.name, func(t *testing.T) { runCase(t, b, c) })
	}
	t.Run("dropout", func(t *testing.T) { checkDropout(t, b) })
	t.Run("batchnorm_running_stats", func(t *testing.T) { checkRunningStats(t, b) })
	t.Run("not_implemented_is_wrapped", func(t *testing.T) { checkErrors(t, b) })
}

// Fingerprints runs every case once on b and returns, per case name, the
// bits of its output and input gradients (FNV-1a), so a backend's tests can
// require the same bits from differently configured instances (thread
// counts) without knowing the cases.
func Fingerprints(t *testing.T, b ops.Backend) map[string]uint64 {
	fp := map[string]uint64{}
	for _, c := range allCases() {
		ins, r := caseInputs(c)
		res, err := execute(b, c, ins, r)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		fp[c.name] = res.hash()
	}
	return fp
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

// caseInputs draws a case's inputs and the weights r of loss = Σ out·r
// from a stream seeded by the case, so every run sees the same values.
func caseInputs(c tcase) (ins []arr, r func(shape []int) arr) {
	rng := rand.New(rand.NewPCG(7, uint64(len(c.name))))
	ins = make([]arr, len(c.inputs))
	for i, in := range c.inputs {
		ins[i] = draw(rng, in)
	}
	var once *arr
	return ins, func(shape []int) arr {
		if once == nil {
			a := draw(rng, input{shape: shape})
			once = &a
		}
		return *once
	}
}

// result is what one run of a case produced: its output, whether the
// output carries a gradient, and each input's gradient (nil: none, or the
// input is a constant).
type result struct {
	out      *ops.Tensor
	recorded bool
	grads    []*ops.Tensor
	r        arr
}

// execute runs c forward on fresh tensors holding ins and, when the output
// carries a gradient, backward from Σ out·r.
func execute(b ops.Backend, c tcase, ins []arr, r func(shape []int) arr) (result, error) {
	ts := make([]*ops.Tensor, len(c.inputs))
	for i, in := range c.inputs {
		ts[i] = toTensor(ins[i]).SetRequiresGrad(!in.noGrad)
	}
	ctx := ops.NewContext(b, ops.Options{Train: c.train, Grad: true, Seed: 1})
	var res result
	if err := ops.Guard(func() error { res.out = c.run(ctx, ts); return nil }); err != nil {
		return res, fmt.Errorf("forward: %w", err)
	}
	res.r = r(res.out.Shape)
	res.recorded = res.out.RequiresGrad()
	if res.recorded {
		if err := ctx.BackwardFrom(res.out, toTensor(res.r)); err != nil {
			return res, fmt.Errorf("backward: %w", err)
		}
	}
	res.out = res.out.Clone()
	res.grads = make([]*ops.Tensor, len(ts))
	for i, in := range c.inputs {
		if g := ts[i].Grad(); g != nil && !in.noGrad {
			res.grads[i] = g.Clone()
		}
	}
	return res, nil
}

// hash is FNV-1a over the bits of the output and the gradients.
func (res result) hash() uint64 {
	h := uint64(14695981039346656037)
	add := func(t *ops.Tensor) {
		if t == nil {
			h = (h ^ 0xff) * 1099511628211
			return
		}
		for _, v := range t.Data {
			h = (h ^ uint64(math.Float32bits(v))) * 1099511628211
		}
	}
	add(res.out)
	for _, g := range res.grads {
		add(g)
	}
	return h
}

func runCase(t *testing.T, b ops.Backend, c tcase) {
	ins, r := caseInputs(c)
	res, err := execute(b, c, ins, r)
	if err != nil {
		t.Fatal(err)
	}
	want := cachedRef(c, ins)
	fwd := c.fwdTol
	if fwd == (Tolerance{}) {
		fwd, _ = DefaultTolerances()
	}
	compare(t, "forward", res.out, want, fwd, nil)
	if t.Failed() {
		return
	}
	checkGrads(t, c, ins, res)
	for run := 2; run <= repeats; run++ {
		again, err := execute(b, c, ins, r)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		sameBits(t, run, res, again)
	}
}

// sameBits reports the first value of run that differs from the first
// run's bits.
func sameBits(t *testing.T, run int, first, again result) {
	t.Helper()
	pairs := [][2]*ops.Tensor{{first.out, again.out}}
	names := []string{"output"}
	for i := range first.grads {
		pairs = append(pairs, [2]*ops.Tensor{first.grads[i], again.grads[i]})
		names = append(names, fmt.Sprintf("grad of input %d", i))
	}
	for k, p := range pairs {
		if (p[0] == nil) != (p[1] == nil) {
			t.Errorf("run %d: %s present in one run only", run, names[k])
			continue
		}
		if p[0] == nil {
			continue
		}
		for i := range p[0].Data {
			if math.Float32bits(p[0].Data[i]) != math.Float32bits(p[1].Data[i]) {
				t.Errorf("run %d: %s element %d is %v, the first run gave %v (same inputs, same backend: a reduction depends on scheduling)",
					run, names[k], i, p[1].Data[i], p[0].Data[i])
				break
			}
		}
	}
}

func checkGrads(t *testing.T, c tcase, ins []arr, res result) {
	wantsGrad := -1
	for i, in := range c.inputs {
		if !in.noGrad {
			wantsGrad = i
			break
		}
	}
	if wantsGrad < 0 {
		return
	}
	if !res.recorded {
		t.Errorf("input %d requires a gradient but the output carries none: the op recorded no backward", wantsGrad)
		return
	}
	tol := c.gradTol
	if tol == (Tolerance{}) {
		_, tol = DefaultTolerances()
	}
	want := cachedGrads(c, ins, res.r)
	for i, in := range c.inputs {
		if in.noGrad {
			continue
		}
		g := res.grads[i]
		if g == nil {
			t.Errorf("input %d: no gradient", i)
			continue
		}
		compare(t, fmt.Sprintf("grad of input %d", i), g, want[i].grad, tol, want[i].at)
	}
}

// refCache keeps the float64 references of each case, which do not depend
// on the backend, so a suite run at several thread counts computes them
// once.
var refCache = struct {
	sync.Mutex
	fwd   map[string]arr
	grads map[string][]sampledGrad
}{fwd: map[string]arr{}, grads: map[string][]sampledGrad{}}

// sampledGrad is a reference gradient, complete or (at non-nil) known only
// at the listed elements.
type sampledGrad struct {
	grad arr
	at   []int
}

func cachedRef(c tcase, ins []arr) arr {
	refCache.Lock()
	defer refCache.Unlock()
	if w, ok := refCache.fwd[c.name]; ok {
		return w
	}
	w := c.ref(ins)
	refCache.fwd[c.name] = w
	return w
}

func cachedGrads(c tcase, ins []arr, r arr) []sampledGrad {
	refCache.Lock()
	defer refCache.Unlock()
	if w, ok := refCache.grads[c.name]; ok {
		return w
	}
	want := make([]sampledGrad, len(c.inputs))
	var analytic []arr
	if c.refGrad != nil {
		analytic = c.refGrad(ins, r)
	}
	for i, in := range c.inputs {
		switch {
		case in.noGrad:
		case analytic != nil:
			want[i] = sampledGrad{grad: analytic[i]}
		default:
			at := sampleAt(c, i, len(ins[i].data))
			want[i] = sampledGrad{grad: finiteDiff(c, ins, i, r, at), at: at}
		}
	}
	refCache.grads[c.name] = want
	return want
}

// sampleAt returns the elements of input i whose finite differences a case
// checks: nil (all) unless the case samples and the input is larger.
func sampleAt(c tcase, i, n int) []int {
	if c.sample == 0 || n <= c.sample {
		return nil
	}
	rng := rand.New(rand.NewPCG(11, uint64(i)))
	at := []int{0, n - 1}
	for range c.sample - 2 {
		at = append(at, rng.IntN(n))
	}
	return at
}

// finiteDiff returns d(Σ ref(x)·r)/dx_i by central differences in float64,
// at the elements at (nil: every element).
func finiteDiff(c tcase, ins []arr, i int, r arr, at []int) arr {
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
	one := func(j int) {
		old := ins[i].data[j]
		ins[i].data[j] = old + h
		up := loss()
		ins[i].data[j] = old - h
		down := loss()
		ins[i].data[j] = old
		g.data[j] = (up - down) / (2 * h)
	}
	if at == nil {
		for j := range ins[i].data {
			one(j)
		}
	}
	for _, j := range at {
		one(j)
	}
	return g
}

// compare checks shape and values (at the listed elements, or all when at
// is nil); it reports the worst element.
func compare(t *testing.T, what string, got *ops.Tensor, want arr, tol Tolerance, only []int) {
	t.Helper()
	if !ops.SameShape(got.Shape, want.shape) && !(len(got.Data) == 1 && len(want.data) == 1) {
		t.Errorf("%s: shape %v, want %v", what, got.Shape, want.shape)
		return
	}
	if only == nil {
		only = make([]int, len(want.data))
		for i := range only {
			only[i] = i
		}
	}
	worst, at := 0.0, -1
	for _, i := range only {
		w := want.data[i]
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
