package htmlreport

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/stdlib/run"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fullReport is a report with every kind of series: training with
// validation, distillation rounds, QAT in two branches with layers,
// robustness per arm, expect gates and a failed step.
func fullReport() *run.Report {
	acc, size := 0.91, int64(240000)
	v := func(x float64) *float64 { return &x }
	epochs := func(n int, val bool) []run.EpochPoint {
		var out []run.EpochPoint
		for e := 1; e <= n; e++ {
			p := run.EpochPoint{Epoch: e, TrainLoss: 1 / float64(e), TrainAccuracy: 0.8 + 0.03*float64(e), LR: 1e-3 / float64(e)}
			if val {
				p.ValLoss, p.ValAccuracy = v(1.1/float64(e)), v(0.78+0.03*float64(e))
			}
			out = append(out, p)
		}
		return out
	}
	steps := func(n int) []run.StepPoint {
		var out []run.StepPoint
		for s := 1; s <= n; s++ {
			out = append(out, run.StepPoint{Step: s, Loss: 2 / float64(s), LR: 1e-3})
		}
		return out
	}
	layers := []run.LayerStat{{Name: "fc1", Kind: "linear", Params: 100, Bits: 8, Sparsity: 0.5, Min: -0.2, Max: 0.3, Clip: 0.25},
		{Name: "fc2", Kind: "linear", Params: 50, Bits: 4, Sparsity: 0.1, Min: -0.1, Max: 0.1, Clip: 0.1}}
	robust := func(a float64) []run.RobustPoint {
		return []run.RobustPoint{{Group: "clean", Accuracy: a}, {Group: "shift", Name: "fashion", Accuracy: a - 0.3},
			{Group: "corruption", Name: "noise", Level: 1, Accuracy: a - 0.1}, {Group: "corruption", Name: "noise", Level: 3, Accuracy: a - 0.2},
			{Group: "fgsm", Level: 0.03, Accuracy: a - 0.4}, {Group: "pgd", Level: 0.03, Accuracy: a - 0.5}}
	}
	ev := func(a, s float64) map[string]float64 {
		return map[string]float64{"accuracy": a, "size_bytes": s, "latency_ms_b1": s / 1e5}
	}
	done := func(i, line int, verb, branch string, m map[string]float64, s *run.Series) run.StepReport {
		return run.StepReport{Index: i, Verb: verb, Line: line, Branch: branch, Status: run.StatusDone, Seconds: 1.5, Metrics: m, Series: s}
	}
	return &run.Report{Recipe: "examples/full.qpipe", Device: "cpu", Seed: 7,
		Final: run.Final{Accuracy: &acc, SizeBytes: &size, LatencyMS: map[string]float64{"b1": 0.4, "b64": 3}},
		Steps: []run.StepReport{
			done(0, 1, "model", "", nil, nil),
			done(1, 2, "data", "", nil, nil),
			done(2, 3, "train", "", map[string]float64{"train_loss": 0.3}, &run.Series{Epochs: epochs(3, true), Steps: steps(30)}),
			done(3, 4, "evaluate", "", ev(0.93, 940000), nil),
			done(4, 5, "snapshot", "", nil, nil),
			done(5, 6, "distill", "", nil, &run.Series{Epochs: []run.EpochPoint{{Epoch: 1, Round: 1, TrainLoss: 0.5, TrainAccuracy: 0.9, ValAccuracy: v(0.9)},
				{Epoch: 2, Round: 2, TrainLoss: 0.4, TrainAccuracy: 0.92, ValAccuracy: v(0.91)}}, Steps: steps(20)}),
			done(6, 7, "expect", "", nil, &run.Series{Gate: &run.Gate{Metric: "accuracy", Op: ">=", Value: 0.85, Holds: true}}),
			done(7, 9, "quantize", "bits=4", nil, &run.Series{Epochs: epochs(2, false), Steps: steps(20), Layers: layers}),
			done(8, 10, "evaluate", "bits=4", ev(0.90, 240000), &run.Series{Robustness: robust(0.9)}),
			done(9, 11, "expect", "bits=4", nil, &run.Series{Gate: &run.Gate{Metric: "size_bytes", Op: "<", Value: 5e5, Holds: true}}),
			done(10, 9, "quantize", "bits=8", nil, &run.Series{Epochs: epochs(2, false), Steps: steps(20), Layers: layers}),
			done(11, 10, "evaluate", "bits=8", ev(0.92, 480000), &run.Series{Robustness: robust(0.92)}),
			{Index: 12, Verb: "expect", Line: 11, Branch: "bits=8", Status: run.StatusFailed, Seconds: 0.1, Metrics: map[string]float64{},
				Error: "full.qpipe:11:3: expect: expect failed: size < 400KB is false", Series: &run.Series{Gate: &run.Gate{Metric: "size_bytes", Op: "<", Value: 4e5}}},
			{Index: 13, Verb: "export", Line: 13, Status: run.StatusSkipped, Metrics: map[string]float64{}},
		}}
}

var (
	idRE   = regexp.MustCompile(`<(header|section|figure)[^>]* id="([^"]+)"`)
	svgRE  = regexp.MustCompile(`<svg[ >]`)
	nodeRE = regexp.MustCompile(`<g class="node (n-[a-z]+)"`)
)

// structure is the page's outline: its sections and figures in order,
// with the number of SVG elements and plan nodes by status.
func structure(html string) string {
	var b strings.Builder
	for _, m := range idRE.FindAllStringSubmatch(html, -1) {
		fmt.Fprintf(&b, "%s #%s\n", m[1], m[2])
	}
	fmt.Fprintf(&b, "svg elements: %d\n", len(svgRE.FindAllString(html, -1)))
	counts := map[string]int{}
	var order []string
	for _, m := range nodeRE.FindAllStringSubmatch(html, -1) {
		if counts[m[1]] == 0 {
			order = append(order, m[1])
		}
		counts[m[1]]++
	}
	for _, s := range order {
		fmt.Fprintf(&b, "plan nodes %s: %d\n", s, counts[s])
	}
	return b.String()
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s changed (go test ./stdlib/run/htmlreport -run Golden -update rewrites it):\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestGoldenReportStructure(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, Page{Report: fullReport(), Source: []byte("model mlp\ntrain epochs=3\n")}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "report.structure", structure(b.String()))
	if dir := os.Getenv("QPIPE_REPORT_SHOTS"); dir != "" {
		os.WriteFile(filepath.Join(dir, "full.html"), b.Bytes(), 0o644)
	}
}

func TestGoldenComparisonStructure(t *testing.T) {
	a, c := fullReport(), fullReport()
	c.Seed = 8
	var b bytes.Buffer
	if err := Compare(&b, []Run{{Name: "seed7", Report: a}, {Name: "seed8", Report: c}}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "compare.structure", structure(b.String()))
	if dir := os.Getenv("QPIPE_REPORT_SHOTS"); dir != "" {
		os.WriteFile(filepath.Join(dir, "compare.html"), b.Bytes(), 0o644)
	}
}
