package onnx

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/onnx/onnxpb"
)

// The ONNX backend conformance suite (Debian's libonnx-testdata, ONNX
// 1.12): each test is a model.onnx with test_data_set_*/input_*.pb and
// output_*.pb. A test is covered when its opset is one Import reads and
// every op of its graph is one Import lists (SupportedOps); covered tests
// must reproduce the expected outputs within the suite's tolerances,
// |got - want| ≤ atol + rtol·|want| with rtol 1e-3 and atol 1e-7, as ONNX
// Runtime's backend test runner checks. Float32 inputs are fed as graph
// inputs (computed tensors); inputs of other types (indices, shapes,
// masks) become initializers, the form they take in exported models.
// Graphs with an op that import evaluates only on constants (fold) get
// all their inputs as initializers: the test then checks the folding. An
// op whose import needs a parameter as a constant (BatchNormalization's
// scale, Clip's bounds, Gemm's B, Pow's exponent) gets the inputs after
// the first as initializers, as exported models have them. A tensor type
// qpipe does not read (float16, uint16/32/64, int16, strings) makes the
// test not covered, and so does a form the importer declines with a
// located "not supported" error (auto_pad-free 1-D/3-D convolutions,
// dilated pooling, MaxPool's Indices output, training mode, ...): the
// table lists each reason. Any other error, and any wrong value, fails.

const (
	suiteDir  = "/usr/share/libonnx-testdata/data"
	suiteHint = "apt-get install -y libonnx-testdata"
	suiteRtol = 1e-3
	suiteAtol = 1e-7
)

type suiteResult struct {
	name, suite string
	ops         []string
	covered     bool
	why         string // not covered: the reason; covered: "" or the failure
}

// TestONNXBackendSuite runs the covered tests of the node,
// pytorch-converted and pytorch-operator suites, fails on every covered
// test that does not pass, and checks that docs/onnx-coverage.md holds
// the measured tables. The coverage rule: an op Import lists is fully
// covered when every one of its own node tests (a graph of that op
// alone) passes; an own test Import declines with a located "not
// supported" error is a refused form, listed per op, and the op is then
// not counted as fully covered.
func TestONNXBackendSuite(t *testing.T) {
	if _, err := os.Stat(suiteDir); err != nil {
		t.Fatalf("the ONNX backend test data is missing (%v): %s", err, suiteHint)
	}
	run, fold := SupportedOps()
	listed := map[string]string{}
	for _, o := range run {
		listed[o] = "run"
	}
	for _, o := range fold {
		listed[o] = "fold"
	}
	var all []suiteResult
	for _, suite := range []string{"node", "pytorch-converted", "pytorch-operator"} {
		entries, err := os.ReadDir(filepath.Join(suiteDir, suite))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			r := runSuiteTest(filepath.Join(suiteDir, suite, e.Name()), listed)
			r.name, r.suite = e.Name(), suite
			all = append(all, r)
			if r.covered && r.why != "" {
				t.Errorf("%s/%s: %s", suite, e.Name(), r.why)
			}
		}
	}
	tables := suiteSummary(all) + "\n" + suiteOpTable(suiteCoverage(all, listed), listed)
	t.Log("\n" + tables)
	docTables(t, "suite", tables)
}

// docTables checks that docs/onnx-coverage.md holds tables, the measured
// ones, between its <!-- NAME tables --> and <!-- end NAME tables -->
// markers; QPIPE_UPDATE_DOCS=1 writes them there instead.
func docTables(t *testing.T, name, tables string) {
	t.Helper()
	path := filepath.Join("..", "..", "docs", "onnx-coverage.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	begin, end := "<!-- "+name+" tables -->\n", "<!-- end "+name+" tables -->"
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q markers", path, strings.TrimSpace(begin), end)
	}
	if doc[i+len(begin):j] == tables {
		return
	}
	if os.Getenv("QPIPE_UPDATE_DOCS") != "" {
		if err := os.WriteFile(path, []byte(doc[:i+len(begin)]+tables+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s tables rewritten", path, name)
		return
	}
	t.Errorf("%s's %s tables differ from the measured ones (above); QPIPE_UPDATE_DOCS=1 go test ./ops/onnx -run %s rewrites them", path, name, t.Name())
}

// runSuiteTest checks one test folder.
func runSuiteTest(dir string, listed map[string]string) suiteResult {
	var r suiteResult
	b, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return suiteResult{why: err.Error()}
	}
	mp := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(b, mp); err != nil {
		return suiteResult{why: "unreadable model: " + err.Error()}
	}
	folds := false
	seen := map[string]bool{}
	for _, n := range mp.GetGraph().GetNode() {
		op := convKey(n)
		if !seen[op] {
			seen[op] = true
			r.ops = append(r.ops, op)
		}
		switch listed[op] {
		case "":
			r.why = "op " + op + " not supported"
		case "fold":
			folds = true
		}
	}
	sort.Strings(r.ops)
	if v := opsetOf(mp); r.why == "" && (v < MinImportOpset || v > MaxImportOpset) {
		r.why = fmt.Sprintf("opset %d (import reads %d-%d)", v, MinImportOpset, MaxImportOpset)
	}
	if len(mp.GetGraph().GetNode()) == 0 {
		r.why = "empty graph"
	}
	if r.why != "" {
		return r
	}
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	if len(sets) == 0 {
		r.why = "no test data"
		return r
	}
	r.covered = true
	for _, set := range sets {
		err := runDataSet(mp, set, folds, false)
		if err != nil && strings.Contains(err.Error(), "must be a constant") {
			err = runDataSet(mp, set, folds, true)
		}
		switch {
		case err == nil:
		case strings.Contains(err.Error(), "unsupported data type"):
			err = fmt.Errorf("uncovered: data type (%v)", err)
		case strings.Contains(err.Error(), "training-mode") || strings.Contains(err.Error(), "training_mode=1"):
			err = fmt.Errorf("uncovered: training mode (%v)", err)
		case strings.Contains(err.Error(), "empty"):
			err = fmt.Errorf("uncovered: zero-size tensor (%v)", err)
		case strings.Contains(err.Error(), "only 2-D"), strings.Contains(err.Error(), "only 1-D and 2-D"):
			err = fmt.Errorf("uncovered: 3-D spatial (%v)", err)
		case strings.Contains(err.Error(), "not supported"), strings.Contains(err.Error(), "unsupported data type"):
			err = fmt.Errorf("uncovered: form not supported (%v)", err)
		}
		if err != nil {
			r.why = fmt.Sprintf("%s: %v", filepath.Base(set), err)
			if strings.HasPrefix(err.Error(), "uncovered: ") {
				r.covered, r.why = false, strings.TrimPrefix(err.Error(), "uncovered: ")
			}
			return r
		}
	}
	return r
}

// sane reports whether a TensorProto's dimensions are non-negative and
// small (a sequence or optional value read as a tensor is not).
func sane(tp *onnxpb.TensorProto) bool {
	n := int64(1)
	for _, d := range tp.GetDims() {
		if d < 0 || d > 1<<24 {
			return false
		}
		n *= d
	}
	return n <= 1<<26
}

// asDeclared gives test data the graph's declared type where the suite
// stores it as another: bfloat16 tensors are written as their uint16
// bits (numpy has no bfloat16).
func asDeclared(tp *onnxpb.TensorProto, vi *onnxpb.ValueInfoProto) {
	bf16 := int32(onnxpb.TensorProto_BFLOAT16)
	if vi.GetType().GetTensorType().GetElemType() == bf16 && tp.GetDataType() == int32(onnxpb.TensorProto_UINT16) {
		tp.DataType = &bf16
	}
}

func readTensorPB(path string) (*onnxpb.TensorProto, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	tp := &onnxpb.TensorProto{}
	return tp, proto.Unmarshal(b, tp)
}

// qpipeType reports whether a tensor type is one qpipe computes on.
func isFloat32(dt int32) bool { return dt == int32(onnxpb.TensorProto_FLOAT) }

// runDataSet imports the model with one data set's inputs and compares
// every output.
// With params, only the first input is computed: the others are the
// weights, bounds or exponents that exported models hold as initializers.
func runDataSet(orig *onnxpb.ModelProto, set string, folds, params bool) error {
	mp := proto.Clone(orig).(*onnxpb.ModelProto)
	g := mp.GetGraph()
	var feeds []*ops.Tensor
	var shapes [][]int
	var kept []*onnxpb.ValueInfoProto
	inits := map[string]bool{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = true
	}
	i := 0
	for _, in := range g.GetInput() {
		if inits[in.GetName()] {
			continue
		}
		if in.GetType().GetTensorType() == nil {
			return fmt.Errorf("uncovered: input %q is not a tensor", in.GetName())
		}
		tp, err := readTensorPB(filepath.Join(set, fmt.Sprintf("input_%d.pb", i)))
		i++
		if err != nil {
			return fmt.Errorf("uncovered: input %q: %v", in.GetName(), err)
		}
		if !sane(tp) {
			return fmt.Errorf("uncovered: input %q is not a plain tensor", in.GetName())
		}
		asDeclared(tp, in)
		if !isFloat32(tp.GetDataType()) || folds || params && i > 1 {
			tp.Name = ptr(in.GetName())
			g.Initializer = append(g.Initializer, tp)
			continue
		}
		k, err := tensorData(tp, set)
		if err != nil {
			return fmt.Errorf("uncovered: input %q: %v", in.GetName(), err)
		}
		kept = append(kept, in)
		feeds = append(feeds, k.tensor())
		shapes = append(shapes, k.shape)
	}
	g.Input = kept
	outs, err := evalSuiteModel(mp, set, shapes, feeds)
	if err != nil {
		return err
	}
	for j := range g.GetOutput() {
		tp, err := readTensorPB(filepath.Join(set, fmt.Sprintf("output_%d.pb", j)))
		if err != nil || !sane(tp) || g.GetOutput()[j].GetType().GetTensorType() == nil {
			return fmt.Errorf("uncovered: output %d is not a plain tensor (%v)", j, err)
		}
		asDeclared(tp, g.GetOutput()[j])
		want, err := tensorData(tp, set)
		if err != nil {
			return fmt.Errorf("uncovered: output %d: %v", j, err)
		}
		if err := compareSuite(outs[j], want); err != nil {
			return fmt.Errorf("output %d: %v", j, err)
		}
	}
	return nil
}

// evalSuiteModel converts the graph at the data set's input shapes and
// returns every output, folded constants included.
func evalSuiteModel(mp *onnxpb.ModelProto, dir string, shapes [][]int, feeds []*ops.Tensor) (outs []*konst, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	im, err := convertGraph(nil, mp, dir, "suite", shapes, 0, false, false, nil)
	if err != nil {
		return nil, err
	}
	var computed []int
	for i, o := range mp.GetGraph().GetOutput() {
		v := im.vals[o.GetName()]
		if v == nil {
			return nil, fmt.Errorf("output %q is not produced", o.GetName())
		}
		outs = append(outs, v.k)
		if v.k == nil {
			computed = append(computed, i)
		}
	}
	if len(computed) == 0 {
		return outs, nil
	}
	g := im.graph
	all := g.Output
	g.Output = nil
	for _, i := range computed {
		g.Output = append(g.Output, all[i])
	}
	m, err := im.finish()
	g.Output = all
	if err != nil {
		return nil, err
	}
	be, err := ops.NewBackend("cpu")
	if err != nil {
		return nil, err
	}
	ys, err := m.Forward(ops.NewContext(be, ops.Options{}), feeds...)
	if err != nil {
		return nil, err
	}
	for j, i := range computed {
		outs[i] = konstFromTensor(ys[j])
	}
	return outs, nil
}

// compareSuite checks shape and values at the suite's tolerances (NaN
// equals NaN).
func compareSuite(got, want *konst) error {
	if got.numel() != want.numel() || (len(got.shape) != len(want.shape) && got.numel() != 1) {
		return fmt.Errorf("shape %v, want %v", got.shape, want.shape)
	}
	for i := range got.shape {
		if len(got.shape) == len(want.shape) && got.shape[i] != want.shape[i] {
			return fmt.Errorf("shape %v, want %v", got.shape, want.shape)
		}
	}
	for i, w := range want.data {
		g := got.data[i]
		if math.IsNaN(w) && math.IsNaN(g) || g == w {
			continue
		}
		if math.Abs(g-w) > suiteAtol+suiteRtol*math.Abs(w) || math.IsNaN(g) || math.IsNaN(w) {
			return fmt.Errorf("value %d = %g, want %g", i, g, w)
		}
	}
	return nil
}

// suiteSummary counts passed / covered / total per suite.
func suiteSummary(all []suiteResult) string {
	var b strings.Builder
	b.WriteString("| suite | passed | covered | total |\n|---|---|---|---|\n")
	for _, suite := range []string{"node", "pytorch-converted", "pytorch-operator"} {
		var pass, cov, tot int
		for _, r := range all {
			if r.suite != suite {
				continue
			}
			tot++
			if r.covered {
				cov++
				if r.why == "" {
					pass++
				}
			}
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d |\n", suite, pass, cov, tot)
	}
	return b.String()
}

// opCoverage is one listed op's node tests: its own (graphs of that op
// alone) and all that use it.
type opCoverage struct {
	ownPass, ownTot int
	refused         map[string]int // own tests Import declines, by reason
	pass, cov, tot  int
	why             map[string]int // the other tests not covered, by reason
}

// full reports whether every own test of the op passes: the op is fully
// covered. An op with a refused form is not.
func (c *opCoverage) full() bool { return c.ownTot > 0 && c.ownPass == c.ownTot }

// suiteCoverage gathers, per op Import lists, its node tests.
func suiteCoverage(all []suiteResult, listed map[string]string) map[string]*opCoverage {
	rows := map[string]*opCoverage{}
	for op := range listed {
		rows[op] = &opCoverage{refused: map[string]int{}, why: map[string]int{}}
	}
	for _, r := range all {
		if r.suite != "node" {
			continue
		}
		for _, op := range r.ops {
			w := rows[op]
			if w == nil {
				continue
			}
			own := len(r.ops) == 1
			ok := r.covered && r.why == ""
			w.tot++
			if own {
				w.ownTot++
			}
			switch {
			case ok:
				w.pass++
				w.cov++
				if own {
					w.ownPass++
				}
			case r.covered:
				w.cov++
			case own:
				w.refused[shortWhy(r.why)]++
			default:
				w.why[shortWhy(r.why)]++
			}
		}
	}
	return rows
}

// suiteOpTable lists, per op Import supports, its own node tests (the
// graph is that op alone) passed / total and the forms Import refuses
// among them, then every node test that uses the op: passed / covered /
// total, and why the others are not covered (another op missing).
func suiteOpTable(rows map[string]*opCoverage, listed map[string]string) string {
	var names []string
	for op := range listed {
		names = append(names, op)
	}
	sort.Strings(names)
	var b strings.Builder
	full := 0
	b.WriteString("| op | import | own tests passed / total | status | all tests using it: passed / covered / total | others not covered because |\n|---|---|---|---|---|---|\n")
	for _, op := range names {
		w := rows[op]
		status := "fully covered"
		switch {
		case w.ownTot == 0:
			status = "no own test"
		case !w.full():
			status = "refused forms: " + joinCounts(w.refused)
		}
		fmt.Fprintf(&b, "| %s | %s | %d / %d | %s | %d / %d / %d | %s |\n", op, listed[op], w.ownPass, w.ownTot, status, w.pass, w.cov, w.tot, joinCounts(w.why))
		if w.full() {
			full++
		}
	}
	fmt.Fprintf(&b, "\n%d of the %d ops Import lists are fully covered.\n", full, len(names))
	return b.String()
}

// joinCounts formats reason counts, sorted: "reason (n); ...".
func joinCounts(m map[string]int) string {
	var parts []string
	for k, n := range m {
		parts = append(parts, fmt.Sprintf("%s (%d)", k, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

func shortWhy(s string) string {
	switch {
	case strings.Contains(s, " (import reads"):
		return "opset outside 1-17"
	case strings.Contains(s, "unsupported data type "):
		t := s[strings.Index(s, "unsupported data type ")+len("unsupported data type "):]
		return "data type " + strings.FieldsFunc(t, func(r rune) bool { return r == ')' || r == ' ' })[0]
	case strings.HasPrefix(s, "training mode"):
		return "training mode"
	case strings.HasPrefix(s, "zero-size tensor"):
		return "zero-size tensor"
	case strings.HasPrefix(s, "3-D spatial"):
		return "3-D spatial"
	case strings.HasPrefix(s, "form not supported ("):
		msg := s[strings.LastIndex(s, "): ")+3:]
		return "form: " + strings.TrimSuffix(strings.ReplaceAll(msg, "|", "/"), ")")
	}
	return strings.ReplaceAll(s, "|", "/")
}
