package syntax

import (
	"strings"
	"testing"
)

func TestTokensTileTheText(t *testing.T) {
	text := "quantize int8 mode=qat # go\nexpect accuracy >= 98.5% ; x = 2MB\n\"s\" ~ rest"
	toks := Tokens([]byte(text))
	var kinds []string
	at := 0
	for _, tk := range toks {
		if tk.Start != at || tk.End <= tk.Start {
			t.Fatalf("token %+v does not start at %d", tk, at)
		}
		at = tk.End
		if tk.Kind != "Space" {
			kinds = append(kinds, tk.Kind+":"+text[tk.Start:tk.End])
		}
	}
	if at != len(text) {
		t.Fatalf("tokens end at %d of %d", at, len(text))
	}
	want := "Ident:quantize Ident:int8 Ident:mode Punct:= Ident:qat Comment:# go Newline:\n Ident:expect Ident:accuracy Op:>= " +
		"Percent:98.5% Punct:; Ident:x Punct:= Quantity:2MB Newline:\n String:\"s\" Invalid:~ rest"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("tokens\n got %s\nwant %s", got, want)
	}
}
