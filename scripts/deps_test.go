package scripts

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// dep is one line of deps.sh's list.
type dep struct{ kind, name, proof string }

// depsList parses the list in deps.sh (the heredoc read into
// DEPS), so the tests follow the list instead of repeating it.
func depsList(t *testing.T) []dep {
	t.Helper()
	b, err := os.ReadFile("deps.sh")
	if err != nil {
		t.Fatal(err)
	}
	var out []dep
	in := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "read -r -d '' DEPS <<'EOF'"):
			in = true
		case in && line == "EOF":
			return out
		case in:
			f := strings.Fields(line)
			if len(f) < 4 {
				t.Fatalf("deps.sh list line %q: want KIND NAME PROOF NEEDED-BY", line)
			}
			out = append(out, dep{f[0], f[1], f[2]})
		}
	}
	t.Fatal("deps.sh: no list found")
	return nil
}

// names lists the names of the deps of a kind, in list order, skipping
// those for which present says true.
func names(deps []dep, kind string, present func(dep) bool) []string {
	var out []string
	for _, d := range deps {
		if d.kind == kind && (present == nil || !present(d)) {
			out = append(out, d.name)
		}
	}
	return out
}

// fakeMachine is a copy of deps.sh in a fake repository, run with a fake
// root (QPIPE_DEPS_ROOT) and a PATH of real shell tools plus fake
// commands; fake apt-get and npm append what they were asked to do to log.
type fakeMachine struct {
	t          *testing.T
	repo, root string
	bin, log   string
}

// realTools are what deps.sh itself runs; nothing else of the host's PATH
// is visible to it (chmod, mkdir and touch serve the fake installs).
var realTools = []string{"bash", "sh", "sed", "tr", "dirname", "env", "mkdir", "touch", "cat", "chmod"}

func newFakeMachine(t *testing.T, deps []dep) *fakeMachine {
	t.Helper()
	dir := t.TempDir()
	m := &fakeMachine{t: t, repo: filepath.Join(dir, "repo"), root: filepath.Join(dir, "root"),
		bin: filepath.Join(dir, "bin"), log: filepath.Join(dir, "log")}
	for _, d := range []string{m.root, m.bin, filepath.Join(m.repo, "scripts")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script, err := os.ReadFile("deps.sh")
	if err != nil {
		t.Fatal(err)
	}
	m.write(filepath.Join(m.repo, "scripts", "deps.sh"), string(script), 0o755)
	m.write(filepath.Join(m.repo, "go.mod"), "module example.com/fake\n\ngo 1.26\n", 0o644)
	for _, d := range deps {
		if d.kind == "npm" {
			m.write(filepath.Join(m.repo, d.name, "package-lock.json"), "{}\n", 0o644)
		}
	}
	for _, tool := range realTools {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s is not on PATH", tool)
		}
		if err := os.Symlink(p, filepath.Join(m.bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	m.command("go", "exit 0")
	m.command("id", `[ "$1" = -u ] && echo 1000`)
	// apt-get logs its arguments and, for install, runs each package's
	// hook: what installing it would put on the machine.
	m.command("apt-get", `echo "apt-get $*" >>`+m.log+`
[ "$1" = install ] || exit 0
for p in "$@"; do [ -x `+m.hooks()+`/"$p" ] && `+m.hooks()+`/"$p"; done; exit 0`)
	for _, d := range deps {
		if d.kind == "apt" {
			m.write(filepath.Join(m.hooks(), d.name), "#!/bin/bash\n"+m.installText(d)+"\n", 0o755)
		}
	}
	return m
}

func (m *fakeMachine) hooks() string { return filepath.Join(filepath.Dir(m.bin), "hooks") }

// installText is a shell command that makes a dependency's proof present,
// as its package would. npm's fake logs where it ran and what it was asked,
// and leaves the stamp npm ci writes.
func (m *fakeMachine) installText(d dep) string {
	if strings.HasPrefix(d.proof, "/") {
		p := filepath.Join(m.root, d.proof)
		return "mkdir -p " + filepath.Dir(p) + " && touch " + p
	}
	body := "exit 0"
	if d.proof == "npm" {
		body = `echo "npm ${PWD#` + m.repo + `/} $*" >>` + m.log + `; mkdir -p node_modules; touch node_modules/.package-lock.json`
	}
	path := filepath.Join(m.bin, d.proof)
	return "printf '%s\\n' '#!/bin/bash' '" + body + "' >" + path + " && chmod +x " + path
}

func (m *fakeMachine) write(path, text string, mode os.FileMode) {
	m.t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		m.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		m.t.Fatal(err)
	}
}

// command puts a fake command on the fake PATH.
func (m *fakeMachine) command(name, body string) {
	m.write(filepath.Join(m.bin, name), "#!/bin/bash\n"+body+"\n", 0o755)
}

// install makes a dependency's proof present, as its package would.
func (m *fakeMachine) install(d dep) {
	m.t.Helper()
	if out, err := exec.Command(filepath.Join(m.hooks(), d.name)).CombinedOutput(); err != nil {
		m.t.Fatalf("installing fake %s: %v %s", d.name, err, out)
	}
}

// run runs deps.sh with args from outside the repository (it must find its
// own folder), returning stdout, stderr and the exit code.
func (m *fakeMachine) run(args ...string) (string, string, int) {
	m.t.Helper()
	cmd := exec.Command(filepath.Join(m.bin, "bash"), append([]string{filepath.Join(m.repo, "scripts", "deps.sh")}, args...)...)
	cmd.Dir = m.root
	cmd.Env = []string{"PATH=" + m.bin, "QPIPE_DEPS_ROOT=" + m.root, "HOME=" + m.root}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		m.t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// logged is what the fake apt-get and npm were asked to do.
func (m *fakeMachine) logged() []string {
	b, err := os.ReadFile(m.log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		m.t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func TestDepsListIsWellFormed(t *testing.T) {
	deps := depsList(t)
	apt := names(deps, "apt", nil)
	for _, want := range []string{"graphviz", "vim-nox", "emacs-nox", "nodejs", "npm", "python3-onnx", "python3-torch", "python3-sklearn", "dataset-fashion-mnist"} {
		if !slices.Contains(apt, want) {
			t.Errorf("deps.sh list has no apt line for %s", want)
		}
	}
	for _, d := range deps {
		switch d.kind {
		case "apt":
			if strings.Contains(d.proof, "/") && !strings.HasPrefix(d.proof, "/") {
				t.Errorf("%s: proof %q must be a command name or an absolute path", d.name, d.proof)
			}
		case "npm":
			if _, err := os.Stat(filepath.Join("..", d.name, "package-lock.json")); err != nil {
				t.Errorf("npm line %s: %v", d.name, err)
			}
		default:
			t.Errorf("unknown kind %q for %s", d.kind, d.name)
		}
	}
}

func TestDepsDryRunOnBareMachineListsEverything(t *testing.T) {
	deps := depsList(t)
	m := newFakeMachine(t, deps)
	out, errOut, code := m.run("--dry-run")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := "apt: would install " + strings.Join(names(deps, "apt", nil), " ") + "\n" +
		"npm: would run (cd editors/vscode && npm ci --no-audit --no-fund --no-update-notifier)\n" +
		"npm: would run (cd scripts/ort && npm ci --ignore-scripts --no-audit --no-fund --no-update-notifier)\n"
	if out != want {
		t.Errorf("dry run printed\n%s\nwant\n%s", out, want)
	}
	if got := m.logged(); got != nil {
		t.Errorf("dry run ran %q", got)
	}
}

func TestDepsWithoutRootPrintsTheOneCommandAndStops(t *testing.T) {
	deps := depsList(t)
	m := newFakeMachine(t, deps)
	present := func(d dep) bool { return d.name == "git" || d.name == "make" || d.name == "python3-onnx" }
	for _, d := range deps {
		if d.kind == "apt" && present(d) {
			m.install(d)
		}
	}
	_, errOut, code := m.run()
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, errOut)
	}
	missing := names(deps, "apt", present)
	if !slices.Contains(missing, "graphviz") || slices.Contains(missing, "python3-onnx") {
		t.Fatalf("test setup: missing = %v", missing)
	}
	want := "  sudo sh -c 'apt-get update && apt-get install -y -qq --no-install-recommends " + strings.Join(missing, " ") + "'\n"
	if !strings.HasSuffix(errOut, want) || !strings.Contains(errOut, "then run make test again") {
		t.Errorf("stderr:\n%s\nwant it to end with\n%s", errOut, want)
	}
	if got := m.logged(); got != nil {
		t.Errorf("without root it ran %q; it must stop before installing anything", got)
	}
}

func TestDepsWithSudoInstallsOnlyWhatIsMissingThenNothing(t *testing.T) {
	deps := depsList(t)
	m := newFakeMachine(t, deps)
	m.command("sudo", `[ "$1" = -n ] && shift; [ "$1" = true ] && exit 0; exec "$@"`)
	present := func(d dep) bool { return d.name == "git" || d.name == "nodejs" || d.name == "dataset-fashion-mnist" }
	for _, d := range deps {
		if d.kind == "apt" && present(d) {
			m.install(d)
		}
	}
	out, errOut, code := m.run()
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	want := []string{
		"apt-get update -qq",
		"apt-get install -y -qq --no-install-recommends " + strings.Join(names(deps, "apt", present), " "),
		"npm editors/vscode ci --no-audit --no-fund --no-update-notifier",
		"npm scripts/ort ci --ignore-scripts --no-audit --no-fund --no-update-notifier",
	}
	if got := m.logged(); !slices.Equal(got, want) {
		t.Fatalf("ran\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// What apt-get installed is now there: a second run on the ready
	// machine installs and runs nothing.
	start := time.Now()
	out, errOut, code = m.run()
	t.Logf("second run on a ready machine: %v", time.Since(start))
	if code != 0 || out != "" || errOut != "" {
		t.Errorf("second run: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if got := m.logged(); len(got) != len(want) {
		t.Errorf("second run ran %q", got[len(want):])
	}

	// A lock file newer than its node_modules means npm ci again, there only.
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(m.repo, "scripts/ort/package-lock.json"), future, future); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code = m.run(); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got := m.logged(); !slices.Equal(got[len(want):], []string{"npm scripts/ort ci --ignore-scripts --no-audit --no-fund --no-update-notifier"}) {
		t.Errorf("after the lock file changed it ran %q", got[len(want):])
	}
}

func TestDepsWithoutAptGetSaysSo(t *testing.T) {
	deps := depsList(t)
	m := newFakeMachine(t, deps)
	if err := os.Remove(filepath.Join(m.bin, "apt-get")); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := m.run()
	if code != 1 || !strings.Contains(errOut, "this machine has no apt-get: "+strings.Join(names(deps, "apt", nil), " ")) {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
	if got := m.logged(); got != nil {
		t.Errorf("ran %q", got)
	}
}

func TestDepsRejectsUnknownArgument(t *testing.T) {
	m := newFakeMachine(t, depsList(t))
	if _, errOut, code := m.run("--yes"); code != 2 || !strings.Contains(errOut, "unknown argument --yes") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestReadmeQuotesTheList: the lines the README shows under "What the
// tests need" are lines of deps.sh's list, word for word.
func TestReadmeQuotesTheList(t *testing.T) {
	b, err := os.ReadFile("deps.sh")
	if err != nil {
		t.Fatal(err)
	}
	list := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		list[strings.Join(strings.Fields(line), " ")] = true
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## What the tests need")
	if !ok {
		t.Fatal(`README.md has no "What the tests need" section`)
	}
	_, block, _ := strings.Cut(section, "```\n")
	block, _, _ = strings.Cut(block, "```")
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		n++
		if !list[strings.Join(strings.Fields(line), " ")] {
			t.Errorf("README quotes %q, which is not a line of scripts/deps.sh's list", line)
		}
	}
	if n < 2 {
		t.Errorf("README's sample of the list has %d lines", n)
	}
}
