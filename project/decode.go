package project

import (
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/qpipe/qpipe/lang/diag"
)

// decoder turns blocks into the project's values.
type decoder struct {
	p *Project
}

var schemas = map[string]*hcl.BodySchema{
	"model": {Attributes: []hcl.AttributeSchema{{Name: "source"}, {Name: "path"}}},
	"dataset": {Attributes: []hcl.AttributeSchema{{Name: "source", Required: true}, {Name: "path"}, {Name: "subset"},
		{Name: "val_split"}, {Name: "augment"}, {Name: "batch"}, {Name: "normalize"}}},
	"run": {Attributes: []hcl.AttributeSchema{{Name: "recipe", Required: true}, {Name: "model"}, {Name: "data"},
		{Name: "set"}, {Name: "device"}, {Name: "out"}, {Name: "seed"}}},
	"executor": executorSchema,
}

func (d *decoder) block(b *hcl.Block) diag.Diagnostics {
	content, hds := b.Body.Content(schemas[b.Type])
	ds := d.p.diags(hds)
	if hds.HasErrors() {
		return ds
	}
	name := b.Labels[0]
	if d.defined(b.Type, name) {
		return append(ds, d.p.errorf(b.LabelRanges[0], "each "+b.Type+" name is defined once in a project", "%s %q is defined twice", b.Type, name))
	}
	a := &attrs{d: d, m: content.Attributes}
	switch b.Type {
	case "model":
		d.model(a, name, b)
	case "dataset":
		d.dataset(a, name, b)
	case "run":
		d.run(a, name, b)
	case "executor":
		d.executor(a, name, b)
	}
	return append(ds, a.ds...)
}

func (d *decoder) defined(kind, name string) bool {
	switch kind {
	case "model":
		return d.p.Models[name] != nil
	case "dataset":
		return d.p.Datasets[name] != nil
	case "executor":
		return d.p.Executors[name] != nil
	}
	return d.p.Runs[name] != nil
}

func (d *decoder) model(a *attrs, name string, b *hcl.Block) {
	m := &Model{Name: name, Source: a.str("source"), Path: d.p.path(a.str("path")), Span: d.p.span(&b.DefRange)}
	if (m.Source == "") == (m.Path == "") {
		a.ds = append(a.ds, d.p.errorf(b.DefRange, `write source = "cnn" for a built-in architecture, or path = "model.safetensors" for a file`,
			"model %q needs exactly one of source and path", name))
	}
	d.p.Models[name] = m
}

func (d *decoder) dataset(a *attrs, name string, b *hcl.Block) {
	ds := &Dataset{Name: name, Source: a.str("source"), Path: d.p.path(a.str("path")), Subset: a.int("subset"),
		ValSplit: a.float("val_split"), Augment: a.bool("augment"), Batch: a.int("batch"), Normalize: a.normalize("normalize"),
		Span: d.p.span(&b.DefRange)}
	d.p.Datasets[name] = ds
}

func (d *decoder) run(a *attrs, name string, b *hcl.Block) {
	r := &Run{Name: name, Recipe: d.p.path(a.str("recipe")), Device: a.str("device"), Out: d.p.path(a.str("out")),
		Set: a.set("set"), Span: d.p.span(&b.DefRange)}
	if a.has("seed") {
		s := uint64(a.int("seed"))
		r.Seed = &s
	}
	if a.has("model") {
		r.Model = a.modelRef("model")
	}
	if a.has("data") {
		r.Data = a.datasetRef("data")
	}
	if r.Device != "" && r.Device != "cpu" && r.Device != "cuda" {
		a.ds = append(a.ds, d.p.errorf(a.m["device"].Expr.Range(), "the devices are cpu and cuda", "unknown device %q", r.Device))
	}
	d.p.Runs[name] = r
}

// attrs reads a block's attributes, collecting diagnostics.
type attrs struct {
	d  *decoder
	m  hcl.Attributes
	ds diag.Diagnostics
}

func (a *attrs) has(name string) bool { return a.m[name] != nil }

// value evaluates an attribute with no variables (references are read as
// traversals by modelRef and datasetRef).
func (a *attrs) value(name string, want cty.Type) (cty.Value, bool) {
	at := a.m[name]
	if at == nil {
		return cty.NilVal, false
	}
	v, hds := at.Expr.Value(nil)
	if hds.HasErrors() {
		a.ds = append(a.ds, a.d.p.diags(hds)...)
		return cty.NilVal, false
	}
	if want != cty.DynamicPseudoType && !v.Type().Equals(want) {
		a.ds = append(a.ds, a.d.p.errorf(at.Expr.Range(), fmt.Sprintf("write %s = %s", name, example(want)),
			"%s must be %s, not %s", name, typeNoun(want), typeNoun(v.Type())))
		return cty.NilVal, false
	}
	if v.IsNull() {
		return cty.NilVal, false
	}
	return v, true
}

func (a *attrs) str(name string) string {
	if v, ok := a.value(name, cty.String); ok {
		return v.AsString()
	}
	return ""
}

func (a *attrs) bool(name string) bool {
	if v, ok := a.value(name, cty.Bool); ok {
		return v.True()
	}
	return false
}

func (a *attrs) float(name string) float64 {
	if v, ok := a.value(name, cty.Number); ok {
		f, _ := v.AsBigFloat().Float64()
		return f
	}
	return 0
}

func (a *attrs) int(name string) int {
	v, ok := a.value(name, cty.Number)
	if !ok {
		return 0
	}
	i, acc := v.AsBigFloat().Int64()
	if acc != big.Exact || i < 0 {
		a.ds = append(a.ds, a.d.p.errorf(a.m[name].Expr.Range(), "", "%s must be a whole number of at least 0", name))
		return 0
	}
	return int(i)
}

// normalize reads [MEAN, STD] or [[means...], [stds...]].
func (a *attrs) normalize(name string) [][]float64 {
	v, ok := a.value(name, cty.DynamicPseudoType)
	if !ok {
		return nil
	}
	bad := func() [][]float64 {
		a.ds = append(a.ds, a.d.p.errorf(a.m[name].Expr.Range(), "for example normalize = [0.1307, 0.3081] or [[0.49, 0.48, 0.45], [0.25, 0.24, 0.26]]",
			"normalize takes [MEAN, STD] or [[MEANS...], [STDS...]]"))
		return nil
	}
	if !v.CanIterateElements() || v.LengthInt() != 2 {
		return bad()
	}
	var out [][]float64
	for _, e := range v.AsValueSlice() {
		nums, ok := numbers(e)
		if !ok {
			return bad()
		}
		out = append(out, nums)
	}
	if len(out[0]) != len(out[1]) {
		return bad()
	}
	return out
}

func numbers(v cty.Value) ([]float64, bool) {
	if v.Type() == cty.Number {
		f, _ := v.AsBigFloat().Float64()
		return []float64{f}, true
	}
	if !v.CanIterateElements() {
		return nil, false
	}
	var out []float64
	for _, e := range v.AsValueSlice() {
		if e.Type() != cty.Number {
			return nil, false
		}
		f, _ := e.AsBigFloat().Float64()
		out = append(out, f)
	}
	return out, len(out) > 0
}

// set reads `set = { epochs = 2, lr = 1e-3, budget = "5ms" }` as --set
// values in recipe syntax: numbers and bools as written, strings verbatim
// (so "5ms" or "[2, 3]" are recipe expressions).
func (a *attrs) set(name string) map[string]string {
	v, ok := a.value(name, cty.DynamicPseudoType)
	if !ok {
		return nil
	}
	if !v.Type().IsObjectType() && !v.Type().IsMapType() {
		a.ds = append(a.ds, a.d.p.errorf(a.m[name].Expr.Range(), "for example set = { epochs = 2, lr = 1e-3 }", "set must be an object of let values"))
		return nil
	}
	out := map[string]string{}
	for k, e := range v.AsValueMap() {
		switch e.Type() {
		case cty.Number:
			out[k] = e.AsBigFloat().Text('g', -1)
		case cty.Bool:
			out[k] = fmt.Sprint(e.True())
		case cty.String:
			out[k] = e.AsString()
		default:
			a.ds = append(a.ds, a.d.p.errorf(a.m[name].Expr.Range(), "write numbers, true/false, or recipe text in a string", "set.%s must be a number, bool or string", k))
		}
	}
	return out
}

// modelRef resolves `model = model.NAME`.
func (a *attrs) modelRef(name string) *Model {
	label, ok := a.ref(name, "model")
	if !ok {
		return nil
	}
	m := a.d.p.Models[label]
	if m == nil {
		a.ds = append(a.ds, a.undefined(name, "model", label, keys(a.d.p.Models)))
	}
	return m
}

// datasetRef resolves `data = dataset.NAME`.
func (a *attrs) datasetRef(name string) *Dataset {
	label, ok := a.ref(name, "dataset")
	if !ok {
		return nil
	}
	d := a.d.p.Datasets[label]
	if d == nil {
		a.ds = append(a.ds, a.undefined(name, "dataset", label, keys(a.d.p.Datasets)))
	}
	return d
}

// ref reads a KIND.NAME traversal.
func (a *attrs) ref(name, kind string) (string, bool) {
	at := a.m[name]
	tr, hds := hcl.AbsTraversalForExpr(at.Expr)
	if hds.HasErrors() || len(tr) != 2 || tr.RootName() != kind {
		a.ds = append(a.ds, a.d.p.errorf(at.Expr.Range(), fmt.Sprintf("refer to a %s block by name: %s = %s.NAME", kind, name, kind),
			"%s must be a reference to a %s block", name, kind))
		return "", false
	}
	attr, ok := tr[1].(hcl.TraverseAttr)
	if !ok {
		a.ds = append(a.ds, a.d.p.errorf(at.Expr.Range(), "", "%s must be %s.NAME", name, kind))
		return "", false
	}
	return attr.Name, true
}

func (a *attrs) undefined(attr, kind, label string, known []string) *diag.Diagnostic {
	detail := fmt.Sprintf("define it with %s %q { ... }", kind, label)
	if len(known) > 0 {
		detail += "; defined: " + strings.Join(known, ", ")
	}
	return a.d.p.errorf(a.m[attr].Expr.Range(), detail, "no %s named %q in this project", kind, label)
}

func keys[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func typeNoun(t cty.Type) string {
	switch {
	case t == cty.String:
		return "a string"
	case t == cty.Number:
		return "a number"
	case t == cty.Bool:
		return "true or false"
	case t.IsObjectType() || t.IsMapType():
		return "an object"
	case t.IsTupleType() || t.IsListType():
		return "a list"
	}
	return t.FriendlyName()
}

func example(t cty.Type) string {
	switch t {
	case cty.String:
		return `"..."`
	case cty.Bool:
		return "true"
	}
	return "1"
}
