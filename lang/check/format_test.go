package check

import "testing"

func TestValueStringRendersKindsAsARecipeWould(t *testing.T) {
	for _, c := range []struct {
		v    Value
		want string
	}{
		{Value{Kind: VInt, Int: 3}, "3"},
		{Value{Kind: VFloat, Float: 0.005, Unit: "%"}, "0.5%"},
		{Value{Kind: VFloat, Float: 0.005, Unit: "ms"}, "0.005s"},
		{Value{Kind: VFloat, Float: 120, Unit: "min"}, "120s"},
		{Value{Kind: VFloat, Float: 2e6, Unit: "MB"}, "2e+06B"},
		{Value{Kind: VString, Str: "out/m.onnx"}, `"out/m.onnx"`},
		{Value{Kind: VCall, Str: "percentile", List: []Value{{Kind: VFloat, Float: 99.9}}}, "percentile(99.9)"},
		{Value{Kind: VList, List: []Value{{Kind: VIdent, Str: "fgsm"}, {Kind: VIdent, Str: "pgd"}}}, "[fgsm, pgd]"},
		{Value{Kind: VBool, Bool: true}, "true"},
	} {
		if got := c.v.String(); got != c.want {
			t.Errorf("%+v.String() = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestFormatMetricIsWhatPeopleRead(t *testing.T) {
	for _, c := range []struct {
		name string
		v    float64
		want string
	}{
		{"accuracy", 0.8050139275766016, "80.50%"},
		{"fgsm_accuracy", 0.5, "50.00%"},
		{"size_bytes", 123456, "123456"},
		{"params", 235146, "235146"},
		{"latency", 0.0012345, "1.234ms"},
		{"loss", 0.123456789, "0.1235"},
	} {
		if got := FormatMetric(c.name, c.v); got != c.want {
			t.Errorf("FormatMetric(%s, %v) = %q, want %q", c.name, c.v, got, c.want)
		}
	}
}
