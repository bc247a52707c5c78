package scripts

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readmeCommands returns the lines of the README's first code block: the
// two commands a new user runs.
func readmeCommands(t *testing.T, readme string) []string {
	t.Helper()
	f, err := os.Open(readme)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case !in && strings.HasPrefix(line, "```"):
			in = true
		case in && strings.HasPrefix(line, "```"):
			return lines
		case in && line != "":
			lines = append(lines, line)
		}
	}
	t.Fatalf("%s has no code block", readme)
	return nil
}

// git runs git in dir and returns its trimmed output.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// cleanEnv is the test's environment without what an outer make passes
// down, so the command in the clone reads only the settings given here.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "DEPSFLAGS", "PKGS", "PUREGO_PKGS", "AVX2_PKGS", "TESTFLAGS", "QPIPE_DEPS_ROOT":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// TestReadmeTestCommandInFreshClone clones the committed repository into a
// temporary folder and runs the README's test command there, with
// scripts/deps.sh in dry-run mode and the tests narrowed to one small
// package: the command works from a clone placed anywhere, and this
// machine has every Debian package the tests need (a fresh clone has no
// node_modules yet, so the npm ci steps are the only work left).
func TestReadmeTestCommandInFreshClone(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is not on PATH; scripts/deps.sh installs it")
	}
	src, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(src, ".git")); err != nil {
		t.Skipf("%s is not a git checkout (%v); nothing to clone", src, err)
	}
	cmds := readmeCommands(t, filepath.Join(src, "README.md"))
	if len(cmds) != 2 {
		t.Fatalf("README's first code block has %d commands, want 2: %q", len(cmds), cmds)
	}
	head := git(t, src, "rev-parse", "HEAD")
	clone := filepath.Join(t.TempDir(), "somewhere", "qpipe")
	git(t, src, "clone", "-q", "--no-checkout", src, clone)
	git(t, clone, "checkout", "-q", "--detach", head)

	cmd := exec.Command("sh", "-c", cmds[1])
	cmd.Dir = clone
	cmd.Env = cleanEnv("DEPSFLAGS=--dry-run", "PKGS=./internal/spell", "PUREGO_PKGS=./ops/cpu/gemm", "AVX2_PKGS=./ops/cpu/gemm")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%q in the clone: %v\n%s", cmds[1], err, out)
	}
	text := string(out)
	if !strings.Contains(text, "apt: nothing to install\n") {
		t.Errorf("deps.sh --dry-run in the clone lists Debian packages to install on this machine:\n%s", text)
	}
	for _, d := range depsList(t) {
		if d.kind == "npm" && !strings.Contains(text, fmt.Sprintf("npm: would run (cd %s && npm ci", d.name)) {
			t.Errorf("a fresh clone has no %s/node_modules, yet deps.sh does not plan npm ci there:\n%s", d.name, text)
		}
	}
	if !strings.Contains(text, "ok  \tgithub.com/qpipe/qpipe/internal/spell") {
		t.Errorf("the tests did not run in the clone:\n%s", text)
	}
	if !strings.Contains(text, "-tags purego ./ops/cpu/gemm\n") || !strings.Contains(text, "GODEBUG=cpu.avx512f=off") ||
		strings.Count(text, "ok  \tgithub.com/qpipe/qpipe/ops/cpu/gemm") != 2 {
		t.Errorf("the purego and AVX2 runs did not both run in the clone:\n%s", text)
	}
}
