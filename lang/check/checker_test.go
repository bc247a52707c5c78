package check

import (
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/syntax"
)

func stmt(t *testing.T, src string) syntax.Stmt {
	t.Helper()
	f, ds := syntax.ParseString("repl", src)
	if len(ds) > 0 || len(f.Stmts) != 1 {
		t.Fatalf("parse %q: %v", src, ds)
	}
	return f.Stmts[0]
}

func TestCheckerAdvancesOnlyWithoutErrors(t *testing.T) {
	c := NewChecker(env, Options{})
	for _, src := range []string{"load alpha", "feed", "name t"} {
		if _, ds := c.Stmt(stmt(t, src)); len(ds) > 0 {
			t.Fatalf("%s: %v", src, ds)
		}
	}
	if _, ds := c.Stmt(stmt(t, "name u extra")); !ds.HasErrors() {
		t.Fatal("want an error for an extra word")
	}
	if _, ok := c.State().Snapshots["u"]; ok {
		t.Error("a statement with errors defined snapshot u")
	}
	if got := len(c.Steps()); got != 3 {
		t.Errorf("steps = %d, want 3", got)
	}
	if _, ok := c.State().Snapshots["t"]; !ok {
		t.Error("snapshot t missing")
	}
}

func TestCheckerCloneIsIndependent(t *testing.T) {
	c := NewChecker(env, Options{ModelBound: true, DataBound: true})
	saved := c.Clone()
	if _, ds := c.Stmt(stmt(t, "squash bits=4")); len(ds) > 0 {
		t.Fatal(ds)
	}
	if _, ds := c.Stmt(stmt(t, "squash bits=4")); render(ds) != "1:1-1:14 error: squashed twice [first at line 1]\n" {
		t.Errorf("second squash: %s", render(ds))
	}
	if _, ds := saved.Stmt(stmt(t, "squash bits=4")); len(ds) > 0 {
		t.Errorf("the clone saw the original's squash: %v", ds)
	}
	if len(saved.Steps()) != 1 || len(c.Steps()) != 1 {
		t.Errorf("steps: clone %d, original %d", len(saved.Steps()), len(c.Steps()))
	}
}

func TestCheckerReportsMissingModelEveryTime(t *testing.T) {
	c := NewChecker(env, Options{DataBound: true})
	for range 2 {
		_, ds := c.Stmt(stmt(t, "fit"))
		want := "1:1-1:4 error: fit needs a model, and none is loaded [add `model NAME` (or `model \"file.onnx\"`) above this line, or pass --model]\n"
		if render(ds) != want {
			t.Errorf("got %s", render(ds))
		}
	}
}

func TestCheckReportsMissingModelOnce(t *testing.T) {
	_, ds := checkText(t, "feed\nfit\nfit\nteach", Options{})
	want := "2:1-2:4 error: fit needs a model, and none is loaded [add `model NAME` (or `model \"file.onnx\"`) above this line, or pass --model]\n"
	if render(ds) != want {
		t.Errorf("got %s", render(ds))
	}
}

func TestBoundModelAndData(t *testing.T) {
	rec, ds := checkText(t, "fit epochs=2\nteach from=original", Options{ModelBound: true, DataBound: true})
	if len(ds) > 0 {
		t.Fatal(render(ds))
	}
	if len(rec.Steps) != 2 {
		t.Fatalf("steps = %d", len(rec.Steps))
	}
}

func TestDefaultsAndExplicit(t *testing.T) {
	rec, ds := checkText(t, prelude+"fit epochs=3 eps=[0.1, 0.2] cal=pct(99.5)", Options{})
	if len(ds) > 0 {
		t.Fatal(render(ds))
	}
	s := rec.Steps[2]
	checks := []struct {
		name string
		got  string
		want string
	}{
		{"epochs", valueText(s.Args["epochs"]), "3"},
		{"lr", valueText(s.Args["lr"]), "0.001"},
		{"opt", valueText(s.Args["opt"]), "sgd"},
		{"flag", valueText(s.Args["flag"]), "false"},
		{"eps", valueText(s.Args["eps"]), "[0.1, 0.2]"},
		{"cal", valueText(s.Args["cal"]) + valueText(Value{Kind: VList, List: s.Args["cal"].List}), "pct[99.5, 2]"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %s, want %s", c.name, c.got, c.want)
		}
	}
	if !s.Explicit["epochs"] || s.Explicit["lr"] || !s.Explicit["cal"] {
		t.Errorf("explicit = %v", s.Explicit)
	}
	if _, ok := s.Args["ratio"]; ok {
		t.Error("ratio has no default and was not given, yet is set")
	}
}

func TestValuesAreNormalised(t *testing.T) {
	rec, ds := checkText(t, prelude+"fit keep=2.5% budget=250ms cap=2KiB lr=3", Options{})
	if len(ds) > 0 {
		t.Fatal(render(ds))
	}
	a := rec.Steps[2].Args
	if a["keep"].Float != 0.025 || a["keep"].Unit != "%" {
		t.Errorf("keep = %+v", a["keep"])
	}
	if a["budget"].Float != 0.25 || a["budget"].Unit != "ms" {
		t.Errorf("budget = %+v", a["budget"])
	}
	if a["cap"].Float != 2048 {
		t.Errorf("cap = %+v", a["cap"])
	}
	if a["lr"].Kind != VFloat || a["lr"].Float != 3 {
		t.Errorf("lr = %+v", a["lr"])
	}
}

func TestForBranchesAndRefs(t *testing.T) {
	rec, ds := checkText(t, prelude+"name t\nfor b in [2, 4, 8] { squash bits=b; measure acc\nexpect acc >= t.acc - 1% }", Options{})
	if len(ds) > 0 {
		t.Fatal(render(ds))
	}
	loop := rec.Steps[3]
	if loop.Kind != KFor || len(loop.Branches) != 3 || len(loop.Body) != 3 {
		t.Fatalf("loop = %+v", loop)
	}
	if got := loop.Branches[2][0].Args["bits"].Int; got != 8 {
		t.Errorf("third branch bits = %d", got)
	}
	refs := loop.Branches[0][2].Refs
	if len(refs) != 2 || refs[0].Metric != "acc" || refs[0].Snapshot != "" || refs[1].Snapshot != "t" || !refs[1].Lazy {
		t.Errorf("refs = %+v", refs)
	}
	if refs[1].Source != loop.Branches[0][1] {
		t.Error("the lazy ref's source is not the branch's measure step")
	}
}

func TestSnapshotRefNotLazyWhenEvaluatedThere(t *testing.T) {
	rec, ds := checkText(t, prelude+"measure\nname t\nfit\nmeasure\nexpect acc >= t.acc", Options{})
	if len(ds) > 0 {
		t.Fatal(render(ds))
	}
	refs := rec.Steps[6].Refs
	if len(refs) != 2 || refs[1].Lazy || refs[1].Source != rec.Steps[2] {
		t.Errorf("refs = %+v", refs)
	}
}

func TestSets(t *testing.T) {
	src := "let n = 2\nlet lr = 1e-3\nlet opt = sgd\nlet out = \"a.bin\"\nlet t = 5ms\nfit epochs=n lr=lr opt=opt out=out budget=t"
	rec, ds := checkText(t, prelude+src, Options{Sets: map[string]string{"n": "7", "lr": "2", "opt": "adamw", "out": "dir/b.bin", "t": "1s"}})
	if len(ds) > 0 {
		t.Fatal(render(ds))
	}
	a := rec.Steps[len(rec.Steps)-1].Args
	got := []string{valueText(a["epochs"]), valueText(a["lr"]), valueText(a["opt"]), valueText(a["out"]), valueText(a["budget"])}
	if strings.Join(got, " ") != `7 2 adamw "dir/b.bin" 1s` {
		t.Errorf("args = %v", got)
	}
	if rec.Lets["n"].Int != 7 {
		t.Errorf("lets = %v", rec.Lets)
	}
}

func TestSetErrors(t *testing.T) {
	cases := []struct{ key, val, want string }{
		{"nn", "3", `0:0-0:0 error: --set nn: the recipe has no ` + "`let nn`" + ` [did you mean "n"? known parameters: m, n, t, u]`},
		{"n", "2.5", `2:5-2:6 error: --set n=2.5: n is an integer [the let at line 2 gives 2; --set must give a value of the same kind]`},
		{"t", "5MB", `3:5-3:6 error: --set t=5MB: t is a time [the let at line 3 gives 5ms; --set must give a value of the same kind]`},
		{"n", "teacher.acc", `2:5-2:6 error: --set n=teacher.acc: n is an integer [the let at line 2 gives 2; --set must give a value of the same kind]`},
	}
	for _, c := range cases {
		// the later uses of n and t add no "undefined parameter"
		_, ds := checkText(t, prelude+"let n = 2\nlet t = 5ms\nlet m = n + 1\nlet u = t", Options{Sets: map[string]string{c.key: c.val}})
		if got := strings.TrimSpace(render(ds)); got != c.want {
			t.Errorf("--set %s=%s:\ngot  %s\nwant %s", c.key, c.val, got, c.want)
		}
	}
}

func TestCheckReportsEveryError(t *testing.T) {
	_, ds := checkText(t, prelude+"fit epochs=0\nswap gleu with relu\nteach from=x\nfitt", Options{})
	if len(ds) != 4 || ds.Count(diag.Error) != 4 {
		t.Errorf("want 4 errors, got:\n%s", render(ds))
	}
}

func TestUsage(t *testing.T) {
	cases := map[string]string{
		"swap":    "swap FROM with TO",
		"squash":  "squash v1|v2",
		"measure": "measure WHAT...",
	}
	for verb, want := range cases {
		if got := env[verb].Usage(""); got != want {
			t.Errorf("%s: %q, want %q", verb, got, want)
		}
	}
	if got := env["squash"].Usage("v1"); got != "squash v1 bits=BITS" {
		t.Errorf("squash v1: %q", got)
	}
}
