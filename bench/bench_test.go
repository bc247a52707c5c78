package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestRunJSONLines(t *testing.T) {
	var buf bytes.Buffer
	if err := Run("gemm", Options{Format: "json", Sizes: []int{32, 48}, Seconds: 0.01}, &buf); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	var cases []string
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if m["bench"] != "gemm" || m["unit"] != "GFLOP/s" || m["kernel"] == nil {
			t.Fatalf("line %q lacks bench/unit/kernel", sc.Text())
		}
		if v, ok := m["value"].(float64); !ok || v <= 0 {
			t.Fatalf("line %q: value not positive", sc.Text())
		}
		cases = append(cases, m["case"].(string))
	}
	if strings.Join(cases, ",") != "32,48" {
		t.Fatalf("cases = %v, want 32,48", cases)
	}
}

func TestRunTextTable(t *testing.T) {
	var buf bytes.Buffer
	if err := Run("gemm-int8", Options{Sizes: []int{40}, Seconds: 0.01}, &buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "bench") || !strings.Contains(lines[1], "GOP/s") {
		t.Fatalf("table:\n%s", buf.String())
	}
}

func TestRunUnknown(t *testing.T) {
	err := Run("nope", Options{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "gemm-int8") {
		t.Fatalf("err = %v, want the list of known names", err)
	}
	if err := Run("gemm", Options{Format: "xml"}, &bytes.Buffer{}); err == nil {
		t.Fatal("format xml accepted")
	}
}

func TestResultJSON(t *testing.T) {
	b, _ := json.Marshal(Result{Bench: "b", Case: "c", Value: 1.5, Unit: "u", Extra: map[string]any{"kernel": "k", "bench": "shadow"}})
	if string(b) != `{"bench":"b","case":"c","kernel":"k","unit":"u","value":1.5}` {
		t.Fatalf("json = %s", b)
	}
}

var (
	printFormat  = flag.String("bench.format", "json", "TestPrintGemm: text or json")
	printSeconds = flag.Float64("bench.seconds", 1, "TestPrintGemm: seconds per case")
	printThreads = flag.Int("bench.threads", 0, "TestPrintGemm: threads (0: all cores)")
	printSizes   = flag.String("bench.sizes", "", "TestPrintGemm: comma-separated sizes (default: the benchmarks' own)")
	printNames   = flag.String("bench.names", "gemm,gemm-int8", "TestPrintGemm: comma-separated benchmark names")
)

// TestPrintGemm prints the gemm and gemm-int8 benchmarks at their default
// sizes when QPIPE_BENCH=1 (scripts/bench_peers.py runs it when there is no
// qpipe command yet); otherwise it is skipped.
func TestPrintGemm(t *testing.T) {
	if os.Getenv("QPIPE_BENCH") != "1" {
		t.Skip("set QPIPE_BENCH=1 to print the gemm benchmarks")
	}
	var sizes []int
	for _, f := range strings.FieldsFunc(*printSizes, func(r rune) bool { return r == ',' }) {
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("-bench.sizes: %v", err)
		}
		sizes = append(sizes, n)
	}
	for _, name := range strings.Split(*printNames, ",") {
		if err := Run(name, Options{Format: *printFormat, Seconds: *printSeconds, Threads: *printThreads, Sizes: sizes}, os.Stdout); err != nil {
			t.Fatal(err)
		}
	}
}
