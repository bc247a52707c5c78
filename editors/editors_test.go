package editors_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/syntax"
	"github.com/qpipe/qpipe/stdlib"
)

const sample = "testdata/sample.qpipe"

// need fails the test when a tool is missing, saying how to install it.
func need(t *testing.T, tool, install string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s is not installed; install it with: %s", tool, install)
	}
	return path
}

func abs(t *testing.T, path string) string {
	t.Helper()
	p, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// spot is a place in the sample and what it must look like there.
type spot struct {
	line, col int
	want      string
}

func TestSampleIsAValidRecipe(t *testing.T) {
	text, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	f, ds := syntax.Parse(sample, text)
	_, cds := check.Check(f, stdlib.Env(), check.Options{})
	if ds = append(ds, cds...); ds.HasErrors() {
		t.Fatalf("the highlighting sample must check cleanly:\n%v", ds)
	}
}

func TestVimHighlighting(t *testing.T) {
	vim := need(t, "vim", "apt-get install -y vim-nox")
	spots := []spot{
		{1, 3, "qpipeComment"}, {2, 1, "qpipeVerb"}, {2, 7, "qpipeWord"}, {3, 6, "qpipeWord"},
		{5, 9, "qpipeWord"}, {5, 14, "qpipeWord"}, {6, 9, "qpipeArg"}, {6, 33, "qpipeNumber"},
		{7, 10, "qpipeWord"}, {7, 15, "qpipeArg"}, {7, 24, "qpipeArg"}, {7, 34, "qpipeWord"}, {7, 45, "qpipeNumber"},
		{8, 1, "qpipeKeyword"}, {9, 1, "qpipeKeyword"}, {10, 3, "qpipeVerb"}, {12, 1, "qpipeKeyword"},
		{12, 17, "qpipeOperator"}, {12, 40, "qpipePercent"}, {13, 1, "qpipeVerb"}, {13, 13, "qpipeString"},
	}
	out := filepath.Join(t.TempDir(), "out")
	script := filepath.Join(t.TempDir(), "probe.vim")
	var b strings.Builder
	fmt.Fprintf(&b, "set nocompatible\nlet &runtimepath = '%s,' . &runtimepath\nfiletype plugin on\nsyntax on\n", abs(t, "vim"))
	fmt.Fprintf(&b, "edit %s\nlet out = [&filetype, &commentstring, &formatprg]\n", abs(t, sample))
	for _, s := range spots {
		fmt.Fprintf(&b, "call add(out, synIDattr(synID(%d, %d, 1), 'name'))\n", s.line, s.col)
	}
	fmt.Fprintf(&b, "call writefile(out, '%s')\nqall!\n", out)
	os.WriteFile(script, []byte(b.String()), 0o644)
	cmd := exec.Command(vim, "-Nu", "NONE", "-i", "NONE", "-es", "-S", script)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("vim: %v\n%s", err, msg)
	}
	got := readLines(t, out)
	want := []string{"qpipe", "# %s", "qpipe fmt"}
	for _, s := range spots {
		want = append(want, s.want)
	}
	compare(t, spots, got, want)
}

func TestEmacsHighlighting(t *testing.T) {
	emacs := need(t, "emacs", "apt-get install -y emacs-nox")
	spots := []spot{
		{1, 3, "font-lock-comment-face"}, {2, 1, "font-lock-builtin-face"}, {2, 7, "font-lock-constant-face"},
		{5, 9, "font-lock-constant-face"}, {6, 9, "font-lock-variable-name-face"}, {6, 33, "font-lock-constant-face"},
		{7, 24, "font-lock-variable-name-face"}, {7, 34, "font-lock-constant-face"}, {8, 1, "font-lock-keyword-face"}, {9, 1, "font-lock-keyword-face"},
		{10, 3, "font-lock-builtin-face"}, {12, 1, "font-lock-keyword-face"}, {12, 40, "font-lock-constant-face"},
		{13, 1, "font-lock-builtin-face"}, {13, 13, "font-lock-string-face"},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "(progn (find-file %q) (font-lock-ensure)\n", abs(t, sample))
	b.WriteString(`(princ (format "%s\n%s\n%S\n" major-mode comment-start (assoc 'qpipe-mode eglot-server-programs)))`)
	for _, s := range spots {
		fmt.Fprintf(&b, "(goto-char (point-min)) (forward-line %d) (forward-char %d) (princ (format \"%%s\\n\" (get-text-property (point) 'face)))\n", s.line-1, s.col-1)
	}
	b.WriteString(")")
	// Emacs 28 has no built-in eglot: a stand-in feature lets the mode's
	// with-eval-after-load entry run, so its shape is checked.
	stub := "(unless (require 'eglot nil t) (defvar eglot-server-programs nil) (provide 'eglot))"
	cmd := exec.Command(emacs, "--batch", "-Q", "--eval", stub, "-l", abs(t, "emacs/qpipe-mode.el"), "--eval", b.String())
	msg, err := cmd.Output()
	if err != nil {
		t.Fatalf("emacs: %v\n%s", err, msg)
	}
	got := strings.Split(strings.TrimRight(string(msg), "\n"), "\n")
	want := []string{"qpipe-mode", "# ", `(qpipe-mode "qpipe" "lsp")`}
	for _, s := range spots {
		want = append(want, s.want)
	}
	compare(t, spots, got, want)
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// compare checks the three settings lines, then one line per spot.
func compare(t *testing.T, spots []spot, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range 3 {
		if got[i] != want[i] {
			t.Errorf("setting %d = %q, want %q", i, got[i], want[i])
		}
	}
	for i, s := range spots {
		if got[i+3] != s.want {
			t.Errorf("%s:%d:%d highlighted as %q, want %q", sample, s.line, s.col, got[i+3], s.want)
		}
	}
}

// npx runs a tool installed in editors/vscode/node_modules.
func npx(t *testing.T, args ...string) string {
	t.Helper()
	npx := need(t, "npx", "apt-get install -y nodejs npm")
	if _, err := os.Stat("vscode/node_modules/.bin/" + args[0]); err != nil {
		t.Fatalf("%s is not installed; run `npm ci` in editors/vscode", args[0])
	}
	cmd := exec.Command(npx, append([]string{"--no-install"}, args...)...)
	cmd.Dir = "vscode"
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npx %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestVSCodeGrammar(t *testing.T) {
	out := npx(t, "vscode-tmgrammar-test", "-g", "syntaxes/qpipe.tmLanguage.json", "test/sample.qpipe")
	if !strings.Contains(out, "run successfuly") {
		t.Errorf("vscode-tmgrammar-test:\n%s", out)
	}
}

func TestVSCodePackage(t *testing.T) {
	vsix := filepath.Join(t.TempDir(), "qpipe.vsix")
	npx(t, "vsce", "package", "-o", vsix)
	z, err := zip.OpenReader(vsix)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	have := map[string]bool{}
	for _, f := range z.File {
		have[f.Name] = true
	}
	for _, want := range []string{"extension/package.json", "extension/extension.js",
		"extension/language-configuration.json", "extension/syntaxes/qpipe.tmLanguage.json",
		"extension/node_modules/vscode-languageclient/package.json", "extension/LICENSE.txt"} {
		if !have[want] {
			t.Errorf("%s lacks %s", vsix, want)
		}
	}
	if have["extension/test/sample.qpipe"] {
		t.Error("the package includes the grammar tests")
	}
	root, err := os.ReadFile("../LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	if ext, err := os.ReadFile("vscode/LICENSE"); err != nil || !bytes.Equal(ext, root) {
		t.Errorf("editors/vscode/LICENSE must be a copy of the repository's LICENSE (%v)", err)
	}
}
