// Package docs holds the user documentation; its test keeps contracts.md
// in step with what the code writes.
package docs

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/bench"
	"github.com/qpipe/qpipe/ops/modelio"
	"github.com/qpipe/qpipe/stdlib/run"
)

// jsonFields lists the JSON names of a struct type's fields.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

func contracts(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("contracts.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReportFieldsDocumented: every field report.json and the checkpoint
// architecture's meta can hold is described in contracts.md (as `name`).
func TestReportFieldsDocumented(t *testing.T) {
	doc := contracts(t)
	for _, typ := range []reflect.Type{reflect.TypeFor[run.Report](), reflect.TypeFor[run.StepReport](),
		reflect.TypeFor[run.Final](), reflect.TypeFor[modelio.Meta]()} {
		fields := jsonFields(typ)
		if len(fields) < 3 {
			t.Fatalf("%v has JSON fields %v", typ, fields)
		}
		for _, f := range fields {
			if !strings.Contains(doc, "`"+f+"`") {
				t.Errorf("contracts.md does not describe %v's field %q", typ, f)
			}
		}
	}
	for _, s := range []string{run.StatusDone, run.StatusRestored, run.StatusFailed, run.StatusSkipped} {
		if !strings.Contains(doc, "`"+s+"`") {
			t.Errorf("contracts.md does not list step status %q", s)
		}
	}
}

// TestBenchKeysDocumented runs the two GEMM benchmarks on a tiny size and
// checks that every key of their JSON lines is described, and that every
// registered benchmark is named.
func TestBenchKeysDocumented(t *testing.T) {
	doc := contracts(t)
	keys := map[string]bool{}
	for _, name := range []string{"gemm", "gemm-int8"} {
		var out bytes.Buffer
		if err := bench.Run(name, bench.Options{Format: "json", Sizes: []int{16}, Seconds: 0.01}, &out); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("%s: line %q: %v", name, line, err)
			}
			for k := range m {
				keys[k] = true
			}
		}
	}
	var sorted []string
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range append(sorted, bench.Names()...) {
		if !strings.Contains(doc, "`"+k+"`") {
			t.Errorf("contracts.md does not describe benchmark key or name %q", k)
		}
	}
	for _, k := range []string{"bench", "case", "value", "unit"} {
		if !keys[k] {
			t.Errorf("benchmark lines lack %q: %v", k, sorted)
		}
	}
}
