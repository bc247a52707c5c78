package ops_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu"
)

func newCtx(train, grad bool) *ops.Context {
	return ops.NewContext(cpu.New(cpu.Options{}), ops.Options{Train: train, Grad: grad, Seed: 1})
}

// mlp builds Linear(8→16)+GELU+Linear(16→4) under "stages.0.mlp".
func mlp(t *testing.T) *ops.Model {
	b := ops.NewBuilder("mlp", 3)
	x := b.Input("x")
	s := b.Sub("stages.0.mlp")
	h := s.Linear("fc1", x, 8, 16, true)
	h = s.Act(ops.OpGELU, "act", h)
	y := s.Linear("fc2", h, 16, 4, true)
	m, err := b.Build(y)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func input(rows, cols int) *ops.Tensor {
	x := ops.New(rows, cols)
	for i := range x.Data {
		x.Data[i] = float32((i*37)%19)/9 - 1
	}
	return x
}

func forward(t *testing.T, m *ops.Model, x *ops.Tensor) *ops.Tensor {
	t.Helper()
	out, err := m.Forward1(newCtx(false, false), x)
	if err != nil {
		t.Fatal(err)
	}
	return out.Clone()
}

func TestBuilderNamesParametersByModulePath(t *testing.T) {
	m := mlp(t)
	var names []string
	for _, p := range m.ParamShapes() {
		names = append(names, p.Name)
	}
	want := "stages.0.mlp.fc1.weight stages.0.mlp.fc1.bias stages.0.mlp.fc2.weight stages.0.mlp.fc2.bias"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("params = %s", got)
	}
	if m.ParamCount() != 8*16+16+16*4+4 || m.ParamBytes() != 4*m.ParamCount() {
		t.Fatalf("count %d bytes %d", m.ParamCount(), m.ParamBytes())
	}
}

func TestMatchGlobs(t *testing.T) {
	m := mlp(t)
	cases := map[string]int{
		"stages.*.mlp.act":           1,
		"**.act":                     1,
		"stages.0.mlp.fc?":           2,
		"stages.{0,1}.mlp.{fc1,act}": 2,
		"*.act":                      0, // * does not cross dots
		"**":                         len(m.Nodes),
	}
	for pat, want := range cases {
		if got := len(m.Match(pat)); got != want {
			t.Errorf("Match(%q) = %d nodes, want %d", pat, got, want)
		}
	}
	if !ops.MatchName("**.act", "act") {
		t.Error(`"**.act" should match a top-level "act"`)
	}
	if got := m.Select("**.fc*", ops.OpLinear); len(got) != 2 {
		t.Errorf("Select linear = %d", len(got))
	}
	if got := m.FindKind(ops.OpGELU, ops.OpReLU); len(got) != 1 || got[0].Name != "stages.0.mlp.act" {
		t.Errorf("FindKind = %v", got)
	}
}

func TestReplaceGELUWithReLU(t *testing.T) {
	m := mlp(t)
	x := input(5, 8)
	before := forward(t, m, x)
	span := source.Span{File: "r.qpipe", Start: source.Pos{Offset: 10, Line: 2, Column: 1}, End: source.Pos{Offset: 30, Line: 2, Column: 21}}
	for _, n := range m.FindKind(ops.OpGELU) {
		m.ReplaceKind(n, ops.OpReLU, span)
	}
	after := forward(t, m, x)
	if len(m.FindKind(ops.OpGELU)) != 0 || m.NodeByName("stages.0.mlp.act").Span != span {
		t.Fatal("node not rewritten")
	}
	// Recompute by hand: relu between the two layers.
	c := newCtx(false, false)
	p := func(n string) *ops.Tensor { return m.Param("stages.0.mlp." + n).Value }
	want := c.Linear(c.ReLU(c.Linear(x, p("fc1.weight"), p("fc1.bias"))), p("fc2.weight"), p("fc2.bias"))
	assertClose(t, "relu model", after, want, tol{atol: 1e-6})
	same := true
	for i := range before.Data {
		same = same && before.Data[i] == after.Data[i]
	}
	if same {
		t.Fatal("replacing the activation did not change the output")
	}
}

func TestInsertFakeQuantOnWeightAndInput(t *testing.T) {
	m := mlp(t)
	x := input(3, 8)
	fc1 := m.NodeByName("stages.0.mlp.fc1")
	if _, err := m.AddParam("stages.0.mlp.fc1.weight_quant.scale", ops.MustFromData([]float32{0.05}, 1), true); err != nil {
		t.Fatal(err)
	}
	if _, err := m.AddParam("stages.0.mlp.fc1.input_quant.scale", ops.MustFromData([]float32{0.1}, 1), true); err != nil {
		t.Fatal(err)
	}
	wnode, err := m.ExposeParam(fc1, "weight")
	if err != nil {
		t.Fatal(err)
	}
	fq := func(name string) *ops.Node {
		return &ops.Node{Kind: ops.OpFakeQuant, Name: name, Attrs: ops.Attrs{QMin: -7, QMax: 7, Bits: 4},
			Params: map[string]string{"scale": name + ".scale"}}
	}
	m.InsertAfter(wnode, fq("stages.0.mlp.fc1.weight_quant"))
	m.InsertBefore(fc1, 0, fq("stages.0.mlp.fc1.input_quant"))
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	got := forward(t, m, x)

	c := newCtx(false, false)
	p := func(n string) *ops.Tensor { return m.Param("stages.0.mlp." + n).Value }
	o := ops.FakeQuantOptions{QMin: -7, QMax: 7}
	xq := c.FakeQuant(x, p("fc1.input_quant.scale"), nil, o)
	wq := c.FakeQuant(p("fc1.weight"), p("fc1.weight_quant.scale"), nil, o)
	want := c.Linear(c.GELU(c.Linear(xq, wq, p("fc1.bias"))), p("fc2.weight"), p("fc2.bias"))
	assertClose(t, "quantized model", got, want, tol{atol: 1e-6})

	// Gradients reach the weight (straight through) and the LSQ scales.
	for _, n := range m.FindKind(ops.OpFakeQuant) {
		n.Attrs.LSQ = true
	}
	c = newCtx(true, true)
	out, err := m.Forward1(c, x)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Backward(c.SumAll(out)); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"fc1.weight", "fc1.weight_quant.scale", "fc1.input_quant.scale"} {
		if g := m.Param("stages.0.mlp." + name).Grad(); g == nil || allZero(g) {
			t.Errorf("%s has no gradient", name)
		}
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

func TestBypassRemovesNode(t *testing.T) {
	m := mlp(t)
	act := m.NodeByName("stages.0.mlp.act")
	if err := m.Bypass(act); err != nil {
		t.Fatal(err)
	}
	x := input(2, 8)
	c := newCtx(false, false)
	p := func(n string) *ops.Tensor { return m.Param("stages.0.mlp." + n).Value }
	want := c.Linear(c.Linear(x, p("fc1.weight"), p("fc1.bias")), p("fc2.weight"), p("fc2.bias"))
	assertClose(t, "bypassed", forward(t, m, x), want, tol{atol: 1e-6})
}

func TestCloneIsIndependent(t *testing.T) {
	m := mlp(t)
	cl := m.Clone()
	cl.Param("stages.0.mlp.fc1.weight").Value.Data[0] += 1
	cl.ReplaceKind(cl.NodeByName("stages.0.mlp.act"), ops.OpReLU, source.Span{})
	if m.NodeByName("stages.0.mlp.act").Kind != ops.OpGELU {
		t.Fatal("clone shares nodes")
	}
	if m.Param("stages.0.mlp.fc1.weight").Value.Data[0] == cl.Param("stages.0.mlp.fc1.weight").Value.Data[0] {
		t.Fatal("clone shares parameter storage")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	m := buildTinySwin(t)
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back ops.Model
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		if err := back.SetParam(p.Name, p.Value); err != nil {
			t.Fatal(err)
		}
	}
	again, _ := json.Marshal(&back)
	if string(again) != string(data) {
		t.Fatal("structure changed in a JSON round trip")
	}
	x := ops.New(2, 3, 32, 32)
	for i := range x.Data {
		x.Data[i] = float32(i%11) / 11
	}
	want := forward(t, m, x)
	assertClose(t, "reloaded swin", forward(t, &back, x), want, tol{})
}

func TestShapeErrorNamesNodeAndSpan(t *testing.T) {
	m := mlp(t)
	span := source.Span{File: "recipe.qpipe", Start: source.Pos{Line: 4, Column: 3}, End: source.Pos{Line: 4, Column: 9}}
	m.SetSpan(span)
	_, err := m.Forward(newCtx(false, false), ops.New(2, 5))
	var oe *ops.OpError
	if !errors.As(err, &oe) {
		t.Fatalf("err = %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"recipe.qpipe:4:3", "linear", "stages.0.mlp.fc1", "[2 5]", "[16 8]"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if _, err := m.Forward(newCtx(false, false)); err == nil {
		t.Error("missing input accepted")
	}
}

func TestNoGradForwardRecyclesButMatches(t *testing.T) {
	m := buildTinySwin(t)
	x := ops.New(2, 3, 32, 32)
	for i := range x.Data {
		x.Data[i] = float32((i*7)%13) / 13
	}
	tr := newCtx(false, true)
	want, err := m.Forward1(tr, x)
	if err != nil {
		t.Fatal(err)
	}
	c := newCtx(false, false)
	for range 3 { // reuse the same context: recycled buffers must not corrupt values
		got, err := m.Forward1(c, x)
		if err != nil {
			t.Fatal(err)
		}
		assertClose(t, "no-grad output", got, want, tol{})
		c.Reset()
	}
}

func TestBackendRegistry(t *testing.T) {
	if _, err := ops.NewBackend("cpu"); err != nil {
		t.Fatal(err)
	}
	_, err := ops.NewBackend("cuda")
	if err == nil || !strings.Contains(err.Error(), "build with -tags cuda") {
		t.Errorf("cuda: %v", err)
	}
	_, err = ops.NewBackend("tpu")
	if err == nil || !strings.Contains(err.Error(), "known: cpu") {
		t.Errorf("tpu: %v", err)
	}
}

func TestInputGradientForAttacks(t *testing.T) {
	m := buildCNN(t)
	x := ops.New(2, 3, 8, 8)
	for i := range x.Data {
		x.Data[i] = float32(i%5) / 5
	}
	x.SetRequiresGrad(true)
	c := newCtx(false, true)
	out, err := m.Forward1(c, x)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Backward(c.CrossEntropy(out, []int{1, 2})); err != nil {
		t.Fatal(err)
	}
	if x.Grad() == nil || allZero(x.Grad()) {
		t.Fatal("no gradient with respect to the input")
	}
	// Finite-difference check of one pixel in evaluation mode.
	loss := func() float64 {
		c := newCtx(false, false)
		o, _ := m.Forward1(c, x)
		return float64(c.CrossEntropy(o, []int{1, 2}).Item())
	}
	const h = 1e-2
	i := 37
	old := x.Data[i]
	x.Data[i] = old + h
	up := loss()
	x.Data[i] = old - h
	down := loss()
	x.Data[i] = old
	fd := (up - down) / (2 * h)
	if d := float64(x.Grad().Data[i]) - fd; d > 1e-3 || d < -1e-3 {
		t.Errorf("input grad %v, finite difference %v", x.Grad().Data[i], fd)
	}
}

func TestRelativePositionIndex(t *testing.T) {
	idx := ops.RelativePositionIndex(2)
	// torch: [[4,3,1,0],[5,4,2,1],[7,6,4,3],[8,7,5,4]]
	want := []int32{4, 3, 1, 0, 5, 4, 2, 1, 7, 6, 4, 3, 8, 7, 5, 4}
	for i := range want {
		if idx[i] != want[i] {
			t.Fatalf("index = %v, want %v", idx, want)
		}
	}
}

func TestPatchMergingByReshapePermute(t *testing.T) {
	// Swin's strided-slice concat equals a reshape/permute/reshape.
	c := newCtx(false, false)
	x := ops.New(2, 4, 4, 3)
	for i := range x.Data {
		x.Data[i] = float32(i)
	}
	part := func(h0, w0 int) *ops.Tensor { return c.Slice(c.Slice(x, 1, h0, 4, 2), 2, w0, 4, 2) }
	want := c.Concat(-1, part(0, 0), part(1, 0), part(0, 1), part(1, 1))
	got := c.Reshape(c.Permute(c.Reshape(x, 2, 2, 2, 2, 2, 3), 0, 1, 3, 4, 2, 5), 2, 2, 2, 12)
	assertClose(t, "merge", got, want, tol{})
}
