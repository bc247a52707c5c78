package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// TestInferORTRunsBothEngines runs infer-ort on the zoo cnn at batch 2:
// one row per precision, with qpipe's and ONNX Runtime's times (the real
// onnxruntime-node, on the FP32 and INT8 QDQ exports) and their ratio.
func TestInferORTRunsBothEngines(t *testing.T) {
	if _, err := ortScript(); err != nil {
		t.Fatal(err)
	}
	t.Setenv("QPIPE_ORT_MODELS", "cnn")
	var buf bytes.Buffer
	if err := Run("infer-ort", Options{Format: "json", Sizes: []int{2}, Seconds: 0.03, Threads: 1}, &buf); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	var cases []string
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		q, o, r := m["qpipe_ms"].(float64), m["ort_ms"].(float64), m["qpipe_vs_ort"].(float64)
		if q <= 0 || o <= 0 || math.Abs(r-o/q) > 0.01+0.01*r || m["batch"] != 2.0 || m["threads"] != 1.0 {
			t.Fatalf("line %q: want positive times, their ratio, batch 2 on 1 thread", sc.Text())
		}
		cases = append(cases, m["case"].(string))
	}
	if len(cases) != 2 || cases[0] != "cnn/fp32/b2" || cases[1] != "cnn/int8/b2" {
		t.Fatalf("cases %v, want cnn/fp32/b2 and cnn/int8/b2 (a skipped row names its reason)", cases)
	}
}
