package format

import (
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/syntax"
)

// TestLayoutRules pins one layout rule per case, with the exact output.
func TestLayoutRules(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"semicolons split statements", "a; b;c\n", "a\nb\nc\n"},
		{"single spaces between words", "replace   gelu\twith  relu\n", "replace gelu with relu\n"},
		{"no spaces around = in args", "train epochs = 5\n", "train epochs=5\n"},
		{"words and args keep source order", "quantize bits=3 log2 x=1 y\n", "quantize bits=3 log2 x=1 y\n"},
		{"spaces around let's =", "let x=3\n", "let x = 3\n"},
		{"spaces around binary operators", "expect a>=b-1*c\n", "expect a >= b - 1 * c\n"},
		{"logical operators", "expect a and b or c\n", "expect a and b or c\n"},
		{"unary minus is tight", "let x = - 1\n", "let x = -1\n"},
		{"an arg before a parenthesised word stays there", "a b k=1 (2) x=3\n", "a b k=1 (2) x=3\n"},
		{"an arg before a word 'and' stays there", "a b k=1 and\n", "a b k=1 and\n"},
		{"lists", "a [ 1 ,2,  3 ]\n", "a [1, 2, 3]\n"},
		{"multi-line list joined", "a [\n  1,\n  2,\n]\n", "a [1, 2]\n"},
		{"empty list", "a [ ]\n", "a []\n"},
		{"ranges", "for i in 1 .. 5 {\n}\n", "for i in 1..5 {\n}\n"},
		{"calls", "a c=percentile( 99.99 , k = v )\n", "a c=percentile(99.99, k=v)\n"},
		{"call args keep source order", "a f(k=v, 1)\n", "a f(k=v, 1)\n"},
		{"dotted refs", "expect teacher . accuracy > 1\n", "expect teacher.accuracy > 1\n"},
		{"parentheses kept", "let x = ( a + b ) * c\n", "let x = (a + b) * c\n"},
		{"literals as written", "a 1e-3 2.5E+4 0.50% 5ms 007 \"\\u00e9\"\n", "a 1e-3 2.5E+4 0.50% 5ms 007 \"\\u00e9\"\n"},
		{"block indented two spaces", "repeat 3 { a; b }\n", "repeat 3 {\n  a\n  b\n}\n"},
		{"empty block", "repeat 3 {}\n", "repeat 3 {\n}\n"},
		{"nested blocks", "for b in [2] { repeat 2 { a } }\n", "for b in [2] {\n  repeat 2 {\n    a\n  }\n}\n"},
		{"blank lines collapsed to one", "a\n\n\n\nb\n", "a\n\nb\n"},
		{"blank lines at file edges dropped", "\n\na\n\n", "a\n"},
		{"blank lines at block edges dropped", "repeat 2 {\n\n  a\n\n}\n", "repeat 2 {\n  a\n}\n"},
		{"newline added at end", "a", "a\n"},
		{"CRLF becomes LF", "a\r\n\r\n\r\nb # c\r\n", "a\n\nb # c\n"},
		{"trailing whitespace removed", "a   \n# c  \t\n", "a\n# c\n"},
		{"own-line comment keeps block indent", "repeat 2 {\n# c\na\n}\n", "repeat 2 {\n  # c\n  a\n}\n"},
		{"trailing comments aligned in a run", "a # 1\nbbb # 2\n", "a   # 1\nbbb # 2\n"},
		{"blank line ends an alignment run", "a # 1\n\nbbb # 2\n", "a # 1\n\nbbb # 2\n"},
		{"own-line comment ends an alignment run", "a # 1\n# x\nbbb # 2\n", "a # 1\n# x\nbbb # 2\n"},
		{"comment after semicolon trails last statement", "a; b # c\n", "a\nb # c\n"},
		{"comment after { and }", "repeat 2 { # open\n a\n} # close\n", "repeat 2 { # open\n  a\n} # close\n"},
		{"comment inside a statement moves before it", "a [1, # one\n 2]\n", "# one\na [1, 2]\n"},
		{"comment at end of block", "repeat 2 {\n  a\n  # end\n}\n", "repeat 2 {\n  a\n  # end\n}\n"},
		{"comment at end of file", "a\n\n# end", "a\n\n# end\n"},
		{"empty file", "", ""},
		{"only blanks", "\n \n\t\n", ""},
		{"only separators", ";;\n;", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ds := Bytes("rule.qpipe", []byte(c.in))
			if ds.HasErrors() {
				t.Fatalf("unexpected errors: %v", ds)
			}
			if string(got) != c.want {
				t.Errorf("Bytes(%q)\n got %q\nwant %q", c.in, got, c.want)
			}
			assertSameTree(t, []byte(c.in), got)
			if again, _ := Bytes("rule.qpipe", got); string(again) != string(got) {
				t.Errorf("not idempotent: %q then %q", got, again)
			}
		})
	}
}

// TestBytesRefusesSyntaxErrors checks that a broken file is left alone and
// every syntax error comes back.
func TestBytesRefusesSyntaxErrors(t *testing.T) {
	out, ds := Bytes("bad.qpipe", []byte("model x\ntrain =3\ndata \"open\n"))
	if out != nil {
		t.Errorf("formatted a file with syntax errors: %q", out)
	}
	want := []string{
		`bad.qpipe:2:7: error: unexpected "="`,
		`bad.qpipe:3:6: error: unterminated string`,
	}
	if got := strings.Split(ds.Error(), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", ds.Error(), strings.Join(want, "\n"))
	}
}

// TestSourceOfParsedFile checks Source on a tree the caller parsed.
func TestSourceOfParsedFile(t *testing.T) {
	f, ds := syntax.ParseString("x.qpipe", "model  swin-micro ;data fashion-mnist")
	if ds != nil {
		t.Fatal(ds)
	}
	if got := string(Source(f)); got != "model swin-micro\ndata fashion-mnist\n" {
		t.Errorf("got %q", got)
	}
}
