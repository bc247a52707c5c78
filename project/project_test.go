package project

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/stdlib"
)

func TestExampleProject(t *testing.T) {
	path := filepath.Join("..", "examples", "qpipe.hcl")
	p, ds := Load(path)
	if len(ds) > 0 {
		t.Fatalf("examples/qpipe.hcl: %v", ds)
	}
	if got := strings.Join(p.RunNames(), ","); got != "quick,quickstart" {
		t.Fatalf("runs %s", got)
	}
	q := p.Runs["quick"]
	if q.Recipe != filepath.Join("..", "examples", "quickstart.qpipe") || q.Model.Ref() != "mlp" || q.Data.Source != "mnist" ||
		q.Data.Subset != 2000 || q.Set["epochs"] != "1" || *q.Seed != 1 || q.Out != filepath.Join("..", "out", "quick") {
		t.Errorf("run quick = %+v", q)
	}
	if n := p.Runs["quickstart"].Data.Normalize; len(n) != 2 || n[0][0] != 0.1307 || n[1][0] != 0.3081 {
		t.Errorf("normalize %v", n)
	}
	// Every run's recipe checks clean with the run's bindings and sets.
	for _, name := range p.RunNames() {
		r := p.Runs[name]
		_, ds := check.CheckSource(r.Recipe, mustRead(t, r.Recipe), stdlib.Env(),
			check.Options{ModelBound: r.Model != nil, DataBound: r.Data != nil, Sets: r.Set})
		if ds.HasErrors() {
			t.Errorf("run %s: %v", name, ds)
		}
	}
}

// render prints diagnostics the way qpipe does.
func render(p *Project, ds diag.Diagnostics) string {
	var b bytes.Buffer
	diag.NewPrinter(&b, diag.FileMap{p.Source.Name: p.Source}).Fprint(&b, ds)
	return b.String()
}

func TestErrorsRenderWithCarets(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"undefined model", "run \"r\" {\n  recipe = \"x.qpipe\"\n  model = model.nope\n}\n",
			"p.hcl:3:11: error: no model named \"nope\" in this project\n    model = model.nope\n            ^^^^^^^^^^\n  define it with model \"nope\" { ... }\n"},
		{"syntax", "model \"m\" {\n  source = \n}\n",
			"p.hcl:2:12: error: Invalid expression\n"},
		{"wrong type", "dataset \"d\" {\n  source = \"mnist\"\n  subset = \"many\"\n}\n",
			"p.hcl:3:12: error: subset must be a number, not a string\n    subset = \"many\"\n             ^^^^^^\n  write subset = 1\n"},
		{"unknown attribute", "model \"m\" {\n  sorce = \"cnn\"\n}\n",
			"p.hcl:2:3: error: Unsupported argument"},
		{"both source and path", "model \"m\" {\n  source = \"cnn\"\n  path = \"m.safetensors\"\n}\n",
			"p.hcl:1:1: error: model \"m\" needs exactly one of source and path\n"},
		{"duplicate", "model \"m\" {\n  source = \"cnn\"\n}\nmodel \"m\" {\n  source = \"mlp\"\n}\n",
			"p.hcl:4:7: error: model \"m\" is defined twice\n"},
		{"device", "run \"r\" {\n  recipe = \"x.qpipe\"\n  device = \"tpu\"\n}\n",
			"p.hcl:3:12: error: unknown device \"tpu\"\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ds := Parse("p.hcl", []byte(tc.text))
			if !ds.HasErrors() {
				t.Fatal("no error")
			}
			if got := render(p, ds); !strings.HasPrefix(got, tc.want) {
				t.Errorf("got:\n%s\nwant prefix:\n%s", got, tc.want)
			}
		})
	}
}

func TestSetValuesAreRecipeText(t *testing.T) {
	p, ds := Parse("p.hcl", []byte("run \"r\" {\n  recipe = \"x.qpipe\"\n  set = { epochs = 2, lr = 0.001, budget = \"5ms\", on = true }\n}\n"))
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	got := p.Runs["r"].Set
	if got["epochs"] != "2" || got["lr"] != "0.001" || got["budget"] != "5ms" || got["on"] != "true" {
		t.Errorf("set = %v", got)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
