package repl

import "testing"

func TestIncomplete(t *testing.T) {
	for text, want := range map[string]bool{
		"repeat 3 {\n":                       true,
		"repeat 3 {\n distill\n}\n":          false,
		"quantize bits=[2,\n":                true,
		"export onnx \"a{b\"\n":              false,
		"replace gelu with relu # {\n":       false,
		"for b in [2, 3] {\n  repeat 2 {\n}": true,
	} {
		if got := Incomplete(text); got != want {
			t.Errorf("Incomplete(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestHistoryLine(t *testing.T) {
	for text, want := range map[string]string{
		"repeat 3 {\n  distill # x\n  snapshot s\n}\n": "repeat 3 { distill; snapshot s; }",
		"quantize bits=[2,\n 3\n]\n":                   "quantize bits=[2, 3 ]",
		"model lenet\n":                                "model lenet",
	} {
		if got := HistoryLine(text); got != want {
			t.Errorf("HistoryLine(%q) = %q, want %q", text, got, want)
		}
	}
}
