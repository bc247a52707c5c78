package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"
)

// runLines runs a benchmark briefly and decodes its JSON lines.
func runLines(t *testing.T, name string, o Options) []map[string]any {
	t.Helper()
	var buf bytes.Buffer
	o.Format = "json"
	if err := Run(name, o, &buf); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestTrainAndInferBenchmarksReportEveryModel(t *testing.T) {
	for _, c := range []struct{ bench, suffix string }{{"train", ""}, {"infer", "/fp32"}} {
		lines := runLines(t, c.bench, Options{Sizes: []int{4}, Seconds: 0.01})
		if len(lines) != len(modelBenchModels) {
			t.Fatalf("%s: %d lines, want one per model", c.bench, len(lines))
		}
		for i, m := range lines {
			if m["bench"] != c.bench || m["case"] != modelBenchModels[i]+c.suffix || m["unit"] != "img/s" || m["batch"] != 4.0 {
				t.Errorf("%s line %v", c.bench, m)
			}
			if v, _ := m["value"].(float64); v <= 0 {
				t.Errorf("%s %s: value %v", c.bench, m["case"], m["value"])
			}
			if c.bench == "train" {
				if h, _ := m["step_heap_mb"].(float64); h <= 0 {
					t.Errorf("train %s: step memory %v", m["case"], m["step_heap_mb"])
				}
			} else if ms, _ := m["ms_per_batch"].(float64); ms <= 0 {
				t.Errorf("infer %s: ms per batch %v", m["case"], m["ms_per_batch"])
			}
		}
	}
}
