package assist

import (
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/syntax"
	"github.com/qpipe/qpipe/repl/assist/assisttest"
)

// stateAfter checks text with the fixture vocabulary and returns the state.
func stateAfter(t *testing.T, text string) *check.State {
	t.Helper()
	f, ds := syntax.ParseString("t.qpipe", text)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	c := check.NewChecker(assisttest.New(), check.Options{})
	for _, s := range f.Stmts {
		if _, ds := c.Stmt(s); ds.HasErrors() {
			t.Fatal(ds)
		}
	}
	return c.State()
}

func texts(cs []Candidate) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Text)
	}
	return strings.Join(out, " ")
}

func TestComplete(t *testing.T) {
	st := stateAfter(t, "model lenet\nsnapshot teacher\nlet k = 2\nevaluate accuracy\n")
	for _, tc := range []struct{ text, partial, want string }{
		{"qu", "qu", "quantize"},
		{"", "", "data distill evaluate model quantize replace snapshot expect for let repeat"},
		{"quantize ", "", "log2 uniform bits= weights="},
		{"quantize log2 b", "b", "bits="},
		{"quantize log2 bits=3 ", "", "weights="},
		{"quantize weights=per_", "per_", "per_channel per_tensor"},
		{"replace gelu ", "", "with"},
		{"replace gelu with s", "s", "silu"},
		{"distill from=", "", "original teacher"},
		{"distill from=te", "te", "teacher"},
		{"distill iterations=", "", "k"},
		{"evaluate accuracy ", "", "accuracy latency"},
		{"model ", "", "lenet swin-micro"},
		{"model lenet; snapshot a\nqua", "qua", "quantize"},
		{"repeat 2 {\n  dis", "dis", "distill"},
		{"expect teacher.acc", "acc", "accuracy"},
		{"expect ", "", "original teacher k accuracy"},
		{"frobnicate ", "", ""},
	} {
		partial, cands := Complete(assisttest.New(), st, tc.text)
		if partial != tc.partial || texts(cands) != tc.want {
			t.Errorf("Complete(%q) = %q, [%s]; want %q, [%s]", tc.text, partial, texts(cands), tc.partial, tc.want)
		}
	}
}

func TestCompleteDetails(t *testing.T) {
	_, cands := Complete(assisttest.New(), nil, "distill it")
	if len(cands) != 1 || cands[0].Kind != KArg ||
		cands[0].Detail != "iterations: int in [1, 100], default 1 [rounds] — distillation rounds" {
		t.Fatalf("got %+v", cands)
	}
}

func TestFields(t *testing.T) {
	for stmt, want := range map[string]string{
		"quantize bits=[2, 3] ":       "quantize|bits=[2, 3]|",
		`export onnx "a b.onnx" x=pe`: `export|onnx|"a b.onnx"|x=pe`,
		"  q":                         "q",
		"":                            "",
	} {
		if got := strings.Join(Fields(stmt), "|"); got != want {
			t.Errorf("Fields(%q) = %q, want %q", stmt, got, want)
		}
	}
}

func TestSignatureDoc(t *testing.T) {
	sig, _ := assisttest.New().Lookup("distill")
	got := SignatureDoc(sig)
	for _, want := range []string{
		"distill — train against a teacher\n\nKnowledge distillation from a snapshot.\n",
		"  from: snapshot, required — the teacher snapshot\n",
		"  temperature: number > 0, default 4 — softmax temperature\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("SignatureDoc missing %q in:\n%s", want, got)
		}
	}
}
