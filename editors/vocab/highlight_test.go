package vocab

import (
	"strings"
	"testing"
)

// classes renders the classified spans as "class:text" (plain spans and
// spaces left out).
func classes(v Vocab, text string) string {
	var parts []string
	for _, s := range v.Highlight([]byte(text)) {
		if s.Class != Plain {
			parts = append(parts, string(s.Class)+":"+text[s.Start:s.End])
		}
	}
	return strings.Join(parts, " ")
}

func TestHighlightFollowsTheGrammarRules(t *testing.T) {
	v := Load()
	text := "quantize int8 mode=qat # qat\nlet epochs = 3; train epochs=epochs\nfor b in [2, 4] { evaluate accuracy }\nexpect size < 2MB and accuracy >= 98.5%\nsnapshot train\n\"s\"\n"
	want := "verb:quantize word:int8 arg:mode assign:= word:qat comment:# qat " +
		"keyword:let assign:= number:3 verb:train arg:epochs assign:= " +
		"keyword:for keyword:in number:2 number:4 verb:evaluate word:accuracy " +
		"keyword:expect word:size operator:< number:2MB keyword:and word:accuracy operator:>= percent:98.5% " +
		"verb:snapshot string:\"s\""
	if got := classes(v, text); got != want {
		t.Errorf("classes\n got %s\nwant %s", got, want)
	}
}

func TestHighlightSpansTileTheText(t *testing.T) {
	text := "model mlp\ndata mnist ~ broken"
	at := 0
	for _, s := range Load().Highlight([]byte(text)) {
		if s.Start != at {
			t.Fatalf("span %+v starts at %d, want %d", s, s.Start, at)
		}
		at = s.End
	}
	if at != len(text) {
		t.Errorf("spans end at %d of %d", at, len(text))
	}
}

func TestEveryClassHasAScope(t *testing.T) {
	for _, c := range []Class{Comment, String, Keyword, Verb, Arg, Assign, Word, Percent, Number, Operator} {
		if !strings.HasSuffix(Scope[c], ".qpipe") {
			t.Errorf("class %q has scope %q", c, Scope[c])
		}
	}
}
