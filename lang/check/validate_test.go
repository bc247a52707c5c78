package check

import (
	"strings"
	"testing"
)

func TestValidateSignature(t *testing.T) {
	bad := &Signature{Verb: "bad", Summary: "s", Doc: "d", DefaultVariant: "nope",
		Slots: []Param{{Name: "many", Type: TEnum, Values: []string{"a"}, Repeated: true}, {Name: "after", Type: TName}},
		Params: []Param{
			{Name: "bits", Type: TInt, Default: 0, Min: f64(1), Max: f64(8)},
			{Name: "mode", Type: TEnum},
			{Name: "mode", Type: TEnum, Values: []string{"x"}, Default: "y"},
		},
		Metrics: []Metric{{Name: "m", Type: TString}},
	}
	want := []string{
		`bad: default variant "nope" does not exist`,
		"bad: slot after follows a repeated slot",
		"bad: bits: default 0 fails its own check: bits must be between 1 and 8",
		"bad: mode: incomplete type (values, element type or calls missing)",
		"bad: argument mode is declared twice",
		`bad: mode: default y fails its own check: unknown value "y" for mode`,
		"bad: metric m has a type expect cannot compare",
	}
	var got []string
	for _, err := range ValidateSignature(bad) {
		got = append(got, err.Error())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for verb, sig := range env {
		s := *sig
		s.Summary, s.Doc = "s", "d"
		for _, err := range ValidateSignature(&s) {
			t.Errorf("%s: %v", verb, err)
		}
	}
}
