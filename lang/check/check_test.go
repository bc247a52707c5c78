package check

import (
	"strings"
	"testing"
)

// Each case checks prelude + src (so src starts on line 2) and lists the
// exact diagnostics: span, severity, summary and detail.
var checkCases = []struct {
	name, src, want string
}{
	{"unknown verb", "fitt epochs=2",
		`2:1-2:5 error: unknown verb "fitt" [did you mean "fit"? known verbs: feed, fit, load, measure, name, save, squash, swap, ...]`},
	{"unknown enum word", "swap gleu with relu",
		`2:6-2:10 error: unknown activation "gleu" [did you mean "gelu"? known activations: gelu, relu]`},
	{"keyword", "swap gelu to relu",
		`2:11-2:13 error: expected "with", not "to"`},
	{"missing word", "swap gelu",
		`2:1-2:10 error: swap is missing the word "with" [usage: swap FROM with TO]`},
	{"too many words", "name a b",
		`2:8-2:9 error: too many words: name takes one word [usage: name NAME]`},
	{"unknown argument", "fit epoch=2",
		`2:5-2:10 error: unknown argument "epoch" for fit [did you mean "epochs"? known arguments: epochs, lr, opt, ratio, keep, budget, cap, eps, ...]`},
	{"argument of another variant", "squash v2 bits=3",
		`2:11-2:15 error: unknown argument "bits" for squash v2 [bits is an argument of squash v1, not of squash v2; known arguments: level]`},
	{"duplicate argument", "fit lr=0.1 lr=0.2",
		`2:12-2:18 error: duplicate argument "lr" [lr is already given at 2:5; keep one]`},
	{"int wants integer", "fit epochs=2.0",
		`2:12-2:15 error: epochs must be an integer, not a float`},
	{"float takes int", "fit lr=1", ""},
	{"float rejects percent", "fit lr=5%",
		`2:8-2:10 error: lr must be a number, not a percent`},
	{"string for number", `fit lr="x"`,
		`2:8-2:11 error: lr must be a number, not a string`},
	{"int range", "fit epochs=0",
		`2:12-2:13 error: epochs must be between 1 and 100 [got 0]`},
	{"open lower bound", "fit lr=0",
		`2:8-2:9 error: lr must be greater than 0 [got 0]`},
	{"negative", "fit lr=-1e-3",
		`2:8-2:13 error: lr must be greater than 0 [got -0.001]`},
	{"open upper bound", "fit ratio=100%",
		`2:11-2:15 error: ratio must be at least 0 and less than 1 [got 100%; a fraction is written 0.5 or 50%]`},
	{"fraction default range", "fit keep=1.5",
		`2:10-2:13 error: keep must be between 0 and 1 [got 1.5; a fraction is written 0.5 or 50%]`},
	{"wrong unit", "fit budget=5MB",
		`2:12-2:15 error: budget takes a time (ns, us, ms, s, min, h), not a size (MB) [times are written like 5ms, 2s or 300us; sizes like 2MB, 512KiB or 1GB]`},
	{"unknown unit", "fit cap=3parsecs",
		`2:9-2:17 error: unknown unit "parsecs" in 3parsecs [times are written like 5ms, 2s or 300us; sizes like 2MB, 512KiB or 1GB]`},
	{"bare number is seconds", "fit budget=2 cap=1024", ""},
	{"list element", "fit eps=[0.1, 0]",
		`2:15-2:16 error: eps must be greater than 0 [got 0]`},
	{"list enum element", "fit tags=[x, z]",
		`2:14-2:15 error: unknown tag "z" [known tags: x, y]`},
	{"scalar for list", "fit eps=0.5 tags=x", ""},
	{"call argument range", "fit cal=pct(101)",
		`2:13-2:16 error: P must be between 0 and 100 [got 101]`},
	{"call needs arguments", "fit cal=pct",
		`2:9-2:12 error: pct needs arguments: pct(P, k)`},
	{"call named argument", "fit cal=pct(99, q=1)",
		`2:17-2:18 error: unknown argument "q" for pct(P, k)`},
	{"bool", "fit flag=maybe",
		`2:10-2:15 error: flag must be true or false, not the name maybe`},
	{"empty path", `fit out=""`,
		`2:9-2:11 error: out must not be empty`},
	{"undefined parameter", "fit epochs=n",
		`2:12-2:13 error: undefined parameter "n" [define it above with ` + "`let n = ...`, or loop over it with `for n in [...] { ... }`]"},
	{"let substitution and arithmetic", "let n = 2\nlet lr = 1e-3 * n\nfit epochs=n * 3 lr=lr", ""},
	{"let value out of range", "let n = 200\nfit epochs=n",
		`3:12-3:13 error: epochs must be between 1 and 100 [got 200]`},
	{"let redefinition", "let n = 1\nlet n = 2",
		`3:5-3:6 error: "n" is already defined [n is a let at line 2; pick another name (to change a let from outside, use --set n=...)]`},
	{"let of run-time state", "let a = original.acc",
		`2:9-2:21 error: a let value must be known before the run [references to snapshots and metrics are measured during the run; use them in expect]`},
	{"quantity arithmetic", "let t = 1s + 5MB",
		`2:12-2:13 error: cannot add a time and a size`},
	{"loop variable in body only", "for e in 1..3 { fit epochs=e }\nfit epochs=e",
		`3:12-3:13 error: undefined parameter "e" [define it above with ` + "`let e = ...`, or loop over it with `for e in [...] { ... }`]"},
	{"each loop value checked", "for e in [1, 500] { fit epochs=e }",
		`2:32-2:33 error: epochs must be between 1 and 100 [got 500]`},
	{"loop variable picks a variant", "for v in [v1, v2] { squash v bits=2 }",
		`2:30-2:34 error: unknown argument "bits" for squash v2 [bits is an argument of squash v1, not of squash v2; known arguments: level]`},
	{"branches are independent", "for b in [1, 2] { squash bits=b }", ""},
	{"repeat count", "repeat 0 { fit }",
		`2:8-2:9 error: repeat count must be at least 1 [got 0]`},
	{"repeat checks the second iteration", "repeat 2 { squash bits=4 }",
		`2:12-2:25 error: squashed twice [first at line 2]`},
	{"sweep too large", "for a in 1..200 { for b in 1..100 { fit } }",
		`2:28-2:34 error: this sweep makes 20000 branches, more than 10000 [each branch runs the rest of the block on its own model; sweep fewer values]`},
	{"nested repeats stay linear", "repeat 2 { repeat 2 { repeat 2 { fit } } }", ""},
	{"variant required", "save",
		`2:1-2:5 error: save needs a format: raw [usage: save raw]`},
	{"unknown variant", "save zip",
		`2:6-2:9 error: unknown format "zip" [known formats: raw]`},
	{"unknown snapshot", "teach from=orignal",
		`2:12-2:19 error: unknown snapshot "orignal" [did you mean "original"? known snapshots: original]`},
	{"snapshot as string", `teach from="original"`,
		`2:12-2:22 error: from must be a bare name, not a string [write it without quotes: original]`},
	{"expect unknown metric", "measure acc\nexpect ac > 0.5",
		`3:8-3:10 error: unknown metric "ac" [did you mean "acc"? known metrics: acc, bytes, time]`},
	{"expect never evaluated", "measure acc\nexpect time < 1ms",
		"3:8-3:12 error: time is never evaluated before this expect [add `measure time` above this line]"},
	{"expect stale metric", "measure\nfit\nexpect acc > 0.5",
		`4:8-4:11 warning: acc was evaluated at line 2, before the model changed at line 3 [this expect reads that older value; evaluate again after line 3 to check the current model]`},
	{"expect snapshot metric lazily", "name t\nfit\nmeasure acc\nexpect acc >= t.acc - 1%", ""},
	{"expect snapshot metric never evaluated", "name t\nmeasure time\nfit\nexpect t.acc > 0.5",
		"5:8-5:13 error: t.acc is never evaluated [add `measure acc` right after `snapshot t`, or on the current model above this expect (the run then measures t the same way)]"},
	{"expect unit families", "measure time bytes\nexpect time < 5 or bytes > 1s",
		"3:13-3:14 error: cannot compare a time with a number [write the unit on the bound: `latency < 5ms`, `size <= 2MB`]\n" +
			"3:26-3:27 error: cannot compare a size with a time [write the unit on the bound: `latency < 5ms`, `size <= 2MB`]"},
	{"expect needs a condition", "measure\nexpect acc * 2",
		"3:8-3:15 error: expect needs a condition, not a number [compare a metric with a bound, such as `expect accuracy >= 0.9` or `expect latency < 5ms`]"},
	{"expect fraction bound", "measure\nexpect acc > 95",
		`3:14-3:16 warning: acc is a fraction between 0 and 1, so it is never compared with 95 [write 95% or 0.95]`},
	{"expect with params", "let floor = 90%\nmeasure acc time\nexpect acc >= floor and time <= 2 * 5ms", ""},
}

func TestCheckCases(t *testing.T) {
	for _, tc := range checkCases {
		t.Run(tc.name, func(t *testing.T) {
			_, ds := checkText(t, prelude+tc.src, Options{})
			got := strings.TrimSpace(render(ds))
			if got != tc.want {
				t.Errorf("src:\n%s\ngot:\n%s\nwant:\n%s", tc.src, got, tc.want)
			}
		})
	}
}
