package planner

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/syntax"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// planFile parses, checks (with the test vocabulary) and plans a recipe.
func planFile(t *testing.T, name string, env check.Env, opts Options, copts check.Options) *Plan {
	t.Helper()
	text, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return planText(t, name, string(text), env, opts, copts)
}

func planText(t *testing.T, name, text string, env check.Env, opts Options, copts check.Options) *Plan {
	t.Helper()
	f, ds := syntax.ParseString(name, text)
	if ds.HasErrors() {
		t.Fatalf("parse: %v", ds)
	}
	rec, ds := check.Check(f, env, copts)
	if len(ds) > 0 {
		t.Fatalf("check: %v", ds)
	}
	p, err := Build(rec, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// views renders the three views of p.
func views(t *testing.T, p *Plan) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for ext, view := range map[string]func(*bytes.Buffer, *Plan) error{
		"txt":  func(b *bytes.Buffer, p *Plan) error { return Text(b, p) },
		"dot":  func(b *bytes.Buffer, p *Plan) error { return DOT(b, p) },
		"json": func(b *bytes.Buffer, p *Plan) error { return JSON(b, p) },
	} {
		var b bytes.Buffer
		if err := view(&b, p); err != nil {
			t.Fatal(err)
		}
		out[ext] = b.Bytes()
	}
	return out
}

// golden compares got with testdata/NAME, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./planner -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./planner -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestViewsMatchGolden pins the text, DOT and JSON views of the test
// recipes; regenerate with `go test ./planner -update`.
func TestViewsMatchGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.qpipe")
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), ".qpipe")
		t.Run(base, func(t *testing.T) {
			p := planFile(t, f, newTestEnv(), Options{}, check.Options{})
			for ext, got := range views(t, p) {
				golden(t, base+"."+ext, got)
			}
		})
	}
}

func TestDOTIsValidGraphviz(t *testing.T) {
	dot, err := exec.LookPath("dot")
	if err != nil {
		t.Fatal("graphviz dot not installed: apt-get install graphviz (.ci/run installs it)")
	}
	p := planFile(t, "testdata/sweep.qpipe", newTestEnv(), Options{}, check.Options{})
	cmd := exec.Command(dot, "-Tcanon")
	cmd.Stdin = bytes.NewReader(views(t, p)["dot"])
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dot rejected the plan: %v\n%s", err, out)
	}
}

// TestJSONFieldsAreLowerSnakeCase walks the JSON view and checks every
// object key.
func TestJSONFieldsAreLowerSnakeCase(t *testing.T) {
	p := planFile(t, "testdata/sweep.qpipe", newTestEnv(), Options{}, check.Options{})
	var v any
	if err := json.Unmarshal(views(t, p)["json"], &v); err != nil {
		t.Fatal(err)
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if !snake.MatchString(k) {
					t.Errorf("key %q is not lower_snake_case", k)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	cost := v.(map[string]any)["total"].(map[string]any)
	for _, k := range []string{"train_epochs", "forward_passes", "images", "flops", "param_memory_bytes", "output_bytes"} {
		if _, ok := cost[k]; !ok {
			t.Errorf("total has no %q field", k)
		}
	}
	if cost["flops"] != nil {
		t.Errorf("flops = %v without a model, want null", cost["flops"])
	}
}

func checked(t *testing.T, text string, env check.Env) *check.Recipe {
	t.Helper()
	f, ds := syntax.ParseString("t.qpipe", text)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	rec, ds := check.Check(f, env, check.Options{})
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	return rec
}
