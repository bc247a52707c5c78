package syntax

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
)

// regexpLexer is the rule list lexer.go implements by hand, as
// participle's regexp lexer: the reference the hand-written one must match.
var regexpLexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Comment", Pattern: `#[^\n]*`},
	{Name: "String", Pattern: `"(\\.|[^"\\\n])*"`},
	{Name: "Percent", Pattern: `[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?%`},
	{Name: "Quantity", Pattern: `[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?[A-DF-Za-df-z][A-Za-z]*`},
	{Name: "Float", Pattern: `[0-9]+(\.[0-9]+([eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)`},
	{Name: "Int", Pattern: `[0-9]+`},
	{Name: "Ident", Pattern: `[A-Za-z_][A-Za-z0-9_]*(-[A-Za-z][A-Za-z0-9_]*)*`},
	{Name: "Range", Pattern: `\.\.`},
	{Name: "Op", Pattern: `==|!=|<=|>=|[-+*/<>]`},
	{Name: "Punct", Pattern: `[=(),\[\]{}.;]`},
	{Name: "Newline", Pattern: `\r?\n`},
	{Name: "Space", Pattern: `[ \t\r]+`},
})

// lexBoth describes the first difference between the two lexers on text.
func lexBoth(text string) string {
	want := tokensOf(regexpLexer, text)
	got := tokensOf(recipeLexer, text)
	for i := 0; i < max(len(got), len(want)); i++ {
		if i >= len(got) || i >= len(want) || got[i] != want[i] {
			return fmt.Sprintf("lexing %q: token %d differs:\n got %v\nwant %v", text, i, got[min(i, len(got)-1)], want[min(i, len(want)-1)])
		}
	}
	return ""
}

// tokensOf lists "Type:value@offset:line:col" for each token, ending in
// the error text or EOF.
func tokensOf(def lexer.Definition, text string) []string {
	names := lexer.SymbolsByRune(def)
	lex, err := def.(lexer.StringDefinition).LexString("t", text)
	if err != nil {
		return []string{"error " + err.Error()}
	}
	var out []string
	for {
		t, err := lex.Next()
		if err != nil {
			return append(out, "error "+err.Error())
		}
		out = append(out, fmt.Sprintf("%s:%q@%d:%d:%d", names[t.Type], t.Value, t.Pos.Offset, t.Pos.Line, t.Pos.Column))
		if t.EOF() {
			return out
		}
	}
}

// TestLexerMatchesRules compares the hand-written lexer with the regexp
// rules on every test input and on random text over the language's
// alphabet.
func TestLexerMatchesRules(t *testing.T) {
	paths, _ := filepath.Glob("testdata/*/*.qpipe")
	for _, p := range paths {
		if msg := lexBoth(string(readFile(t, p))); msg != "" {
			t.Error(p + ": " + msg)
		}
	}
	cases := []string{"1e5%", "1e%", "1.%", "1ex", "1.5e", "1.x", "5m%", "2MB", "1e3us", "1E+5", "1e-", "1..5",
		"a-b-c", "a-1", "a--b", "\"\\\"\"", "\"a\\\n\"", "\"\\", "\r\r\n", " \t\r\n", "!=", "!", "==", "=<", "<=",
		"é", "#x\r\n", "\"ü\"", "a.b..c", "1.5.6", "_x-y_z"}
	for _, c := range cases {
		if msg := lexBoth(c); msg != "" {
			t.Error(msg)
		}
	}
	rng := rand.New(rand.NewSource(1))
	alphabet := []byte("aeEzZ_09.-+%\"\\#\n\r\t =!<>()[]{},;*/m5é")
	for range 20000 {
		b := make([]byte, rng.Intn(12))
		for i := range b {
			b[i] = alphabet[rng.Intn(len(alphabet))]
		}
		if msg := lexBoth(string(b)); msg != "" {
			t.Fatal(msg)
		}
	}
}

// FuzzLexer compares the hand-written lexer with the regexp rules on
// arbitrary text:
//
//	go test ./lang/syntax -run='^$' -fuzz='^FuzzLexer$' -fuzztime=30s
func FuzzLexer(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*/*.qpipe")
	for _, p := range paths {
		if text, err := os.ReadFile(p); err == nil {
			f.Add(string(text))
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		if msg := lexBoth(text); msg != "" {
			t.Fatal(msg)
		}
	})
}
