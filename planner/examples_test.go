package planner_test

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/syntax"
	"github.com/qpipe/qpipe/planner"
	"github.com/qpipe/qpipe/stdlib"
)

// The -update flag is defined by the internal tests of this package
// (plan_test.go); both halves link into one test binary.
func updating() bool { return flag.Lookup("update").Value.String() == "true" }

// TestExamplePlansMatchGolden plans every recipe in examples/ with the
// standard library and pins the three views in testdata/examples/;
// regenerate with `go test ./planner -update`.
func TestExamplePlansMatchGolden(t *testing.T) {
	files, err := filepath.Glob("../examples/*.qpipe")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), ".qpipe")
		t.Run(base, func(t *testing.T) {
			p := planExample(t, f)
			for ext, view := range map[string]func(*bytes.Buffer, *planner.Plan) error{
				"txt":  func(b *bytes.Buffer, p *planner.Plan) error { return planner.Text(b, p) },
				"dot":  func(b *bytes.Buffer, p *planner.Plan) error { return planner.DOT(b, p) },
				"json": func(b *bytes.Buffer, p *planner.Plan) error { return planner.JSON(b, p) },
			} {
				var b bytes.Buffer
				if err := view(&b, p); err != nil {
					t.Fatal(err)
				}
				compareGolden(t, filepath.Join("testdata", "examples", base+"."+ext), b.Bytes())
				if ext == "dot" {
					validDOT(t, b.Bytes())
				}
			}
		})
	}
}

func planExample(t *testing.T, path string) *planner.Plan {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Plan under the name users type from the repository root.
	name := strings.TrimPrefix(filepath.ToSlash(path), "../")
	f, ds := syntax.Parse(name, text)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	rec, ds := check.Check(f, stdlib.Env(), check.Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	p, err := planner.Build(rec, planner.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// validDOT runs Graphviz over a DOT view; without Graphviz the test fails,
// like the other tool checks (.ci/run installs it).
func validDOT(t *testing.T, dot []byte) {
	t.Helper()
	bin, err := exec.LookPath("dot")
	if err != nil {
		t.Fatal("graphviz dot not installed, so the DOT views of the examples cannot be validated: apt-get install graphviz (.ci/run installs it)")
	}
	cmd := exec.Command(bin, "-Tcanon")
	cmd.Stdin = bytes.NewReader(dot)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("dot rejected the plan: %v\n%s", err, out)
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
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
		t.Errorf("%s differs from the golden file (go test ./planner -update rewrites it)\n--- got\n%s", path, got)
	}
}
