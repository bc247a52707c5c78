// Command mutate is qpipe's mutation check: it copies the module to a
// temporary directory, applies each deliberate kernel bug of mutations.go
// there (one at a time), runs the tests that must catch it, and prints a
// Markdown table of the bugs and the tests that failed. The working tree
// is never modified.
//
//	go run ./internal/mutate              # every mutation (a few minutes)
//	go run ./internal/mutate -run conv    # those whose name contains "conv"
//	go run ./internal/mutate -list        # the bugs, without running
//
// It exits 1 when a bug goes uncaught (a gap in the suite), when an edit
// no longer applies (update mutations.go after changing the code it
// targets), or when the tests fail before any bug is applied.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

func main() {
	filter := flag.String("run", "", "run only the mutations whose name contains this")
	list := flag.Bool("list", false, "list the mutations and exit")
	flag.Parse()
	if err := run(os.Stdout, *filter, *list); err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, filter string, list bool) error {
	var chosen []mutation
	for _, m := range mutations {
		if strings.Contains(m.name, filter) {
			chosen = append(chosen, m)
		}
	}
	if list {
		for _, m := range chosen {
			fmt.Fprintf(w, "%-28s %s (%s)\n", m.name, m.bug, m.file)
		}
		return nil
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "qpipe-mutate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := copyTree(root, tmp); err != nil {
		return err
	}
	if err := baseline(tmp, chosen); err != nil {
		return err
	}
	fmt.Fprintln(w, "| mutation | deliberate bug | file | caught by | seconds |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	missed := 0
	for _, m := range chosen {
		o, err := try(tmp, m)
		if err != nil {
			return err
		}
		caught := strings.Join(o.failed, ", ")
		switch {
		case o.buildFailed:
			caught = "NOT CAUGHT: the mutated code does not build"
			missed++
		case len(o.failed) == 0:
			caught = "NOT CAUGHT"
			missed++
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %.0f |\n", m.name, m.bug, m.file, caught, o.seconds)
	}
	if missed > 0 {
		return fmt.Errorf("%d of %d deliberate bugs went uncaught", missed, len(chosen))
	}
	return nil
}

// moduleRoot is the directory of the main module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run it inside the qpipe module")
	}
	return filepath.Dir(mod), nil
}

// copyTree copies the files git knows of (tracked, or untracked but not
// ignored) from root to dst.
func copyTree(root, dst string) error {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("git ls-files in %s: %v", root, err)
	}
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, rel)
		st, err := os.Lstat(src)
		if err != nil || !st.Mode().IsRegular() {
			continue // deleted in the work tree, or a link
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(to, data, st.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

// apply returns src with m's edits made, or an error naming the edit that
// does not match exactly once.
func apply(m mutation, src string) (string, error) {
	for i, e := range m.edits {
		if n := strings.Count(src, e.old); n != 1 {
			return "", fmt.Errorf("mutation %s: edit %d matches %d times in %s, want once (update internal/mutate/mutations.go)", m.name, i+1, n, m.file)
		}
		src = strings.Replace(src, e.old, e.new, 1)
	}
	return src, nil
}

// outcome is what the tests did with one mutation applied.
type outcome struct {
	failed      []string // failing tests, innermost names first seen
	buildFailed bool
	seconds     float64
}

// try applies m in the copy at dir, runs its tests, and restores the file.
func try(dir string, m mutation) (outcome, error) {
	path := filepath.Join(dir, m.file)
	orig, err := os.ReadFile(path)
	if err != nil {
		return outcome{}, err
	}
	mutated, err := apply(m, string(orig))
	if err != nil {
		return outcome{}, err
	}
	if err := os.WriteFile(path, []byte(mutated), 0o644); err != nil {
		return outcome{}, err
	}
	defer os.WriteFile(path, orig, 0o644)
	start := time.Now()
	out, _ := goTest(dir, m.pkgs, m.run)
	o := parse(out)
	o.seconds = time.Since(start).Seconds()
	return o, nil
}

// baseline runs every distinct test command once without a bug: they must
// pass, or the table would credit them with catching bugs they did not.
func baseline(dir string, ms []mutation) error {
	seen := map[string]bool{}
	for _, m := range ms {
		key := strings.Join(m.pkgs, " ") + " -run " + m.run
		if seen[key] {
			continue
		}
		seen[key] = true
		if out, err := goTest(dir, m.pkgs, m.run); err != nil {
			return fmt.Errorf("without any bug, go test %s fails:\n%s", key, out)
		}
	}
	return nil
}

func goTest(dir string, pkgs []string, run string) (string, error) {
	args := append([]string{"test", "-count=1", "-run", run}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

var (
	failLine   = regexp.MustCompile(`(?m)^\s*--- FAIL: (\S+)`)
	threadPart = regexp.MustCompile(`^(Test\w+)/threads=(\d+)/(.+)$`)
)

// parse lists the failing tests of go test output, dropping a test whose
// subtest is listed too and merging a case that failed at several worker
// counts, and notices build failures.
func parse(out string) outcome {
	var o outcome
	o.buildFailed = strings.Contains(out, "[build failed]") || strings.Contains(out, "[setup failed]")
	var names []string
	for _, m := range failLine.FindAllStringSubmatch(out, -1) {
		names = append(names, m[1])
	}
	threads := map[string][]string{}
	for _, n := range names {
		parent := false
		for _, other := range names {
			parent = parent || strings.HasPrefix(other, n+"/")
		}
		if parent {
			continue
		}
		key := n
		if m := threadPart.FindStringSubmatch(n); m != nil {
			key = m[1] + "/" + m[3]
			if threads[key] != nil {
				threads[key] = append(threads[key], m[2])
				continue
			}
			threads[key] = []string{m[2]}
		}
		o.failed = append(o.failed, key)
	}
	for i, key := range o.failed {
		if ts := threads[key]; ts != nil {
			o.failed[i] = fmt.Sprintf("%s (%s workers)", key, strings.Join(ts, ", "))
		}
	}
	if len(o.failed) > 4 {
		o.failed = append(o.failed[:4], fmt.Sprintf("%d more", len(o.failed)-4))
	}
	return o
}
