package stdlib

import (
	"slices"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
)

func TestSignaturesAreValid(t *testing.T) {
	for _, sig := range Signatures() {
		for _, err := range check.ValidateSignature(sig) {
			t.Error(err)
		}
	}
}

func TestVocabularyIsComplete(t *testing.T) {
	want := []string{"adapt", "adcorda", "correct", "data", "distill", "evaluate", "expect", "export",
		"finetune", "for", "let", "model", "prune", "quantize", "repeat", "replace", "snapshot", "train"}
	if got := Env().Verbs(); !slices.Equal(got, want) {
		t.Errorf("verbs = %v", got)
	}
	sigs := Signatures()
	for i, s := range sigs {
		if s.Verb != want[i] {
			t.Errorf("Signatures()[%d] = %s, want %s", i, s.Verb, want[i])
		}
		if got, ok := Lookup(s.Verb); !ok || got != s {
			t.Errorf("Lookup(%s) disagrees with Signatures", s.Verb)
		}
	}
	if _, ok := Lookup("quantise"); ok {
		t.Error("Lookup of an unknown verb succeeded")
	}
}

// Every argument and slot has a doc line, so `qpipe help` never prints a
// bare name.
func TestEveryParamIsDocumented(t *testing.T) {
	for _, sig := range Signatures() {
		params := slices.Concat(sig.Slots, sig.Params)
		for _, v := range sig.Variants {
			params = slices.Concat(params, v.Slots, v.Params)
			if v.Doc == "" {
				t.Errorf("%s %s: no doc", sig.Verb, v.Name)
			}
		}
		for _, p := range params {
			if p.Doc == "" && p.Type != check.TKeyword {
				t.Errorf("%s: %s has no doc", sig.Verb, p.Name)
			}
		}
	}
}

// The examples help prints must check clean after a prelude that gives
// them a model, data, a teacher snapshot, a corrected set and metrics.
func TestExamplesCheckClean(t *testing.T) {
	prelude := "model resnet20\ndata mnist\ntrain epochs=1\nsnapshot teacher\nsnapshot trained\ncorrect\nevaluate accuracy latency size\n"
	for _, sig := range Signatures() {
		examples := slices.Clone(sig.Examples)
		for _, v := range sig.Variants {
			examples = append(examples, v.Examples...)
		}
		if len(examples) == 0 {
			t.Errorf("%s has no example", sig.Verb)
		}
		texts := []string{prelude + strings.Join(examples, "\n")}
		switch sig.Verb {
		case "model":
			texts = examples[:1]
		case "quantize": // alternatives: quantizing twice is an error
			texts = texts[:0]
			for _, ex := range examples {
				texts = append(texts, prelude+ex)
			}
		}
		for _, text := range texts {
			_, ds := check.CheckSource(sig.Verb+".qpipe", []byte(text), Env(), check.Options{})
			if ds.HasErrors() {
				t.Errorf("%s examples:\n%v", sig.Verb, ds)
			}
		}
	}
}

func TestDefaultsAndEffects(t *testing.T) {
	rec, ds := check.CheckSource("t.qpipe", []byte("model mlp\ndata mnist\nquantize bits=4\nevaluate\nexport onnx \"m.onnx\""), Env(), check.Options{})
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	q := rec.Steps[2]
	if q.Variant != "uniform" || q.Args["method"].Str != "minmax" || q.Args["activation_bits"].Int != 4 || !q.Explicit["bits"] || q.Explicit["method"] {
		t.Errorf("quantize bits=4: variant %s, args %v, explicit %v", q.Variant, q.Args, q.Explicit)
	}
	if e := q.Effects(); !e.NeedsData || !e.ChangesModel || !e.Trains {
		t.Errorf("uniform effects = %+v", e)
	}
	if got := rec.Steps[3].Metrics; !slices.Equal(got, []string{"accuracy", "loss"}) {
		t.Errorf("evaluate with no word records %v", got)
	}
	if got := rec.Steps[4].Args["representation"].Str; got != "auto" {
		t.Errorf("representation = %s", got)
	}
}
