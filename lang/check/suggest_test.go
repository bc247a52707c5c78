package check

import (
	"reflect"
	"testing"
)

func TestDistance(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"gelu", "gelu", 0}, {"gleu", "gelu", 1}, {"gelu", "relu", 1}, {"", "abc", 3},
		{"quantise", "quantize", 1}, {"epocs", "epochs", 1}, {"kitten", "sitting", 3}, {"ca", "abc", 3},
	}
	for _, c := range cases {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"gelu", "gelu_tanh", "relu", "silu", "hardswish"}
	cases := map[string][]string{
		"gleu":  {"gelu"},
		"GELU":  {"gelu", "relu", "gelu_tanh"},
		"hard":  {"hardswish"},
		"z":     nil,
		"swish": nil,
	}
	for name, want := range cases {
		got := Suggest(name, known)
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Suggest(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestDefaultValue(t *testing.T) {
	cases := []struct {
		p    Param
		want string
	}{
		{Param{Type: TInt, Default: 3}, "3"},
		{Param{Type: TFloat, Default: 3}, "3"},
		{Param{Type: TFloat, Default: 1e-3}, "0.001"},
		{Param{Type: TEnum, Default: "sgd"}, "sgd"},
		{Param{Type: TPath, Default: "a.onnx"}, `"a.onnx"`},
		{Param{Type: TBool, Default: true}, "true"},
		{Param{Type: TList, Elem: TInt, Default: []int{1, 64}}, "[1, 64]"},
		{Param{Type: TList, Elem: TEnum, Default: []string{"fgsm", "pgd"}}, "[fgsm, pgd]"},
		{Param{Type: TList, Elem: TFloat, Default: []float64{0.5}}, "[0.5]"},
	}
	for _, c := range cases {
		if got := valueText(DefaultValue(&c.p)); got != c.want {
			t.Errorf("%+v: %s, want %s", c.p, got, c.want)
		}
	}
	if v := DefaultValue(&Param{Type: TFloat, Default: 3}); v.Kind != VFloat {
		t.Errorf("an int default of a float param is %v", v.Kind)
	}
}
