package project

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/internal/bounded"
)

// A project file nested 300,000 levels deep is a located error (it used to
// overflow the stack inside the HCL parser).
func TestDeepProjectFileIsLocatedError(t *testing.T) {
	for _, c := range []struct{ value, summary string }{
		{strings.Repeat("(", 300000) + `"x"` + strings.Repeat(")", 300000), "nesting too deep"},
		{strings.Repeat("[", 300000) + strings.Repeat("]", 300000), "nesting too deep"},
		{strings.Repeat("-", 300000) + "1", "expression too deep"},
		{strings.Repeat("!", 300000) + "true", "expression too deep"},
	} {
		text := "model \"m\" {\n  path = " + c.value + "\n}\n"
		_, ds := Parse("deep.hcl", []byte(text))
		if len(ds) != 1 || !strings.Contains(ds[0].Summary, c.summary) || ds[0].Span.Start.Line != 2 {
			t.Errorf("%.20s...: diagnostics %v, want one %q on line 2", c.value, ds, c.summary)
		}
	}
	if _, ds := Parse("ok.hcl", []byte("model \"m\" {\n  path = "+strings.Repeat("(", 50)+`"x.onnx"`+strings.Repeat(")", 50)+"\n}\n")); ds.HasErrors() {
		t.Errorf("50 levels refused: %v", ds)
	}
}

func TestProjectFileReadIsBounded(t *testing.T) {
	p := filepath.Join(t.TempDir(), "qpipe.hcl")
	os.WriteFile(p, []byte(strings.Repeat("# padding\n", 100)), 0o644)
	defer bounded.SetBudget(bounded.SetBudget(100))
	_, ds := Load(p)
	if len(ds) != 1 || !strings.Contains(ds[0].Summary, "memory budget") {
		t.Fatalf("diagnostics %v", ds)
	}
}
