package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedFilesAreCurrent fails when a verb, argument or value was
// added to the standard library without regenerating the grammars.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	files, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range sortedPaths(files) {
		disk, err := os.ReadFile(filepath.Join("..", path))
		if err != nil {
			t.Errorf("%s: %v; run `go generate ./editors`", path, err)
			continue
		}
		if !bytes.Equal(disk, files[path]) {
			t.Errorf("editors/%s is stale; run `go generate ./editors`", path)
		}
		first, _, _ := strings.Cut(string(disk), "\n")
		if !strings.Contains(first, "go generate ./editors") {
			t.Errorf("editors/%s: first line %q does not say how to regenerate", path, first)
		}
	}
}

func TestVocabularyComesFromSignatures(t *testing.T) {
	v := load()
	for _, c := range []struct {
		list []string
		name string
	}{{v.Verbs, "quantize"}, {v.Verbs, "distill"}, {v.Args, "bits"}, {v.Args, "from"},
		{v.Words, "log2"}, {v.Words, "gelu"}, {v.Words, "per_channel"}, {v.Keywords, "repeat"}} {
		if !contains(c.list, c.name) {
			t.Errorf("%q missing from %v", c.name, c.list)
		}
	}
	if contains(v.Verbs, "let") {
		t.Error("let is a keyword, not a verb")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
