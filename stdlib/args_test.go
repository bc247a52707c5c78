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
		{"evaluate robustness", "attacks batch corruptions eps pgd_steps seed severity"},
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
