// Package project reads qpipe.hcl project files: named models, datasets
// and runs, Terraform-style, so `qpipe run NAME` runs a recipe with its
// bindings, --set values, device, output folder and seed written down
// once. It uses github.com/hashicorp/hcl/v2 and maps HCL's diagnostics to
// lang/diag, so project errors print exactly like recipe errors (file,
// line, column, source line, caret). docs/project.md documents the format.
//
//	model "small" { source = "cnn" }
//	dataset "digits" { source = "mnist"  subset = 5000 }
//	run "quick" {
//	  recipe = "quickstart.qpipe"
//	  model  = model.small
//	  data   = dataset.digits
//	  set    = { epochs = 1 }
//	}
package project

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/source"

	"github.com/qpipe/qpipe/internal/bounded"
)

// DefaultFile is the project file `qpipe run NAME` reads.
const DefaultFile = "qpipe.hcl"

// Project is a parsed qpipe.hcl. Paths inside it (recipes, model files,
// dataset folders, out) are resolved against Dir.
type Project struct {
	Source   *source.File
	Dir      string
	Models   map[string]*Model
	Datasets map[string]*Dataset
	Runs     map[string]*Run
	// Executors are the `executor "slurm" { ... }` blocks (executor.go).
	Executors map[string]*Executor
}

// Model is a `model "NAME" { source = "cnn" }` or `{ path = "m.safetensors" }` block.
type Model struct {
	Name   string
	Source string // zoo architecture
	Path   string // model file, resolved against the project's folder
	Span   source.Span
}

// Ref is what a run binds: the zoo name or the resolved path.
func (m *Model) Ref() string {
	if m.Path != "" {
		return m.Path
	}
	return m.Source
}

// Dataset is a `dataset "NAME" { source = "mnist" ... }` block.
type Dataset struct {
	Name      string
	Source    string // built-in dataset or format word (idx, cifar10, imagefolder, npy)
	Path      string // folder for format words, resolved
	Subset    int
	ValSplit  float64
	Augment   bool
	Batch     int
	Normalize [][]float64 // [means, stds]; nil for none
	Span      source.Span
}

// Run is a `run "NAME" { recipe = ... }` block.
type Run struct {
	Name   string
	Recipe string // resolved against the project's folder
	Model  *Model
	Data   *Dataset
	// Set are --set values in recipe syntax ("2", "1e-3", "5ms").
	Set    map[string]string
	Device string
	Out    string // resolved; "" when not written
	Seed   *uint64
	Span   source.Span
}

// Load reads and decodes a project file.
func Load(path string) (*Project, diag.Diagnostics) {
	b, err := bounded.ReadFile(path)
	if err != nil {
		return nil, diag.Diagnostics{{Severity: diag.Error, Summary: fmt.Sprintf("cannot read project file %s: %v", path, unwrap(err))}}
	}
	return Parse(path, b)
}

// Parse decodes project text; name is used in diagnostics and anchors
// relative paths.
func Parse(name string, text []byte) (*Project, diag.Diagnostics) {
	p := &Project{Source: source.NewFile(name, text), Dir: filepath.Dir(name),
		Models: map[string]*Model{}, Datasets: map[string]*Dataset{}, Runs: map[string]*Run{}, Executors: map[string]*Executor{}}
	if hds := checkDepth(name, text); hds.HasErrors() {
		return p, p.diags(hds)
	}
	f, hds := hclsyntax.ParseConfig(text, name, hcl.InitialPos)
	if hds.HasErrors() {
		return p, p.diags(hds)
	}
	content, hds := f.Body.Content(rootSchema)
	ds := p.diags(hds)
	d := &decoder{p: p}
	for _, kind := range []string{"model", "dataset", "run", "executor"} { // runs refer to models and datasets
		for _, b := range content.Blocks.OfType(kind) {
			ds = append(ds, d.block(b)...)
		}
	}
	return p, ds
}

// RunNames lists the project's runs, sorted.
func (p *Project) RunNames() []string {
	names := make([]string, 0, len(p.Runs))
	for n := range p.Runs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var rootSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "model", LabelNames: []string{"name"}},
	{Type: "dataset", LabelNames: []string{"name"}},
	{Type: "run", LabelNames: []string{"name"}},
	{Type: "executor", LabelNames: []string{"name"}},
}}

// span maps an HCL range onto the project's source positions.
func (p *Project) span(r *hcl.Range) source.Span {
	if r == nil {
		return source.Span{}
	}
	return source.Span{File: p.Source.Name,
		Start: source.Pos{Offset: r.Start.Byte, Line: r.Start.Line, Column: r.Start.Column},
		End:   source.Pos{Offset: r.End.Byte, Line: r.End.Line, Column: r.End.Column}}
}

// diags maps HCL diagnostics to qpipe's.
func (p *Project) diags(hds hcl.Diagnostics) diag.Diagnostics {
	var out diag.Diagnostics
	for _, h := range hds {
		sev := diag.Error
		if h.Severity == hcl.DiagWarning {
			sev = diag.Warning
		}
		out = append(out, &diag.Diagnostic{Severity: sev, Summary: h.Summary, Detail: h.Detail, Span: p.span(h.Subject)})
	}
	return out
}

func (p *Project) errorf(r hcl.Range, detail, format string, args ...any) *diag.Diagnostic {
	return diag.Errorf(p.span(&r), fmt.Sprintf(format, args...)).WithDetail(detail)
}

func (p *Project) path(rel string) string {
	if rel == "" || filepath.IsAbs(rel) {
		return rel
	}
	return filepath.Join(p.Dir, rel)
}

func unwrap(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
