package run

import (
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/stdlib"
)

// blocks are executed by the plan itself (repeat unrolled, for forked).
var blocks = map[string]bool{"repeat": true, "for": true}

// forms lists a signature's steps to try: the verb, each variant, and
// each value of an enum word slot, named as CheckedOnly names them.
func forms(sig *check.Signature) map[string]*check.Step {
	out := map[string]*check.Step{}
	base := func(variant string) *check.Step {
		return &check.Step{Kind: check.KCommand, Verb: sig.Verb, Variant: variant, Sig: sig,
			Words: map[string]check.Value{}, Args: map[string]check.Value{}, Explicit: map[string]bool{}}
	}
	variants := []string{""}
	for _, v := range sig.Variants {
		variants = append(variants, v.Name)
	}
	for _, v := range variants {
		name := strings.TrimSpace(sig.Verb + " " + v)
		if v != "" || len(sig.Variants) == 0 {
			out[name] = base(v)
		}
		for _, slot := range sig.Slots {
			if slot.Type != check.TEnum {
				continue
			}
			for _, word := range slot.Values {
				s := base(v)
				s.Words[slot.Name] = check.Value{Kind: check.VIdent, Str: word}
				out[sig.Verb+" "+word] = s
			}
		}
	}
	return out
}

func TestEverySignatureExecutesOrIsMarked(t *testing.T) {
	env, voc := stdlib.Env(), Vocabulary(stdlib.Env()).(check.Executability)
	for _, verb := range env.Verbs() {
		if blocks[verb] {
			continue
		}
		sig, _ := env.Lookup(verb)
		for name, step := range forms(sig) {
			what, _, not := voc.NotExecutable(step)
			if not && CheckedOnly[name] == "" && CheckedOnly[what] == "" {
				t.Errorf("%s (%q) is neither executable in this build nor listed in CheckedOnly", name, what)
			}
		}
	}
}

func TestCheckSaysWhatIsNotExecutable(t *testing.T) {
	text := "model cnn\ndata mnist\nfor b in [2, 3] {\n  replace relu with relu6\n}\nquantize int8\n"
	_, ds := check.CheckSource("r.qpipe", []byte(text), Vocabulary(stdlib.Env()), check.Options{})
	if len(ds) != 1 || ds.HasErrors() || ds[0].Summary != `checked, not executable in this build: "replace with activation relu6"` || ds[0].Span.Start.Line != 4 {
		t.Fatalf("diagnostics %v", ds)
	}
	if _, ds := check.CheckSource("r.qpipe", []byte(text), stdlib.Env(), check.Options{}); len(ds) != 0 {
		t.Errorf("the vocabulary alone knows nothing of execution: %v", ds)
	}
}
