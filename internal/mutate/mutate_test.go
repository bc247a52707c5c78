package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMutationsApply: every edit still matches the code it targets exactly
// once, and changes it, so the mutation check runs the bugs it lists (a
// refactor that moves the code breaks this test, not the check silently).
func TestMutationsApply(t *testing.T) {
	names := map[string]bool{}
	for _, m := range mutations {
		if names[m.name] {
			t.Errorf("mutation name %s used twice", m.name)
		}
		names[m.name] = true
		src, err := os.ReadFile(filepath.Join("..", "..", m.file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := apply(m, string(src))
		if err != nil {
			t.Error(err)
			continue
		}
		if got == string(src) {
			t.Errorf("mutation %s changes nothing", m.name)
		}
		if len(m.pkgs) == 0 || m.run == "" || m.bug == "" {
			t.Errorf("mutation %s lacks packages, a -run filter or a description", m.name)
		}
	}
}

func TestApplyRejectsAmbiguousEdits(t *testing.T) {
	m := mutation{name: "x", file: "f.go", edits: []edit{{"a", "b"}}}
	if _, err := apply(m, "a a"); err == nil || !strings.Contains(err.Error(), "matches 2 times") {
		t.Errorf("two matches: err = %v", err)
	}
	if _, err := apply(m, "c"); err == nil || !strings.Contains(err.Error(), "matches 0 times") {
		t.Errorf("no match: err = %v", err)
	}
}

func TestParse(t *testing.T) {
	out := `--- FAIL: TestConformance (1.2s)
    --- FAIL: TestConformance/threads=2 (0.3s)
        --- FAIL: TestConformance/threads=2/big_layernorm (0.1s)
    --- FAIL: TestConformance/threads=8 (0.3s)
        --- FAIL: TestConformance/threads=8/big_layernorm (0.1s)
--- FAIL: TestSameBitsOnAnyThreadCount (2.0s)
FAIL
`
	o := parse(out)
	if strings.Join(o.failed, ",") != "TestConformance/big_layernorm (2, 8 workers),TestSameBitsOnAnyThreadCount" || o.buildFailed {
		t.Errorf("parse: %+v", o)
	}
	if o := parse("FAIL\tgithub.com/qpipe/qpipe/ops/cpu [build failed]\n"); !o.buildFailed || len(o.failed) != 0 {
		t.Errorf("build failure: %+v", o)
	}
}
