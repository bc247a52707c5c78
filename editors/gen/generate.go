package main

import (
	"bytes"
	"embed"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/qpipe/qpipe/editors/vocab"
)

//go:embed templates/*.tmpl
var templates embed.FS

// regenerate is the line every generated file starts with, in the file's
// comment syntax.
const regenerate = "Generated from the stdlib signatures by `go generate ./editors` (editors/gen); do not edit."

// Generate returns every generated file, keyed by its path under editors/.
func Generate() (map[string][]byte, error) {
	v := load()
	out := map[string][]byte{}
	for path, tmpl := range map[string]string{
		"vim/syntax/qpipe.vim": "qpipe.vim.tmpl",
		"emacs/qpipe-mode.el":  "qpipe-mode.el.tmpl",
	} {
		b, err := render(tmpl, v)
		if err != nil {
			return nil, err
		}
		out[path] = b
	}
	tm, err := textMate(v)
	if err != nil {
		return nil, err
	}
	out["vscode/syntaxes/qpipe.tmLanguage.json"] = tm
	return out, nil
}

func render(name string, v Vocab) ([]byte, error) {
	t, err := template.New(name).Funcs(template.FuncMap{
		"vimAlt":    func(names []string) string { return alternation(names, vimQuote, `\|`) },
		"elispList": elispList,
		"join":      strings.Join,
		"header":    func() string { return regenerate },
	}).ParseFS(templates, "templates/"+name)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// vimQuote escapes a name for a Vim pattern; names are identifiers, whose
// characters (letters, digits, '_' and '-') are literal in Vim's magic mode.
func vimQuote(s string) string { return s }

// elispList writes names as Emacs Lisp strings, wrapped at 72 columns.
func elispList(names []string, indent int) string {
	var b strings.Builder
	col := indent
	for i, n := range names {
		q := `"` + n + `"`
		if i > 0 && col+len(q)+1 > 72 {
			b.WriteString("\n" + strings.Repeat(" ", indent))
			col = indent
		} else if i > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(q)
		col += len(q)
	}
	return b.String()
}

func sortedPaths(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// rule is one TextMate pattern.
type rule struct {
	Name     string          `json:"name,omitempty"`
	Match    string          `json:"match,omitempty"`
	Begin    string          `json:"begin,omitempty"`
	End      string          `json:"end,omitempty"`
	Captures map[string]rule `json:"captures,omitempty"`
	Patterns []rule          `json:"patterns,omitempty"`
}

type grammar struct {
	Comment   string   `json:"//"`
	Name      string   `json:"name"`
	ScopeName string   `json:"scopeName"`
	FileTypes []string `json:"fileTypes"`
	Patterns  []rule   `json:"patterns"`
}

// word bounds a name: identifiers may hold '-' as in swin-micro.
const before, after = `(?<![A-Za-z0-9_.-])`, `(?![A-Za-z0-9_-])`

// textMate writes the VS Code grammar; its first line carries the
// regenerate note as a "//" member, JSON having no comments.
func textMate(v Vocab) ([]byte, error) {
	alt := func(names []string) string { return alternation(names, regexp.QuoteMeta, "|") }
	g := grammar{
		Comment: regenerate, Name: "qpipe", ScopeName: "source.qpipe", FileTypes: []string{"qpipe"},
		Patterns: []rule{
			{Name: vocab.Scope[vocab.Comment], Match: `#.*$`},
			{Name: vocab.Scope[vocab.String], Begin: `"`, End: `"|$`,
				Patterns: []rule{{Name: "constant.character.escape.qpipe", Match: `\\.`}}},
			{Name: vocab.Scope[vocab.Keyword], Match: before + "(?:" + alt(v.Keywords) + ")" + after},
			{Match: `(?:^|(?<=[;{]))\s*(` + alt(v.Verbs) + ")" + after,
				Captures: map[string]rule{"1": {Name: vocab.Scope[vocab.Verb]}}},
			{Match: before + "(" + alt(v.Args) + ")(=)(?!=)",
				Captures: map[string]rule{"1": {Name: vocab.Scope[vocab.Arg]}, "2": {Name: vocab.Scope[vocab.Assign]}}},
			{Name: vocab.Scope[vocab.Word], Match: before + "(?:" + alt(v.Words) + ")" + after},
			{Name: vocab.Scope[vocab.Percent], Match: `(?<![A-Za-z0-9_])[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?%`},
			{Name: vocab.Scope[vocab.Number], Match: `(?<![A-Za-z0-9_])[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?(?:[A-DF-Za-df-z][A-Za-z]*)?`},
			{Name: vocab.Scope[vocab.Operator], Match: `==|!=|<=|>=|\.\.|[-+*/<>=]`},
		},
	}
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return nil, err
	}
	// Put the "//" member on the first line.
	b = bytes.Replace(b, []byte("{\n  \"//\""), []byte("{\"//\""), 1)
	return append(b, '\n'), nil
}
