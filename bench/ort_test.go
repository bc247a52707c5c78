package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInferORTRunsBothEngines runs infer-ort on the zoo cnn at batch 2:
// one row per precision, with qpipe's and ONNX Runtime's times (the real
// onnxruntime-node, on the FP32 and INT8 QDQ exports) and their ratio,
// then qpipe's INT8 speed-up over its FP32. QPIPE_ORT_DIR names a folder
// that does not exist yet: the bench makes it and keeps the exports there.
func TestInferORTRunsBothEngines(t *testing.T) {
	if _, err := ortScript(); err != nil {
		t.Fatal(err)
	}
	t.Setenv("QPIPE_ORT_MODELS", "cnn")
	keep := filepath.Join(t.TempDir(), "kept", "exports")
	t.Setenv("QPIPE_ORT_DIR", keep)
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
		cases = append(cases, m["case"].(string))
		if m["unit"] == "x" { // int8 vs fp32 on qpipe
			if v, _ := m["value"].(float64); v <= 0 {
				t.Fatalf("line %q: want a positive speed-up", sc.Text())
			}
			continue
		}
		q, o, r := m["qpipe_ms"].(float64), m["ort_ms"].(float64), m["qpipe_vs_ort"].(float64)
		if q <= 0 || o <= 0 || math.Abs(r-o/q) > 0.01+0.01*r || m["batch"] != 2.0 || m["threads"] != 1.0 {
			t.Fatalf("line %q: want positive times, their ratio, batch 2 on 1 thread", sc.Text())
		}
	}
	if strings.Join(cases, " ") != "cnn/fp32/b2 cnn/int8/b2 cnn/int8-vs-fp32/b2" {
		t.Fatalf("cases %v, want cnn/fp32/b2, cnn/int8/b2 and cnn/int8-vs-fp32/b2 (a skipped row names its reason)", cases)
	}
	for _, f := range []string{"cnn.onnx", "cnn.int8.onnx"} {
		if _, err := os.Stat(filepath.Join(keep, f)); err != nil {
			t.Errorf("QPIPE_ORT_DIR should keep %s: %v", f, err)
		}
	}
}

// TestInferORTRefusesUnknownModel: a QPIPE_ORT_MODELS entry that names no
// model is an error that lists the models, not an empty table.
func TestInferORTRefusesUnknownModel(t *testing.T) {
	t.Setenv("QPIPE_ORT_MODELS", "cnn,resnet50")
	var buf bytes.Buffer
	err := Run("infer-ort", Options{Format: "json", Sizes: []int{1}, Seconds: 0.01, Threads: 1}, &buf)
	if err == nil || !strings.Contains(err.Error(), `no model "resnet50"`) || !strings.Contains(err.Error(), "cnn, resnet20, resnet18, mobilenet_v2") {
		t.Fatalf("err = %v, want it to name resnet50 and list the models", err)
	}
	if buf.Len() != 0 {
		t.Fatalf("printed %q before refusing", buf.String())
	}
}
