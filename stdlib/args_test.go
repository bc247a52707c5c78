package stdlib

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
)

// A statement carries only the arguments that apply to its words: an
// evaluate of accuracy has no attack, corruption or timing settings.
func TestArgumentsApplyToTheChosenWords(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"evaluate accuracy", "batch"},
		{"evaluate latency", "batch runs"},
		{"evaluate robustness", "attacks batch corruptions eps pgd_steps samples seed severity"},
		{"evaluate accuracy latency eps=[0.1]", "batch eps runs"},
	} {
		rec, ds := check.CheckSource("r.qpipe", []byte("model cnn\ndata mnist\n"+c.src+"\n"), Env(), check.Options{})
		if ds.HasErrors() {
			t.Fatalf("%s: %v", c.src, ds)
		}
		var names []string
		for k := range rec.Steps[2].Args {
			names = append(names, k)
		}
		sort.Strings(names)
		if got := strings.Join(names, " "); got != c.want {
			t.Errorf("%s: args %s, want %s", c.src, got, c.want)
		}
	}
	if !slices.Contains(evaluateSig().Params[2].When, "latency") {
		t.Error("budget does not apply to latency")
	}
}

// The data line's batch= is the default of the training verbs after it,
// resolved by the checker (so plan and run agree); evaluate keeps its own.
func TestDataLineBatchIsTheTrainingDefault(t *testing.T) {
	for _, c := range []struct {
		src  string
		want int64
	}{
		{"data mnist batch=128\ntrain", 128},
		{"data mnist batch=128\ntrain batch=32", 32},
		{"data mnist\ntrain", 64},
		{"data mnist batch=128\nquantize int8 mode=qat epochs=1", 128},
		{"data mnist batch=128\nsnapshot t\nreplace gelu with relu\ndistill from=t", 128},
		{"data mnist batch=128\nevaluate accuracy", 64},
	} {
		rec, ds := check.CheckSource("r.qpipe", []byte("model cnn\n"+c.src+"\n"), Env(), check.Options{})
		if ds.HasErrors() {
			t.Fatalf("%s: %v", c.src, ds)
		}
		last := rec.Steps[len(rec.Steps)-1]
		if got := last.Args["batch"].Int; got != c.want {
			t.Errorf("%s: batch %d, want %d", c.src, got, c.want)
		}
	}
}

// A bound dataset's batch (qpipe.hcl) wins over the data line's, for the
// data step itself and the steps that inherit it, and each says where
// its value comes from; without a data line the binding alone applies.
func TestBoundDatasetBatchIsResolvedByTheChecker(t *testing.T) {
	bound := check.Options{DataBound: true, DataArgs: map[string]check.Value{"batch": {Kind: check.VInt, Int: 16}}}
	for _, c := range []struct {
		src        string
		data, last int64
		from       string
	}{
		{"data mnist batch=128\ntrain", 16, 16, check.FromBinding},
		{"data mnist batch=128\ntrain batch=32", 16, 32, ""},
		{"data mnist\nquantize log2 bits=4 epochs=1", 16, 16, check.FromBinding},
		{"train", 0, 16, check.FromBinding},
	} {
		rec, ds := check.CheckSource("r.qpipe", []byte("model cnn\n"+c.src+"\n"), Env(), bound)
		if ds.HasErrors() {
			t.Fatalf("%s: %v", c.src, ds)
		}
		last := rec.Steps[len(rec.Steps)-1]
		if got := last.Args["batch"].Int; got != c.last || last.Inherited["batch"] != c.from {
			t.Errorf("%s: batch %d from %q, want %d from %q", c.src, got, last.Inherited["batch"], c.last, c.from)
		}
		if c.data != 0 {
			if got := rec.Steps[1].Args["batch"].Int; got != c.data {
				t.Errorf("%s: the data step opens batch %d, want the binding's %d", c.src, got, c.data)
			}
		}
	}
	rec, _ := check.CheckSource("r.qpipe", []byte("model cnn\ndata mnist batch=128\ntrain\n"), Env(), check.Options{})
	if from := rec.Steps[2].Inherited["batch"]; from != check.FromDataLine {
		t.Errorf("train's batch comes from %q, want the data line", from)
	}
}
