package check

import (
	"fmt"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/syntax"
)

// testEnv is a small vocabulary that exercises every kind of slot and
// argument, so the checker is tested without the standard library.
type testEnv map[string]*Signature

func (e testEnv) Lookup(verb string) (*Signature, bool) { s, ok := e[verb]; return s, ok }

func (e testEnv) Verbs() []string { return sortedKeys(e) }

func f64(x float64) *float64 { return &x }

var env = testEnv{
	"load": {Verb: "load", Slots: []Param{{Name: "name", Type: TNameOrPath, Values: []string{"alpha", "beta"}, Noun: "model"}},
		Effects: Effects{LoadsModel: true}},
	"feed": {Verb: "feed", Effects: Effects{LoadsData: true}},
	"fit": {Verb: "fit", Effects: Effects{NeedsModel: true, NeedsData: true, ChangesModel: true},
		Params: []Param{
			{Name: "epochs", Type: TInt, Default: 1, Min: f64(1), Max: f64(100)},
			{Name: "lr", Type: TFloat, Default: 1e-3, Min: f64(0), MinOpen: true},
			{Name: "opt", Type: TEnum, Default: "sgd", Values: []string{"sgd", "adamw"}},
			{Name: "ratio", Type: TFraction, MaxOpen: true, Min: f64(0), Max: f64(1)},
			{Name: "keep", Type: TFraction},
			{Name: "budget", Type: TDuration},
			{Name: "cap", Type: TBytes},
			{Name: "eps", Type: TList, Elem: TFloat, Min: f64(0), MinOpen: true},
			{Name: "tags", Type: TList, Elem: TEnum, Values: []string{"x", "y"}, Noun: "tag"},
			{Name: "cal", Type: TCall, Default: "minmax", Values: []string{"minmax"}, Noun: "calibration",
				Calls: []CallForm{{Name: "pct", Params: []Param{{Name: "P", Type: TFloat, Min: f64(0), Max: f64(100)}, {Name: "k", Type: TInt, Default: 2}}}}},
			{Name: "flag", Type: TBool, Default: false},
			{Name: "out", Type: TPath},
			{Name: "note", Type: TString},
		}},
	"name": {Verb: "name", Effects: Effects{NeedsModel: true}, Slots: []Param{{Name: "name", Type: TName}},
		Rules: func(st *State, s *Step) diag.Diagnostics { st.DefineSnapshot(s.Words["name"].Str, s); return nil }},
	"teach": {Verb: "teach", Effects: Effects{NeedsModel: true, ChangesModel: true},
		Params: []Param{{Name: "from", Type: TSnapshot, Default: "original"}}},
	"squash": {Verb: "squash", DefaultVariant: "v1", VariantNoun: "squasher", Effects: Effects{NeedsModel: true, ChangesModel: true},
		Variants: []Variant{
			{Name: "v1", Params: []Param{{Name: "bits", Type: TInt, Required: true, Min: f64(1), Max: f64(16)}}},
			{Name: "v2", Params: []Param{{Name: "level", Type: TInt, Default: 3}}},
		},
		Rules: func(st *State, s *Step) diag.Diagnostics {
			if q := st.Flag("squashed"); q != nil {
				return diag.Diagnostics{diag.Errorf(s.Span, "squashed twice").WithDetail(fmt.Sprintf("first at line %d", q.Line()))}
			}
			st.SetFlag("squashed", s)
			return nil
		}},
	"save": {Verb: "save", VariantNoun: "format", Effects: Effects{NeedsModel: true},
		Variants: []Variant{{Name: "raw", Slots: []Param{{Name: "path", Type: TPath}}}}},
	"measure": {Verb: "measure", Effects: Effects{NeedsModel: true},
		Slots: []Param{{Name: "what", Type: TEnum, Repeated: true, Default: []string{"acc"}, Values: []string{"acc", "time", "bytes"}, Noun: "metric"}},
		Metrics: []Metric{
			{Name: "acc", Type: TFraction, When: "acc"},
			{Name: "time", Type: TDuration, When: "time"},
			{Name: "bytes", Type: TBytes, When: "bytes"},
		}},
	"swap": {Verb: "swap", Effects: Effects{NeedsModel: true, ChangesModel: true}, Slots: []Param{
		{Name: "from", Type: TEnum, Values: []string{"gelu", "relu"}, Noun: "activation"},
		{Name: "with", Type: TKeyword, Values: []string{"with"}},
		{Name: "to", Type: TEnum, Values: []string{"gelu", "relu"}, Noun: "activation"},
	}},
}

// render prints diagnostics as "L:C-L:C severity: summary [detail]".
func render(ds diag.Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		s := d.Span
		fmt.Fprintf(&b, "%d:%d-%d:%d %s: %s", s.Start.Line, s.Start.Column, s.End.Line, s.End.Column, d.Severity, d.Summary)
		if d.Detail != "" {
			fmt.Fprintf(&b, " [%s]", d.Detail)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// checkText parses and checks src with the test vocabulary.
func checkText(t *testing.T, src string, opts Options) (*Recipe, diag.Diagnostics) {
	t.Helper()
	f, ds := syntax.ParseString("t.qpipe", src)
	if len(ds) > 0 {
		t.Fatalf("syntax errors: %v", ds)
	}
	return Check(f, env, opts)
}

const prelude = "load alpha; feed\n"
